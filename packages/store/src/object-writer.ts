/**
 * Parallel object ingest. The main thread copies object content into a ring of shared memory per worker and posts
 * the pieces' places in batches to a pool of worker threads (object-worker.ts) that hash and write; the main thread
 * goes on parsing while they work. Memory is bounded by `maxInFlightBytes`: when it is reached, `add` waits until
 * half of it is written, so that the next batches are full ones rather than one object each.
 *
 * Hashing follows the load: while more than `callerHashesAbove` bytes wait for the workers (they are the
 * bottleneck, as on 2 cores with one worker, where a worker's file creation is the slowest step), the main thread
 * computes the fs-verity digest of each object it starts sending from the copies it sends, and the worker only
 * writes; otherwise (the main thread is the bottleneck, e.g. decompressing zstd) the workers hash.
 *
 * Durability: workers do not fsync each object. `finish()` waits for every job and then flushes the store's
 * filesystem once with syncfs(2) (`sync -f`, coreutils, run by a helper shell: fs-syncer.ts): one flush is far
 * cheaper than an fsync per object when an image has thousands of files, and it still makes every object durable
 * before the caller publishes a manifest. While the build runs, a flush also starts in the background whenever SYNC_AHEAD new bytes were
 * written since the last one, so the disk writes while the build goes on and the final flush has little left.
 * `durability: 'fsync'` fsyncs each object instead (kept for measuring).
 *
 * Publication: into a store that already holds objects, each object is written to a temp file in tmp/ and linked to
 * its name (object-worker.ts). Into a store whose objects/ is empty (the first build on a host, a CI job's store),
 * the workers write each object straight to its name under a staging directory in tmp/ (`stage.<pid>.<tag>/XX/REST`),
 * and finish() publishes the staged XX directories with one rename(2) each, after the flush and followed by another:
 * one directory operation per object instead of three, and no object name appears before its data is on disk. A
 * concurrent build that published into the same XX meanwhile makes that rename fail; the objects of that directory
 * are then linked one by one, an existing name left as it is.
 */
