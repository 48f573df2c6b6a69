/**
 * A pool of worker threads computing fs-verity digests of files, so verifying or checking a store uses every core.
 * Files go to workers in batches (up to MAX_BATCH per message, fewer when the queue is short) and each worker has
 * at most two batches in flight, so no worker idles between messages and the main thread, which shares the cores,
 * handles few messages.
 *
 * With `callerHashes`, the calling thread is one of the `jobs` hashing threads: it hashes queued files in short
 * slices between event-loop turns, and only `jobs − 1` workers start. On 2 cores, `jobs: 2` then runs 2 busy threads
 * rather than 3, `jobs: 1` starts no worker, and hashing begins before any worker has booted (~30 ms each).
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { fromSystemError } from '@cfs/errors'
import { fsverityDigestFileSync, type FileDigest } from './fsverity-file.js'

/** @internal message to a worker */
export interface PoolRequest { id: number, path: string, expectSize?: number }
/** @internal message from a worker */
export type PoolResponse = { id: number, digest: string | null, size: number } | { id: number, error: { message: string, code?: string | undefined } }

interface Task { id: number, path: string, expectSize?: number, resolve: (r: { digest?: Buffer, size: number }) => void, reject: (e: unknown) => void }
interface Slot { worker: Worker, inFlight: Map<number, Task>, batches: number }

const BATCHES_PER_WORKER = 2
const MAX_BATCH = 8
/** the calling thread hashes for at most this long before letting worker replies and timers run */
const CALLER_SLICE_NS = 1_000_000n

export interface DigestPoolOptions {
  /** the calling thread hashes too, as one of the `jobs` threads: for batch commands whose thread would idle */
  callerHashes?: boolean
}

function workerFile (): string {
  // From dist/ the worker is a sibling; when this module runs from src/ (ts-jest) use the built copy.
  const here = fileURLToPath(new URL('./digest-worker.js', import.meta.url))
  if (fs.existsSync(here)) return here
  return fileURLToPath(new URL('../dist/digest-worker.js', import.meta.url))
}

/** Default pool size: every core the process may use. */
export function defaultJobs (): number { return Math.max(1, os.availableParallelism()) }

export class DigestPool {
  private readonly slots: Slot[] = []
  private readonly queue: Task[] = []
  private nextId = 1
  private closed = false
  private pumpScheduled = false
  private readonly callerHashes: boolean
  private callerScheduled = false
  private callerBuf: Buffer | undefined

  /** Starts `jobs` hashing threads (default: one per core), all workers unless `callerHashes`. Call close() when done. */
  constructor (readonly jobs: number = defaultJobs(), opts: DigestPoolOptions = {}) {
    if (!Number.isInteger(jobs) || jobs < 1) throw new Error(`DigestPool: jobs must be a positive integer, got ${jobs}`)
    this.callerHashes = opts.callerHashes === true
    const workers = this.callerHashes ? jobs - 1 : jobs
    const file = workerFile()
    for (let i = 0; i < workers; i++) {
      // the worker is compiled JS needing no loader: inheriting one (tsx in scripts) costs ~130 ms CPU per start
      const slot: Slot = { worker: new Worker(file, { execArgv: [] }), inFlight: new Map(), batches: 0 }
      slot.worker.on('message', (res: PoolResponse[]) => { this.settle(slot, res) })
      slot.worker.on('error', (err) => { this.failSlot(slot, err) })
      slot.worker.unref()
      this.slots.push(slot)
    }
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

  private async submit (path: string, expectSize: number | undefined): Promise<{ digest?: Buffer, size: number }> {
    if (this.closed) throw new Error('DigestPool: closed')
    return await new Promise((resolve, reject) => {
      const task: Task = { id: this.nextId++, path, resolve, reject }
      if (expectSize !== undefined) task.expectSize = expectSize
      this.queue.push(task)
      // submissions made in one go (a map over many files) are queued before any batch is cut
      if (!this.pumpScheduled) { this.pumpScheduled = true; queueMicrotask(() => { this.pumpScheduled = false; this.pump() }) }
    })
  }

  /** Stops the workers; pending digests reject. */
  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    for (const t of this.queue.splice(0)) t.reject(new Error('DigestPool: closed'))
    await Promise.all(this.slots.map(async s => { await s.worker.terminate() }))
  }

  private pump (): void {
    const batch = Math.max(1, Math.min(MAX_BATCH, Math.ceil(this.queue.length / (this.slots.length * BATCHES_PER_WORKER))))
    for (const slot of this.slots) {
      while (slot.batches < BATCHES_PER_WORKER && this.queue.length > 0) {
        const reqs: PoolRequest[] = []
        for (const task of this.queue.splice(0, batch)) {
          slot.inFlight.set(task.id, task)
          const req: PoolRequest = { id: task.id, path: task.path }
          if (task.expectSize !== undefined) req.expectSize = task.expectSize
          reqs.push(req)
        }
        slot.batches++
        slot.worker.postMessage(reqs)
      }
      if (this.queue.length === 0) break
    }
    const busy = this.slots.some(s => s.batches > 0)
    for (const s of this.slots) if (busy) s.worker.ref(); else s.worker.unref()
    if (this.callerHashes && this.queue.length > 0 && !this.callerScheduled) {
      this.callerScheduled = true
      setImmediate(() => { this.callerScheduled = false; this.hashInCaller() })
    }
  }

  /** One slice of the calling thread's share: what the workers have not taken, until the slice is used up. */
  private hashInCaller (): void {
    if (this.closed) return
    const buf = this.callerBuf ??= Buffer.allocUnsafe(1 << 20)
    const start = process.hrtime.bigint()
    do {
      const task = this.queue.shift()
      if (task === undefined) break
      try {
        task.resolve(task.expectSize === undefined ? fsverityDigestFileSync(task.path, buf) : fsverityDigestFileSync(task.path, buf, task.expectSize))
      } catch (err) {
        // the same error a worker's reply gives
        const e = (err as { cause?: unknown }).cause ?? err
        task.reject(fromSystemError(e, 'cannot read', task.path))
      }
    } while (process.hrtime.bigint() - start < CALLER_SLICE_NS)
    this.pump()
  }

  private settle (slot: Slot, results: PoolResponse[]): void {
    slot.batches--
    for (const res of results) {
      const task = slot.inFlight.get(res.id)
      if (task === undefined) continue
      slot.inFlight.delete(res.id)
      if ('error' in res) {
        const err = Object.assign(new Error(res.error.message), { code: res.error.code })
        task.reject(fromSystemError(err, 'cannot read', task.path))
      } else {
        task.resolve(res.digest === null ? { size: res.size } : { digest: Buffer.from(res.digest, 'hex'), size: res.size })
      }
    }
    this.pump()
  }

  private failSlot (slot: Slot, err: unknown): void {
    for (const t of slot.inFlight.values()) t.reject(err)
    slot.inFlight.clear()
    slot.batches = 0
    this.slots.splice(this.slots.indexOf(slot), 1)
    if (this.slots.length === 0) for (const t of this.queue.splice(0)) t.reject(err)
    else this.pump()
  }
}
