/**
 * Parallel object ingest. The main thread copies each object's content into transferable buffers and hands them
 * to a pool of worker threads (object-worker.ts) that hash and write; the main thread goes on parsing while they
 * work. Memory is bounded by `maxInFlightBytes`: `add` waits before handing out more.
 *
 * Durability: workers do not fsync each object. `finish()` waits for every job and then flushes the store's
 * filesystem once with syncfs(2) (`sync -f`, coreutils): one flush is far cheaper than an fsync per object when
 * an image has thousands of files, and it still makes every object durable before the caller publishes a
 * manifest. `durability: 'fsync'` fsyncs each object instead (kept for measuring).
 */
import { execFile } from 'node:child_process'
import * as crypto from 'node:crypto'
import { readdirSync } from 'node:fs'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { promisify } from 'node:util'
import { Worker } from 'node:worker_threads'
import { CfsError, fromSystemError } from '@cfs/errors'
import { crashPoint } from './crash-point.js'
import type { Store, WrittenObject } from './store.js'
import type { WorkerReply, WorkerRequest } from './object-worker.js'

/** object-worker.ts's ABORTED (importing the module would start a worker's code here) */
const ABORTED = 'aborted'

const execFileP = promisify(execFile)

/** Content up to this size travels to a worker in one message (hashed before any write). */
const WHOLE_MAX = 1 << 20
const CHUNK = 1 << 20
const BATCH_BYTES = 1 << 20

export interface ObjectWriterOptions {
  /** worker threads (default: CPUs − 1, at least 1, at most 4) */
  workers?: number
  /** bytes handed to workers and not yet written (default 64 MiB) */
  maxInFlightBytes?: number
  durability?: 'syncfs' | 'fsync'
}

interface Pending { resolve: (w: WrittenObject) => void, reject: (e: unknown) => void }

export class ObjectWriter {
  private readonly workers: Worker[]
  private readonly load: number[]
  private readonly pending = new Map<number, Pending>()
  private readonly waiting: Array<() => void> = []
  private nextId = 1
  private inFlight = 0
  private failed: unknown
  private readonly results: Array<Promise<WrittenObject>> = []
  private readonly batches: Array<{ requests: WorkerRequest[], bytes: number }>
  private flushScheduled = false
  /** in the name of every temp file this writer's workers make, so close() can find the ones a failure left */
  private readonly tag = crypto.randomBytes(4).toString('hex')
  private readonly exited = new Set<Worker>()
  /** no batch goes out after close(): it would start an object after the workers dropped theirs */
  private closed = false

  constructor (private readonly store: Store, private readonly opts: ObjectWriterOptions = {}) {
    // one core stays with the main thread (tar parsing, decompression); scripts/bench-build.ts measured 1 worker
    // ahead of 2 and well ahead of 4 on this 2-core machine
    const n = opts.workers ?? Math.max(1, Math.min(4, os.availableParallelism() - 1))
    const workerUrl = new URL('./object-worker.js', import.meta.url)
    // an empty objects/ (first build into a new store) holds nothing to look up: workers skip the per-object
    // existence check; a concurrent build's object still makes link(2) fail with EEXIST, so nothing is overwritten
    const freshStore = isEmptyDir(store.objectsDir)
    this.workers = Array.from({ length: n }, () => {
      const w = new Worker(workerUrl, { workerData: { objectsDir: store.objectsDir, tmpDir: store.tmpDir, tag: `obj.${process.pid}.${this.tag}`, fsync: opts.durability === 'fsync', freshStore } })
      w.on('message', (replies: WorkerReply[] | typeof ABORTED) => { if (replies !== ABORTED) for (const r of replies) this.onReply(r) })
      w.on('error', (err) => this.fail(err))
      w.on('exit', () => this.exited.add(w))
      return w
    })
    this.load = this.workers.map(() => 0)
    this.batches = this.workers.map(() => ({ requests: [], bytes: 0 }))
  }

  private fail (err: unknown): void {
    this.failed ??= err
    for (const p of this.pending.values()) p.reject(err)
    this.pending.clear()
    for (const wake of this.waiting.splice(0)) wake()
  }

  private onReply (r: WorkerReply): void {
    this.inFlight -= r.freed
    while (this.waiting.length > 0 && this.inFlight < this.max) this.waiting.shift()!()
    const p = this.pending.get(r.id)
    if (p === undefined) return
    if (r.error !== undefined) {
      this.pending.delete(r.id)
      const err = Object.assign(new Error(r.error.message), r.error.code !== undefined ? { code: r.error.code } : {})
      const failure = fromSystemError(err, 'cannot write object in store', this.store.root)
      p.reject(failure)
      // stop taking work: the next add() throws, so a build fails now rather than after reading every layer
      this.failed ??= failure
    } else if (r.done !== undefined) {
      this.pending.delete(r.id)
      p.resolve({ digest: Buffer.from(r.done.digest, 'hex'), size: r.done.size, created: r.done.created })
    }
  }

  private get max (): number { return this.opts.maxInFlightBytes ?? 64 << 20 }

  private async room (): Promise<void> {
    while (this.inFlight >= this.max && this.failed === undefined) await new Promise<void>(resolve => this.waiting.push(resolve))
    if (this.failed !== undefined) throw this.failed
  }

