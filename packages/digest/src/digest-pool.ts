/**
 * A pool of worker threads computing fs-verity digests of files, so verifying or checking a store uses every core.
 * A call to digestFiles is one shared-memory job (digest-batch.ts): each worker gets one message, every hashing
 * thread pulls the next file from a shared counter, and results are written in place. The calling thread then
 * handles no message per file, which matters on 2 cores where it competes with the workers.
 *
 * With `callerHashes`, the calling thread is one of the `jobs` hashing threads: it hashes in short slices between
 * event-loop turns, and only `jobs − 1` workers start. On 2 cores, `jobs: 2` then runs 2 busy threads rather than
 * 3, `jobs: 1` starts no worker, and hashing begins before any worker has booted (~30 ms each).
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { fromSystemError } from '@cfs/errors'
import { FileStatus, HashingThread, makeJob, pathOf, type BatchError, type BatchJob } from './digest-batch.js'
import type { FileDigest } from './fsverity-file.js'

interface Slot { worker: Worker, replies: Array<(errors: BatchError[]) => void> }

/** the calling thread hashes for at most this long before letting timers and worker events run */
const CALLER_SLICE_NS = 2_000_000n
/** progress is reported at least this often while the calling thread only waits */
const PROGRESS_MS = 100

export interface DigestPoolOptions {
  /** the calling thread hashes too, as one of the `jobs` threads: for batch commands whose thread would idle */
  callerHashes?: boolean
}

/** Results of digestFiles, by the index of the file in the call. */
export class FileDigests {
  /** @internal */
  constructor (private readonly job: BatchJob, private readonly errors: ReadonlyMap<number, unknown>) {}

  get length (): number { return this.job.status.length }

  /** the 32-byte fs-verity digest (a view, valid while this object lives), or undefined when the file was not hashed */
  digest (i: number): Buffer | undefined {
    if (this.job.status[i] !== FileStatus.HASHED) return undefined
    return Buffer.from(this.job.digests.buffer, this.job.digests.byteOffset + 32 * i, 32)
  }

  /** the file's size (also when it was not read because it differs from the expected size); NaN after an error */
  size (i: number): number { return this.job.status[i] === FileStatus.FAILED ? NaN : this.job.sizes[i]! }

  /** why the file could not be read: a CfsError from fromSystemError, like fsverityDigestFile throws */
  error (i: number): unknown { return this.errors.get(i) }
}

function workerFile (): string {
  // From dist/ the worker is a sibling; when this module runs from src/ (ts-jest) use the built copy.
  const here = fileURLToPath(new URL('./digest-worker.js', import.meta.url))
  if (fs.existsSync(here)) return here
  return fileURLToPath(new URL('../dist/digest-worker.js', import.meta.url))
}

/** Default pool size: every core the process may use. */
export function defaultJobs (): number { return Math.max(1, os.availableParallelism()) }

interface Single { path: string, expectSize: number | undefined, resolve: (r: { digest?: Buffer, size: number }) => void, reject: (e: unknown) => void }

export class DigestPool {
  private readonly slots: Slot[] = []
  private closed = false
  private active = 0
  private readonly callerHashes: boolean
  private thread: HashingThread | undefined
  private singles: Single[] = []

  /** Starts `jobs` hashing threads (default: one per core), all workers unless `callerHashes`. Call close() when done. */
  constructor (readonly jobs: number = defaultJobs(), opts: DigestPoolOptions = {}) {
    if (!Number.isInteger(jobs) || jobs < 1) throw new Error(`DigestPool: jobs must be a positive integer, got ${jobs}`)
    this.callerHashes = opts.callerHashes === true
    const workers = this.callerHashes ? jobs - 1 : jobs
    const file = workerFile()
    for (let i = 0; i < workers; i++) {
      // the worker is compiled JS needing no loader: inheriting one (tsx in scripts) costs ~130 ms CPU per start
      const slot: Slot = { worker: new Worker(file, { execArgv: [] }), replies: [] }
      slot.worker.on('message', (errors: BatchError[]) => { slot.replies.shift()?.(errors) })
      // a worker that fails or exits answers its open jobs with nothing: files it claimed stay pending and are
      // hashed by the calling thread
      const drop = (): void => {
        const at = this.slots.indexOf(slot)
        if (at >= 0) this.slots.splice(at, 1)
        for (const reply of slot.replies.splice(0)) reply([])
      }
      slot.worker.on('error', drop)
      slot.worker.on('exit', drop)
      slot.worker.unref()
      this.slots.push(slot)
    }
  }

