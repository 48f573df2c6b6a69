import { closeSync, fstatSync, openSync, readSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { fromSystemError } from '@cfs/errors'
import { FsVerityHasher } from './fsverity.js'

/** Large reads keep syscall and call overhead far below the cost of hashing (measured in scripts/bench-verify.ts). */
const READ_SIZE = 1 << 20

export interface FileDigest {
  /** 32-byte fs-verity digest */
  digest: Buffer
  size: number
}

/**
 * fs-verity digest and size of a file on disk. Two buffers alternate: the next read runs on the libuv pool while
 * the current chunk is hashed, so the read is off the critical path. Throws a CfsError (fromSystemError) when the
 * file cannot be opened or read.
 */
export async function fsverityDigestFile (path: string): Promise<FileDigest> {
  let fh
  try { fh = await open(path, 'r') } catch (err) { throw fromSystemError(err, 'cannot open', path) }
  try {
    const hasher = new FsVerityHasher()
    // small files get small buffers: a store holds many of them
    const size = Math.max(4096, Math.ceil(Math.min(READ_SIZE, (await fh.stat()).size) / 4096) * 4096)
    const bufs = [Buffer.allocUnsafe(size), Buffer.allocUnsafe(size)]
    let cur = 0
    let pending = fh.read(bufs[0]!, 0, size, null)
    for (;;) {
      const { bytesRead } = await pending
      if (bytesRead === 0) break
      const next = cur ^ 1
      pending = fh.read(bufs[next]!, 0, size, null)
      hasher.update(bufs[cur]!.subarray(0, bytesRead))
      cur = next
    }
    return { digest: hasher.digest(), size: hasher.size }
  } catch (err) {
    throw fromSystemError(err, 'cannot read', path)
  } finally {
    await fh.close()
  }
}

/**
 * Synchronous fsverityDigestFile for threads where blocking is free (DigestPool has its own batch loop). `buf` (any
 * size ≥ 4096) may be passed to reuse one read buffer across files. With `expectSize`, a file of another size is
 * not read: the result then has its size and no digest (it cannot match).
 */
export function fsverityDigestFileSync (path: string, buf?: Buffer): FileDigest
export function fsverityDigestFileSync (path: string, buf: Buffer | undefined, expectSize: number): { digest?: Buffer, size: number }
export function fsverityDigestFileSync (path: string, buf: Buffer = Buffer.allocUnsafe(READ_SIZE), expectSize?: number): { digest?: Buffer, size: number } {
  let fd
  try { fd = openSync(path, 'r') } catch (err) { throw fromSystemError(err, 'cannot open', path) }
  try {
    if (expectSize !== undefined) {
      const size = fstatSync(fd).size
      if (size !== expectSize) return { size }
    }
    const hasher = new FsVerityHasher()
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null)
      if (n === 0) break
      hasher.update(n === buf.length ? buf : buf.subarray(0, n))
    }
    return { digest: hasher.digest(), size: hasher.size }
  } catch (err) {
    throw fromSystemError(err, 'cannot read', path)
  } finally {
    closeSync(fd)
  }
}
