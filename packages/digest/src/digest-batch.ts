/**
 * One DigestPool.digestFiles call as shared memory, so the hashing threads (the pool's workers and, with
 * callerHashes, the calling thread) pull files from one counter instead of being sent them: one message per worker
 * per call, perfect balance at the tail, and results written in place rather than posted back.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs'
import { FSVERITY_HASH_SIZE, FsVerityHasher } from './fsverity.js'

/** @internal status of one file in a batch */
export const FileStatus = { PENDING: 0, HASHED: 1, OTHER_SIZE: 2, FAILED: 3 } as const

/** @internal the shared view of a batch: every array is backed by a SharedArrayBuffer */
export interface BatchJob {
  /** [0] next file index to claim, [1] files finished */
  ctrl: Int32Array
  /** UTF-8 paths back to back: file i is bytes offsets[i] to offsets[i + 1] */
  paths: Uint8Array
  offsets: Float64Array
  /** size each file must have to be read, or -1 for any */
  expect: Float64Array
  status: Uint8Array
  sizes: Float64Array
  /** 32 bytes per file */
  digests: Uint8Array
}

/** @internal a file that could not be read: the system error's message and code */
export interface BatchError { index: number, message: string, code?: string | undefined }

const shared = <T>(Of: new (b: SharedArrayBuffer) => T, bytes: number): T => new Of(new SharedArrayBuffer(bytes))

/** @internal */
export function makeJob (paths: readonly string[], expectSizes: readonly number[] | undefined): BatchJob {
  const n = paths.length
  const offsets = shared(Float64Array, 8 * (n + 1))
  let total = 0
  for (let i = 0; i < n; i++) { offsets[i] = total; total += Buffer.byteLength(paths[i]!) }
  offsets[n] = total
  const blob = Buffer.from(new SharedArrayBuffer(total))
  for (let i = 0; i < n; i++) blob.write(paths[i]!, offsets[i]!)
  const expect = shared(Float64Array, 8 * n)
  for (let i = 0; i < n; i++) expect[i] = expectSizes?.[i] ?? -1
  return {
    ctrl: shared(Int32Array, 8),
    paths: blob,
    offsets,
    expect,
    status: shared(Uint8Array, n),
    sizes: shared(Float64Array, 8 * n),
    digests: shared(Uint8Array, FSVERITY_HASH_SIZE * n),
  }
}

/** @internal the path of file i */
export function pathOf (job: BatchJob, i: number): string {
  return Buffer.from(job.paths.buffer, job.paths.byteOffset, job.paths.byteLength).toString('utf8', job.offsets[i], job.offsets[i + 1])
}

/**
 * @internal One hashing thread's state: a read buffer and a hasher reused for every file. Blocking reads cost
 * nothing in a worker; the calling thread runs in short slices.
 */
export class HashingThread {
  private readonly buf = Buffer.allocUnsafe(1 << 20)
  private readonly hasher = new FsVerityHasher()

  /**
   * Claims and hashes files of `job` until none is left (returns false) or `sliceNs` has passed (returns true).
   * Unreadable files are added to `errors`.
   */
  run (job: BatchJob, errors: BatchError[], sliceNs?: bigint): boolean {
    const n = job.status.length
    const start = sliceNs === undefined ? 0n : process.hrtime.bigint()
    const blob = Buffer.from(job.paths.buffer, job.paths.byteOffset, job.paths.byteLength)
    const digests = Buffer.from(job.digests.buffer, job.digests.byteOffset, job.digests.byteLength)
    for (;;) {
      const i = Atomics.add(job.ctrl, 0, 1)
      if (i >= n) return false
      this.hashOne(job, i, blob.toString('utf8', job.offsets[i], job.offsets[i + 1]), digests, errors)
      Atomics.add(job.ctrl, 1, 1)
      if (sliceNs !== undefined && process.hrtime.bigint() - start >= sliceNs) return true
    }
  }

  /**
   * Hashes file i (also one a dead worker had claimed). With an expected size the reads ask for one byte more than
   * is left, so a file of another size shows itself without a separate fstat (only then is one made).
   */
  hashOne (job: BatchJob, i: number, path: string, digests: Buffer, errors: BatchError[]): void {
    let fd
    try {
      fd = openSync(path, 'r')
      const want = job.expect[i]!
      const h = this.hasher.reset()
      const buf = this.buf
      if (want < 0) {
        for (;;) {
          const got = readSync(fd, buf, 0, buf.length, null)
          if (got === 0) break
          h.update(got === buf.length ? buf : buf.subarray(0, got))
        }
      } else {
        for (let left = want; ;) {
          const got = readSync(fd, buf, 0, Math.min(buf.length, left + 1), null)
          if (got > left || (got === 0 && left > 0)) {
            job.sizes[i] = fstatSync(fd).size
            job.status[i] = FileStatus.OTHER_SIZE
            return
          }
          if (got === 0) break
          h.update(got === buf.length ? buf : buf.subarray(0, got))
          left -= got
        }
      }
      job.sizes[i] = h.size
      h.digestInto(digests, FSVERITY_HASH_SIZE * i)
      job.status[i] = FileStatus.HASHED
    } catch (err) {
      const e = err as NodeJS.ErrnoException
      job.status[i] = FileStatus.FAILED
      errors.push({ index: i, message: e.message, code: e.code })
    } finally {
      if (fd !== undefined) closeSync(fd)
    }
  }
}
