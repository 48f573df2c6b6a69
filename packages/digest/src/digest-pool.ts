/**
 * A pool of worker threads computing fs-verity digests of files, so verifying or checking a store uses every core.
 * Files go to workers in batches (up to MAX_BATCH per message, fewer when the queue is short) and each worker has
 * at most two batches in flight, so no worker idles between messages and the main thread, which shares the cores,
 * handles few messages.
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { fromSystemError } from '@cfs/errors'
import type { FileDigest } from './fsverity-file.js'

/** @internal message to a worker */
export interface PoolRequest { id: number, path: string, expectSize?: number }
/** @internal message from a worker */
export type PoolResponse = { id: number, digest: string | null, size: number } | { id: number, error: { message: string, code?: string | undefined } }

interface Task { id: number, path: string, expectSize?: number, resolve: (r: { digest?: Buffer, size: number }) => void, reject: (e: unknown) => void }
interface Slot { worker: Worker, inFlight: Map<number, Task>, batches: number }

const BATCHES_PER_WORKER = 2
const MAX_BATCH = 8

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

  /** Starts `jobs` worker threads (default: one per core). Call close() when done. */
  constructor (readonly jobs: number = defaultJobs()) {
    if (!Number.isInteger(jobs) || jobs < 1) throw new Error(`DigestPool: jobs must be a positive integer, got ${jobs}`)
    const file = workerFile()
    for (let i = 0; i < jobs; i++) {
      const slot: Slot = { worker: new Worker(file), inFlight: new Map(), batches: 0 }
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
