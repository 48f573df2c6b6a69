/** Worker thread of DigestPool: hashes the files it is sent, one at a time, and posts each result back. */
import { parentPort } from 'node:worker_threads'
import { fsverityDigestFileSync } from './fsverity-file.js'
import type { PoolRequest, PoolResponse } from './digest-pool.js'

const port = parentPort
if (port === null) throw new Error('digest-worker must run as a worker thread')

// a worker owns its thread, so blocking reads into one reused buffer cost nothing and allocate nothing
const buf = Buffer.allocUnsafe(1 << 20)

port.on('message', (req: PoolRequest) => {
  let res: PoolResponse
  try {
    const { digest, size } = req.expectSize === undefined ? fsverityDigestFileSync(req.path, buf) : fsverityDigestFileSync(req.path, buf, req.expectSize)
    res = { id: req.id, digest: digest?.toString('hex') ?? null, size }
  } catch (err) {
    const e = (err as { cause?: NodeJS.ErrnoException }).cause ?? (err as NodeJS.ErrnoException)
    res = { id: req.id, error: { message: e.message, code: e.code } }
  }
  port.postMessage(res)
})