import * as crypto from 'node:crypto'
import { linkSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { Worker } from 'node:worker_threads'
import { FsVerityHasher } from '@cfs/digest'
import { CfsError, fromSystemError } from '@cfs/errors'
import { crashPoint } from './crash-point.js'
import { FsSyncer } from './fs-syncer.js'
import { parseTempName } from './layout.js'
import { pidAlive } from './lease.js'
import type { Store, WrittenObject } from './store.js'
import { ABORTED, CREATED, DIGEST_SIZE, FAILED, FIRST, HASHED, LAST, PARTIAL, REPLY_FIELDS, type WorkerBatch, type WorkerReplies } from './object-protocol.js'
import { ByteRing } from './byte-ring.js'

const WHOLE = FIRST | LAST

/** Content up to this size travels to a worker in one piece (hashed before any write). */
const WHOLE_MAX = 1 << 20
/** larger content travels in pieces of this size */
const CHUNK = 1 << 20
/** a batch goes out at once when it holds this many bytes, else at the next turn of the event loop */
const BATCH_BYTES = 1 << 20
/** new object bytes written between background flushes */
const SYNC_AHEAD = 64 << 20

/** default of ObjectWriterOptions.callerHashesAbove */
const CALLER_HASHES_ABOVE = 16 << 20

/**
 * What goes to one worker: its ring (`bytes` views the shared memory), the pieces not posted yet, their bytes, and
 * who waits for room in the ring.
 */
interface Lane { ring: ByteRing, bytes: Buffer, pieces: number[], fill: number, waiting: Array<() => void> }

export interface ObjectWriterOptions {
  /** worker threads (default: CPUs − 1, at least 1, at most 4) */
  workers?: number
  /** bytes handed to workers and not yet written (default 64 MiB) */
  maxInFlightBytes?: number
  durability?: 'syncfs' | 'fsync'
  /**
   * bytes handed to workers and not yet written from which on the calling thread hashes the objects it starts
   * sending itself, so that hashing runs on both sides while the workers are behind (default 16 MiB; 0: always;
   * Infinity: never)
   */
  callerHashesAbove?: number
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
  /** woken when no object is pending any more, or on a failure (written()) */
  private readonly drained: Array<() => void> = []
  private readonly lanes: Lane[]
  /** bytes of new objects written since the last background flush started */
  private unsynced = 0
  private background: Promise<void> | undefined
  private flushScheduled = false
  /** in the name of every temp file this writer's workers make, so close() can find the ones a failure left */
  private readonly tag = crypto.randomBytes(4).toString('hex')
  private readonly exited = new Set<Worker>()
  /** no batch goes out after close(): it would start an object after the workers dropped theirs */
  private closed = false
  private readonly hasher = new FsVerityHasher()
  private readonly syncer: FsSyncer | undefined
  /** the staging directory (objects/ was empty, see above), else undefined */
  private readonly stageDir: string | undefined
  /** removal of the staging directories killed builds left (sweepStaleStages), awaited by close() */
  private readonly sweeping: Promise<void>

  constructor (private readonly store: Store, private readonly opts: ObjectWriterOptions = {}) {
    // one core stays with the main thread (tar parsing, decompression); scripts/bench-build.ts measured 1 worker
    // ahead of 2 and well ahead of 4 on this 2-core machine
    const n = opts.workers ?? Math.max(1, Math.min(4, os.availableParallelism() - 1))
    const workerUrl = new URL('./object-worker.js', import.meta.url)
    // an empty objects/ (first build into a new store) holds nothing to look up: workers skip the per-object
    // existence check; a concurrent build's object still makes link(2) fail with EEXIST, so nothing is overwritten
    const freshStore = isEmptyDir(store.objectsDir)
    // before the workers: the helper is forked while this process is small (fs-syncer.ts)
    this.syncer = opts.durability === 'fsync' ? undefined : new FsSyncer(store.objectsDir)
    if (freshStore && this.syncer !== undefined) {
      this.stageDir = path.join(store.tmpDir, `stage.${process.pid}.${this.tag}`)
      mkdirSync(this.stageDir, { recursive: true })
    }
    const stageDir = this.stageDir
    this.sweeping = sweepStaleStages(store.tmpDir)
    // a worker's share of the bytes in flight, and room for the largest piece (with its digest) skipped at the
    // ring's end and another in flight beyond the limit: the ring rarely makes anyone wait
    const capacity = Math.ceil(this.max / n) + 2 * (Math.max(WHOLE_MAX, CHUNK) + DIGEST_SIZE)
    this.lanes = []
    this.workers = Array.from({ length: n }, (_v, i) => {
      const shared = new SharedArrayBuffer(capacity)
      this.lanes.push({ ring: new ByteRing(capacity), bytes: Buffer.from(shared), pieces: [], fill: 0, waiting: [] })
      const w = new Worker(workerUrl, { execArgv: [], workerData: { objectsDir: store.objectsDir, tmpDir: store.tmpDir, tag: `obj.${process.pid}.${this.tag}`, fsync: opts.durability === 'fsync', freshStore, stageDir, ring: shared } })
      w.on('message', (m: WorkerReplies | typeof ABORTED) => { if (m !== ABORTED) this.onReplies(i, m) })
      w.on('error', (err) => this.fail(err))
      w.on('exit', () => this.exited.add(w))
      return w
    })
    this.load = this.workers.map(() => 0)
  }

  private fail (err: unknown): void {
    this.failed ??= err
    for (const p of this.pending.values()) p.reject(err)
    this.pending.clear()
    for (const wake of this.waiting.splice(0)) wake()
    for (const lane of this.lanes) for (const wake of lane.waiting.splice(0)) wake()
    for (const wake of this.drained.splice(0)) wake()
  }

  private onReplies (worker: number, m: WorkerReplies): void {
    const { replies } = m
    const lane = this.lanes[worker]!
    const digests = new Uint8Array(m.digests)
    let nDigest = 0
    let nError = 0
    for (let i = 0; i < replies.length; i += REPLY_FIELDS) {
      const id = replies[i]!
      // the worker is done with the piece's bytes: one reply per piece, in the order they were sent
      lane.ring.release()
      this.inFlight -= replies[i + 1]!
      const size = replies[i + 2]!
      const status = replies[i + 3]!
      if (status === PARTIAL) continue
      const p = this.pending.get(id)
      this.pending.delete(id)
      if (status === FAILED) {
        const e = m.errors[nError++]!
        const err = Object.assign(new Error(e.message), e.code !== undefined ? { code: e.code } : {})
        const failure = fromSystemError(err, 'cannot write object in store', this.store.root)
        p?.reject(failure)
        // stop taking work: the next add() throws, so a build fails now rather than after reading every layer
        this.failed ??= failure
        continue
      }
      const digest = Buffer.from(digests.subarray(nDigest, nDigest + 32))
      nDigest += 32
      if (status === CREATED) this.wrote(size)
      p?.resolve({ digest, size, created: status === CREATED })
    }
    if (this.inFlight <= this.max / 2 || this.failed !== undefined) for (const wake of this.waiting.splice(0)) wake()
    for (const wake of lane.waiting.splice(0)) wake()
    if (this.pending.size === 0 || this.failed !== undefined) for (const wake of this.drained.splice(0)) wake()
  }

  /** Counts new bytes, and starts a background flush when SYNC_AHEAD of them are not flushed yet. */
  private wrote (size: number): void {
    this.unsynced += size
    if (this.unsynced < SYNC_AHEAD || this.background !== undefined || this.syncer === undefined || this.closed) return
    this.unsynced = 0
    // a failure here is not the build's: the final flush in finish() reports its own
    this.background = this.syncer.sync().catch(() => {}).finally(() => { this.background = undefined })
  }

  private get max (): number { return this.opts.maxInFlightBytes ?? 64 << 20 }

  /**
   * Waits while `maxInFlightBytes` are handed out, then until half of them are written (see above); and, given a
   * worker, until its ring has room for `len` bytes and a digest.
   */
  private async room (worker?: number, len = 0): Promise<void> {
    if (this.inFlight >= this.max && this.failed === undefined) {
      // hand out what is queued, or the wait never ends
      for (let w = 0; w < this.workers.length; w++) this.flush(w)
      await new Promise<void>(resolve => this.waiting.push(resolve))
    }
    if (worker !== undefined) {
      const lane = this.lanes[worker]!
      while (!lane.ring.fits(len + DIGEST_SIZE) && this.failed === undefined) {
        this.flush(worker)
        await new Promise<void>(resolve => lane.waiting.push(resolve))
      }
    }
    if (this.failed !== undefined) throw this.failed
  }

  /** The workers are behind: this thread hashes the next object it sends, so that hashing runs on both sides. */
  private hashHere (): boolean { return this.inFlight >= (this.opts.callerHashesAbove ?? CALLER_HASHES_ABOVE) }

  /**
   * Copies one piece of an object (the chunks, `len` bytes in all) into the worker's ring, which must have room for
   * it (room()). The pieces go out in a batch message once BATCH_BYTES are queued, else at the next turn of the
   * event loop. With `hasher` (an object in several pieces that this thread hashes; a whole object gets one if
   * hashHere()), the digest travels with the last piece.
   */
  private send (worker: number, id: number, chunks: Uint8Array[], len: number, flags: number, hasher?: FsVerityHasher): void {
    if ((flags & WHOLE) === WHOLE && this.hashHere()) hasher = this.hasher.reset()
    if (hasher !== undefined) flags |= HASHED
    // the digest goes just before the last piece's content
    const withDigest = hasher !== undefined && (flags & LAST) !== 0
    this.inFlight += len
    const lane = this.lanes[worker]!
    const at = lane.ring.alloc(len + (withDigest ? DIGEST_SIZE : 0))
    if (at < 0) throw new Error('ObjectWriter: no room in the ring (room() was not awaited)')
    const start = withDigest ? at + DIGEST_SIZE : at
    const into = lane.bytes.subarray(start, start + len)
    // Buffer#fill with a buffer of the range's length is one memcpy in C++; TypedArray#set into shared memory is
    // V8's relaxed (word-at-a-time) copy, which perf measured at 3 × the time (0.36 s of a 1.15 GB build)
    let off = 0
    for (const c of chunks) { if (c.length > 0) into.fill(c, off, off + c.length); off += c.length }
    // hashed from the copy: the digest is of exactly the bytes the worker writes
    hasher?.update(into)
    if (withDigest) hasher!.digestInto(lane.bytes, at)
    lane.pieces.push(id, start, len, flags)
    lane.fill += len
    if (lane.fill >= BATCH_BYTES) this.flush(worker)
    else if (!this.flushScheduled) { this.flushScheduled = true; setImmediate(() => { this.flushScheduled = false; for (let w = 0; w < this.workers.length; w++) this.flush(w) }) }
  }

  private flush (worker: number): void {
    const lane = this.lanes[worker]!
    if (lane.pieces.length === 0 || this.closed) return
    this.workers[worker]!.postMessage({ pieces: lane.pieces } satisfies WorkerBatch)
    lane.pieces = []
    lane.fill = 0
  }

  /**
   * add() for a whole object at hand, without waiting and without a promise per object (a build queues tens of
   * thousands): queues it and returns true when that needs no wait (room in flight and in the ring), else returns
   * false having done nothing, and the caller uses add(). `onWritten` is called once the object is stored; a
   * failure is thrown by written() and finish(), as for add().
   */
  addNow (body: Uint8Array, onWritten: (w: WrittenObject) => void): boolean {
    const size = body.length
    if (size > WHOLE_MAX || this.inFlight >= this.max || this.failed !== undefined) return false
    const worker = this.leastLoaded()
    if (!this.lanes[worker]!.ring.fits(size + DIGEST_SIZE)) return false
    const id = this.nextId++
    this.load[worker]! += size
    this.pending.set(id, {
      resolve: (w) => { this.load[worker]! -= size; onWritten(w) },
      reject: () => { this.load[worker]! -= size },
    })
    this.send(worker, id, [body], size, FIRST | LAST)
    return true
  }

  /** The least loaded worker by bytes; ties go to the lowest index, which keeps runs deterministic enough. */
  private leastLoaded (): number {
    let worker = 0
    for (let i = 1; i < this.load.length; i++) if (this.load[i]! < this.load[worker]!) worker = i
    return worker
  }

  /** Waits until every object queued so far is stored; throws the first failure. */
  async written (): Promise<void> {
    while (this.pending.size > 0 && this.failed === undefined) await new Promise<void>(resolve => this.drained.push(resolve))
    await Promise.all(this.results)
    if (this.failed !== undefined) throw this.failed
  }

  /**
   * Consumes `body` (exactly `size` bytes) and queues it for storing. Resolves once the body is consumed, with a
   * promise of the stored object (wrapped, so that awaiting `add` does not wait for the write). Throws
   * ERR_CFS_TAR_TRUNCATED if the body is shorter than `size`.
   */
  async add (body: AsyncIterable<Uint8Array> | Uint8Array, size: number): Promise<{ written: Promise<WrittenObject> }> {
    if (this.inFlight >= this.max || this.failed !== undefined) await this.room()
    const id = this.nextId++
    const worker = this.leastLoaded()
    const result = new Promise<WrittenObject>((resolve, reject) => this.pending.set(id, { resolve, reject }))
    result.catch(() => {})
    this.load[worker]! += size
    const done = result.finally(() => { this.load[worker]! -= size })
    done.catch(() => {})
    this.results.push(done)
    // a piece's chunks are gathered as views and copied in one go, so two calls of add() never interleave in a
    // ring (the views stay valid: tar bodies are views of source chunks that are never reused)
    const piece = size <= WHOLE_MAX ? size : CHUNK
    if (body instanceof Uint8Array && size <= WHOLE_MAX) {
      // the whole content at hand (most files of a layer): no async iteration
      if (body.length !== size) {
        this.pending.get(id)?.reject(new Error('aborted'))
        if (body.length > size) throw new CfsError('ERR_CFS_IMAGE_BAD', `file content is longer than its size ${size}`)
        throw new CfsError('ERR_CFS_TAR_TRUNCATED', `file content ended after ${body.length} of ${size} bytes`)
      }
      if (!this.lanes[worker]!.ring.fits(size + DIGEST_SIZE)) await this.room(worker, size)
      this.send(worker, id, [body], size, FIRST | LAST)
      return { written: done }
    }
    let parts: Uint8Array[] = []
    let fill = 0
    let sent = 0
    let flags = FIRST
    const hasher = size > WHOLE_MAX && this.hashHere() ? new FsVerityHasher() : undefined
    const chunks = body instanceof Uint8Array ? [body] : body
    for await (const chunk of chunks) {
      let off = 0
      while (off < chunk.length) {
        const target = Math.min(piece, size - sent)
        if (fill === target) {
          // this piece is complete and more bytes follow: hand it out
          if (sent + fill === size) throw new CfsError('ERR_CFS_IMAGE_BAD', `file content is longer than its size ${size}`)
          await this.room(worker, fill)
          this.send(worker, id, parts, fill, flags, hasher)
          sent += fill
          flags = 0
          parts = []
          fill = 0
          continue
        }
        const n = Math.min(chunk.length - off, target - fill)
        parts.push(off === 0 && n === chunk.length ? chunk : chunk.subarray(off, off + n))
        fill += n
        off += n
      }
    }
    if (sent + fill !== size) {
      this.pending.get(id)?.reject(new Error('aborted'))
      throw new CfsError('ERR_CFS_TAR_TRUNCATED', `file content ended after ${sent + fill} of ${size} bytes`)
    }
    if (!this.lanes[worker]!.ring.fits(fill + DIGEST_SIZE)) await this.room(worker, fill)
    this.send(worker, id, parts, fill, flags | LAST, hasher)
    return { written: done }
  }

  /**
   * Waits for every queued object, flushes them to disk (see above), publishes staged ones, and stops the workers.
   * If every object is written already when it is called (its caller awaited them), the flush is asked for before
   * the first await, so that it runs while the caller goes on: cfs build makes and encodes its manifest meanwhile.
   */
  async finish (): Promise<void> {
    try {
      const flushNow = (): Promise<void> | undefined => {
        crashPoint('before-syncfs')
        const flushed = this.syncer?.sync()
        flushed?.catch(() => {})
        return flushed
      }
      let flushed = this.pending.size === 0 && this.failed === undefined ? flushNow() : undefined
      await this.written()
      flushed ??= flushNow()
      // the helper answers in order: a background flush still running ends first
      await this.background
      await flushed
      if (this.stageDir !== undefined) {
        this.publishStaged(this.stageDir)
        await this.syncer?.sync()
      }
    } finally { await this.close() }
  }

  /**
   * Moves every staged XX directory to objects/XX, or its objects one by one where objects/XX is taken (see above).
   * Synchronous calls: nothing else runs meanwhile (the 256 renames of a large build took 10–18 ms so, 22–30 ms
   * through the thread pool).
   */
  private publishStaged (stageDir: string): void {
    const { objectsDir } = this.store
    for (const prefix of readdirSync(stageDir)) {
      crashPoint('before-publish')
      const from = path.join(stageDir, prefix)
      const to = path.join(objectsDir, prefix)
      try {
        // replaces objects/XX only if it is an empty directory
        renameSync(from, to)
        continue
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw fromSystemError(err, 'cannot publish objects in store', to)
      }
      for (const name of readdirSync(from)) {
        try { linkSync(path.join(from, name), path.join(to, name)) } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw fromSystemError(err, 'cannot publish object in store', path.join(to, name))
        }
      }
    }
    rmSync(stageDir, { recursive: true, force: true })
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
    await this.background
    await this.syncer?.close()
    await this.sweeping
    // after a failure, staged objects are not published (those of a completed build are gone already)
    if (this.stageDir !== undefined) await fs.rm(this.stageDir, { recursive: true, force: true })
    if (this.failed === undefined && this.pending.size === 0) return
    const prefix = `obj.${process.pid}.${this.tag}.`
    const names = await fs.readdir(this.store.tmpDir).catch(() => [])
    await Promise.all(names.filter(n => n.startsWith(prefix)).map(async n => await fs.rm(path.join(this.store.tmpDir, n), { force: true })))
  }
}

/**
 * Removes the staging directories of processes that are gone. A build killed before it published leaves one,
 * which can hold a whole image; the next build into the store clears it rather than leaving it to `fsck --repair`.
 * Its objects are not reused: a kill mid-write leaves a partial file under a staged name.
 */
async function sweepStaleStages (tmpDir: string): Promise<void> {
  let names: string[]
  try { names = await fs.readdir(tmpDir) } catch { return }
  await Promise.all(names.map(async name => {
    const temp = parseTempName(name)
    if (temp?.tag !== 'stage' || pidAlive(temp.pid)) return
    // what cannot be removed now stays for fsck to report
    await fs.rm(path.join(tmpDir, name), { recursive: true, force: true }).catch(() => {})
  }))
}

function isEmptyDir (dir: string): boolean {
  try { return readdirSync(dir).length === 0 } catch (err) { if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true; throw err }
}
