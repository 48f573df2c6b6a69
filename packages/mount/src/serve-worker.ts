/**
 * Worker thread entry: loads the manifest, reports `loaded` (or the error), then serves until unmount. The
 * serving loop waits for the mount that `mountImage` makes meanwhile.
 */
import * as fs from 'node:fs'
import { parentPort, workerData } from 'node:worker_threads'
import { serveFuse } from '@cfs/fuse'
import { decodeManifest } from '@cfs/manifest'
import { CfsError, fromSystemError } from '@cfs/errors'
import { ImageFs } from './image-fs.js'
import type { WorkerData, WorkerMessage } from './worker-protocol.js'

const data = workerData as WorkerData
const port = parentPort!
const post = (m: WorkerMessage): void => { port.postMessage(m) }

let image: ImageFs
try {
  let bytes: Buffer
  try { bytes = fs.readFileSync(data.manifestPath) } catch (err) { throw fromSystemError(err, 'cannot read manifest', data.manifestPath) }
  image = new ImageFs(decodeManifest(bytes), { objectsDir: data.objectsDir, verify: data.verify })
  post({ type: 'loaded' })
  serveFuse(data.fd, image, { onInit: () => { post({ type: 'init' }) } })
  port.close()
} catch (err) {
  const e = err as { message?: string, hint?: string }
  post({ type: 'error', code: err instanceof CfsError ? err.code : undefined, message: e.message ?? String(err), hint: e.hint })
  port.close()
}
