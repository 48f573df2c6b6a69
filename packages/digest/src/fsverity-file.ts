import { open } from 'node:fs/promises'
import { fromSystemError } from '@cfs/errors'
import { FsVerityHasher } from './fsverity.js'

const READ_SIZE = 1 << 20

/** fs-verity digest and size of a file on disk, read in 1 MiB chunks into one reused buffer. */
export async function fsverityDigestFile (path: string): Promise<{ digest: Buffer, size: number }> {
  let fh
  try { fh = await open(path, 'r') } catch (err) { throw fromSystemError(err, 'cannot open', path) }
  try {
    const hasher = new FsVerityHasher()
    const buf = Buffer.allocUnsafe(READ_SIZE)
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, READ_SIZE, null)
      if (bytesRead === 0) break
      hasher.update(buf.subarray(0, bytesRead))
    }
    return { digest: hasher.digest(), size: hasher.size }
  } catch (err) {
    throw fromSystemError(err, 'cannot read', path)
  } finally {
    await fh.close()
  }
}
