/** Worker thread of DigestPool: hashes each batch of files it is sent and posts the batch's results back. */
import { parentPort } from 'node:worker_threads'
import { fsverityDigestFileSync } from './fsverity-file.js'
import type { PoolRequest, PoolResponse } from './digest-pool.js'

const port = parentPort
if (port === null) throw new Error('digest-worker must run as a worker thread')

// a worker owns its thread, so blocking reads into one reused buffer cost nothing and allocate nothing
const buf = Buffer.allocUnsafe(1 << 20)

function digestOne (req: PoolRequest): PoolResponse {
  try {
    const { digest, size } = req.expectSize === undefined ? fsverityDigestFileSync(req.path, buf) : fsverityDigestFileSync(req.path, buf, req.expectSize)
    return { id: req.id, digest: digest?.toString('hex') ?? null, size }
  } catch (err) {
    const e = (err as { cause?: NodeJS.ErrnoException }).cause ?? (err as NodeJS.ErrnoException)
    return { id: req.id, error: { message: e.message, code: e.code } }
  }
}

port.on('message', (batch: PoolRequest[]) => { port.postMessage(batch.map(digestOne)) })