  /**
   * fs-verity digests and sizes of many files. With `expectSizes`, a file of another size gets its size and no
   * digest, and reading it stops as soon as the size is known to differ. Never rejects for an unreadable file: see
   * FileDigests.error.
   * `onProgress(done)` is called as files finish.
   */
  async digestFiles (paths: readonly string[], expectSizes?: readonly number[], onProgress?: (done: number) => void): Promise<FileDigests> {
    if (this.closed) throw new Error('DigestPool: closed')
    const job = makeJob(paths, expectSizes)
    const errors: BatchError[] = []
    if (paths.length > 0) {
      if (this.active++ === 0) for (const s of this.slots) s.worker.ref()
      try {
        await this.runJob(job, errors, onProgress)
      } finally {
        if (--this.active === 0) for (const s of this.slots) s.worker.unref()
      }
    }
    const byIndex = new Map<number, unknown>()
    for (const e of errors) byIndex.set(e.index, fromSystemError(Object.assign(new Error(e.message), { code: e.code }), 'cannot read', pathOf(job, e.index)))
    return new FileDigests(job, byIndex)
  }

  /** fs-verity digest and size of a file; rejects like fsverityDigestFile (a CfsError from fromSystemError). */
  async digestFile (path: string): Promise<FileDigest> {
    return await this.submit(path, undefined) as FileDigest
  }

  /**
   * Like digestFile, but a file whose size is not `expectSize` is not read: the result has its size and no digest.
   * Saves a separate stat when checking objects against a manifest.
   */
  async checkFile (path: string, expectSize: number): Promise<{ digest?: Buffer, size: number }> {
    return await this.submit(path, expectSize)
  }

  /** Stops the workers; pending digests reject. */
  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    await Promise.all(this.slots.map(async s => { await s.worker.terminate() }))
  }

  /** Single files asked for in one go (a map over many files) become one batch. */
  private async submit (path: string, expectSize: number | undefined): Promise<{ digest?: Buffer, size: number }> {
    if (this.closed) throw new Error('DigestPool: closed')
    return await new Promise((resolve, reject) => {
      if (this.singles.push({ path, expectSize, resolve, reject }) > 1) return
      queueMicrotask(() => {
        const batch = this.singles
        this.singles = []
        this.digestFiles(batch.map(s => s.path), batch.map(s => s.expectSize ?? -1)).then((r) => {
          batch.forEach((s, i) => {
            const digest = r.digest(i)
            const err = r.error(i)
            if (err !== undefined) s.reject(err)
            else s.resolve(digest === undefined ? { size: r.size(i) } : { digest: Buffer.from(digest), size: r.size(i) })
          })
        }, (err: unknown) => { for (const s of batch) s.reject(err) })
      })
    })
  }

  private async runJob (job: BatchJob, errors: BatchError[], onProgress: ((done: number) => void) | undefined): Promise<void> {
    const replies = this.slots.map(async slot => await new Promise<BatchError[]>(resolve => {
      slot.replies.push(resolve)
      slot.worker.postMessage(job)
    }))
    const progress = (): void => { onProgress?.(Atomics.load(job.ctrl, 1)) }
    if (this.callerHashes) {
      const thread = this.thread ??= new HashingThread()
      while (thread.run(job, errors, CALLER_SLICE_NS)) {
        progress()
        await new Promise(resolve => setImmediate(resolve))
        if (this.closed) throw new Error('DigestPool: closed')
      }
    }
    const timer = onProgress === undefined ? undefined : setInterval(progress, PROGRESS_MS)
    try {
      for (const errs of await Promise.all(replies)) errors.push(...errs)
    } finally { clearInterval(timer) }
    if (this.closed) throw new Error('DigestPool: closed')
    // files a dead worker had claimed
    const n = job.status.length
    for (let i = 0; i < n; i++) {
      if (job.status[i] !== FileStatus.PENDING) continue
      const digests = Buffer.from(job.digests.buffer, job.digests.byteOffset, job.digests.byteLength)
      ;(this.thread ??= new HashingThread()).hashOne(job, i, pathOf(job, i), digests, errors)
      Atomics.add(job.ctrl, 1, 1)
    }
    progress()
  }
}