  /** Queues a request; a worker's queue goes out as one message at the next turn of the event loop, or at once
   *  when it holds BATCH_BYTES. */
  private send (worker: number, id: number, buf: Uint8Array, len: number, first: boolean, last: boolean): void {
    this.inFlight += len
    const batch = this.batches[worker]!
    batch.requests.push({ id, buf: buf.buffer as ArrayBuffer, len, first, last })
    batch.bytes += len
    if (batch.bytes >= BATCH_BYTES) this.flush(worker)
    else if (!this.flushScheduled) { this.flushScheduled = true; setImmediate(() => { this.flushScheduled = false; for (let w = 0; w < this.workers.length; w++) this.flush(w) }) }
  }

  private flush (worker: number): void {
    const batch = this.batches[worker]!
    if (batch.requests.length === 0 || this.closed) return
    this.workers[worker]!.postMessage(batch.requests, batch.requests.map(r => r.buf))
    batch.requests = []
    batch.bytes = 0
  }

  /**
   * Consumes `body` (exactly `size` bytes) and queues it for storing. Resolves once the body is consumed, with a
   * promise of the stored object (wrapped, so that awaiting `add` does not wait for the write). Throws
   * ERR_CFS_TAR_TRUNCATED if the body is shorter than `size`.
   */
  async add (body: AsyncIterable<Uint8Array> | Uint8Array, size: number): Promise<{ written: Promise<WrittenObject> }> {
    await this.room()
    const id = this.nextId++
    // the least loaded worker by bytes; ties go to the lowest index, which keeps runs deterministic enough
    let worker = 0
    for (let i = 1; i < this.load.length; i++) if (this.load[i]! < this.load[worker]!) worker = i
    const result = new Promise<WrittenObject>((resolve, reject) => this.pending.set(id, { resolve, reject }))
    result.catch(() => {})
    this.load[worker]! += size
    const done = result.finally(() => { this.load[worker]! -= size })
    done.catch(() => {})
    this.results.push(done)
    let buf = new Uint8Array(new ArrayBuffer(Math.min(size, size <= WHOLE_MAX ? size : CHUNK)))
    let fill = 0
    let sent = 0
    let first = true
    const chunks = body instanceof Uint8Array ? [body] : body
    for await (const chunk of chunks) {
      let off = 0
      while (off < chunk.length) {
        if (fill === buf.length) {
          await this.room()
          this.send(worker, id, buf, fill, first, false)
          sent += fill
          first = false
          buf = new Uint8Array(new ArrayBuffer(Math.min(CHUNK, size - sent)))
          fill = 0
        }
        const n = Math.min(chunk.length - off, buf.length - fill)
        if (n === 0) throw new CfsError('ERR_CFS_IMAGE_BAD', `file content is longer than its size ${size}`)
        buf.set(chunk.subarray(off, off + n), fill)
        fill += n
        off += n
      }
    }
    if (sent + fill !== size) {
      this.pending.get(id)?.reject(new Error('aborted'))
      throw new CfsError('ERR_CFS_TAR_TRUNCATED', `file content ended after ${sent + fill} of ${size} bytes`)
    }
    this.send(worker, id, buf, fill, first, true)
    return { written: done }
  }

  /** Waits for every queued object, flushes them to disk (see above), and stops the workers. */
  async finish (): Promise<void> {
    try {
      await Promise.all(this.results)
      crashPoint('before-syncfs')
      if (this.opts.durability !== 'fsync') await syncFilesystem(this.store.objectsDir)
    } finally { await this.close() }
  }

  /**
   * Stops the workers (after a failure, without publishing queued objects). Each first removes the temp files of
   * objects it had not finished; threads share the process's descriptors, so it closes them too. After a failure,
   * anything with this writer's tag still in tmp/ goes as well.
   */
  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    await Promise.all(this.workers.map(async w => {
      if (!this.exited.has(w)) {
        await new Promise<void>(resolve => {
          const onMessage = (m: unknown): void => { if (m === ABORTED) done() }
          const done = (): void => { w.off('message', onMessage); w.off('exit', done); resolve() }
          w.on('message', onMessage)
          w.on('exit', done)
          w.postMessage('abort')
        })
      }
      await w.terminate()
    }))
    if (this.failed === undefined && this.pending.size === 0) return
    const prefix = `obj.${process.pid}.${this.tag}.`
    const names = await fs.readdir(this.store.tmpDir).catch(() => [])
    await Promise.all(names.filter(n => n.startsWith(prefix)).map(async n => await fs.rm(path.join(this.store.tmpDir, n), { force: true })))
  }
}

/** syncfs(2) on the filesystem holding `dir`; Node has no binding for it, coreutils' `sync -f` is one call. */
export async function syncFilesystem (dir: string): Promise<void> {
  try { await execFileP('sync', ['-f', dir]) } catch (err) {
    throw new CfsError('ERR_CFS_IO', `cannot flush the store's filesystem (sync -f ${dir})`, { cause: err })
  }
}

function isEmptyDir (dir: string): boolean {
  try { return readdirSync(dir).length === 0 } catch (err) { if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true; throw err }
}
