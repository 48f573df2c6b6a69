/** Worker thread of DigestPool: hashes the files it is sent, one at a time, and posts each result back. */
import { parentPort } from 'node:worker_threads'
import { fsverityDigestFile } from './fsverity-file.js'
import type { PoolRequest, PoolResponse } from './digest-pool.js'

const port = parentPort
if (port === null) throw new Error('digest-worker must run as a worker thread')

port.on('message', (req: PoolRequest) => {
  fsverityDigestFile(req.path).then(
    ({ digest, size }) => { port.postMessage({ id: req.id, digest: digest.toString('hex'), size } satisfies PoolResponse) },
    (err: unknown) => {
      const e = (err as { cause?: NodeJS.ErrnoException }).cause ?? (err as NodeJS.ErrnoException)
      port.postMessage({ id: req.id, error: { message: e.message, code: e.code } } satisfies PoolResponse)
    })
})
