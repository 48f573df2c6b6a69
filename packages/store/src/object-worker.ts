/**
 * Worker thread of ObjectWriter: hashes object content (fs-verity; unless the main thread did, see HASHED) and
 * writes it to the store, so hashing and write syscalls run beside the main thread's tar parsing. Messages for one
 * object always go to the same worker and arrive in order. Objects are published with link(2), which fails on an
 * existing name: an object already in the store is never rewritten, even when two workers race on the same content.
 * rename(2) would save the unlink but can replace an object another build published and made durable (with a copy
 * not yet flushed, or unsealed); it also measured no faster here (38 000 files on ext4: link + unlink 1.44–1.52 s,
 * rename 1.44–1.49 s), so link(2) stays.
 * Into a store whose objects/ was empty when the build started, objects are instead written straight to their names
 * under a staging directory (`stageDir`/XX/REST), which ObjectWriter.finish() publishes by renaming each XX
 * directory once the data is durable: creating the file is then the only directory operation per object, as in
 * `tar -x`.
 * The messages are described in object-protocol.ts.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { parentPort, threadId, workerData } from 'node:worker_threads'
import { FsVerityHasher } from '@cfs/digest'
import { crashPoint } from './crash-point.js'
import { ABORTED, CREATED, DIGEST_SIZE, EXISTED, FAILED, FIRST, HASHED, LAST, PARTIAL, PIECE_FIELDS, type WorkerBatch, type WorkerReplies } from './object-protocol.js'

/** an object arriving in several pieces; `hasher` unless the main thread hashes it */
interface Job { hasher: FsVerityHasher | undefined, size: number, fd: number, tmp: string }

/** reused for every whole object this worker hashes */
const hasher = new FsVerityHasher()

const { objectsDir, tmpDir, tag, fsync, freshStore, stageDir, ring } = workerData as { objectsDir: string, tmpDir: string, tag: string, fsync: boolean, freshStore: boolean, stageDir: string | undefined, ring: SharedArrayBuffer }
const jobs = new Map<number, Job>()
/**
 * Digests this worker already found or published, so that a duplicate within a build costs no syscall: not when
 * staging, where the exclusive create of a duplicate fails at the cost of one lookup, and the set's hashing of
 * 60 000 hex names cost more (perf: 50 ms of the worker's CPU in a 60 000-file build).
 */
const seen: Set<string> | undefined = stageDir === undefined ? new Set() : undefined
let seq = 0
// paths by concatenation: path.join normalises its whole result, a measurable cost at 60 000 objects a build
/** `objects/` with its slash */
const objectsPrefix = path.join(objectsDir, '/')
/** every temp file's path up to its sequence number */
const tmpPrefix = path.join(tmpDir, `${tag}.${threadId}.`)
/** where objects go: the staging directory (see above) or objects/, with its slash */
const targetPrefix = stageDir !== undefined ? path.join(stageDir, '/') : objectsPrefix

/** Runs `make` (which creates an entry in `dir`), creating `dir` first if `make` finds it missing. */
function inDir (dir: string, make: () => void): void {
  try { make() } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    fs.mkdirSync(dir, { recursive: true })
    make()
  }
}

/** Links a complete temp file to the object's name (staged or final); false if an object of that name exists. */
function publish (tmp: string, hex: string): boolean {
  const dir = targetPrefix + hex.slice(0, 2)
  crashPoint('object-temp')
  try {
    inDir(dir, () => fs.linkSync(tmp, dir + '/' + hex.slice(2)))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw err
  }
  crashPoint('object-linked')
  return true
}

/** write(2) may write less than asked (a filling disk does): loop, so that a short file is never linked as an object */
function writeAll (fd: number, data: Uint8Array): void {
  for (let off = 0; off < data.length;) {
    const n = fs.writeSync(fd, data, off, data.length - off)
    if (n <= 0) throw Object.assign(new Error('write made no progress'), { code: 'EIO' })
    off += n
  }
}

function objectExists (hex: string): boolean {
  if (seen?.has(hex) === true) return true
  if (freshStore) return false
  return fs.existsSync(objectsPrefix + hex.slice(0, 2) + '/' + hex.slice(2))
}

/**
 * Writes a whole object straight to its staged name (a fresh store, see above); false if the name exists (another
 * worker of this build staged the same content). A write that fails removes its own partial file.
 */
function stage (hex: string, data: Uint8Array): boolean {
  const dir = targetPrefix + hex.slice(0, 2)
  const file = dir + '/' + hex.slice(2)
  crashPoint('object-temp')
  try {
    inDir(dir, () => writeNew(file, data))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false
    // a failed open made nothing; a failed write leaves a partial file of ours
    fs.rmSync(file, { force: true })
    throw err
  }
  crashPoint('object-staged')
  return true
}

/** Creates `file` (it must not exist) holding `data`; fsync'ed when the writer was asked for it. */
function writeNew (file: string, data: Uint8Array): void {
  if (fsync) {
    const fd = fs.openSync(file, 'wx', 0o644)
    try { writeAll(fd, data); fs.fsyncSync(fd) } finally { fs.closeSync(fd) }
  } else {
    // one call for open + write + close (writeFileSync loops on short writes itself): fewer crossings into C++
    fs.writeFileSync(file, data, { flag: 'wx', mode: 0o644 })
  }
}

/** The digest the main thread put just before a piece's content (HASHED). */
function digestBefore (data: Uint8Array): Buffer {
  return Buffer.from(new Uint8Array(data.buffer, data.byteOffset - DIGEST_SIZE, DIGEST_SIZE))
}

/** Stores one piece; returns the finished object's digest, or undefined while more pieces are to come. */
function handle (id: number, data: Uint8Array, first: boolean, last: boolean, hashed: boolean): { digest: Buffer, created: boolean, size: number } | undefined {
  if (first && last) {
    // the whole object in one piece: hash first (unless the main thread did), and skip the write when the object exists
    const digest = hashed ? digestBefore(data) : hasher.reset().update(data).digest()
    const hex = digest.toString('hex')
    // staging implies an empty store: nothing to look up
    if (stageDir !== undefined) return { digest, created: stage(hex, data), size: data.length }
    if (objectExists(hex)) return { digest, created: false, size: data.length }
    const tmp = tmpPrefix + String(seq++)
    try {
      writeNew(tmp, data)
    } catch (err) {
      // a full disk fails here: leave no temp file behind
      fs.rmSync(tmp, { force: true })
      throw err
    }
    let created: boolean
    try { created = publish(tmp, hex) } finally { fs.unlinkSync(tmp) }
    seen?.add(hex)
    return { digest, created, size: data.length }
  }
  let job = jobs.get(id)
  if (job === undefined) {
    const tmp = tmpPrefix + String(seq++)
    job = { hasher: hashed ? undefined : new FsVerityHasher(), size: 0, fd: fs.openSync(tmp, 'wx', 0o644), tmp }
    jobs.set(id, job)
  }
  job.hasher?.update(data)
  job.size += data.length
  writeAll(job.fd, data)
  if (!last) { crashPoint('object-partial'); return undefined }
  if (fsync) fs.fsyncSync(job.fd)
  jobs.delete(id)
  fs.closeSync(job.fd)
  if (job.hasher === undefined && !hashed) throw new Error('object-worker: the last piece of a hashed object has no digest')
  const digest = job.hasher?.digest() ?? digestBefore(data)
  const hex = digest.toString('hex')
  let created: boolean
  try { created = publish(job.tmp, hex) } finally { fs.unlinkSync(job.tmp) }
  seen?.add(hex)
  return { digest, created, size: job.size }
}

// Replies travel in batches too: one postMessage per batch instead of one per object (measured: a per-object
// reply took a quarter of a worker's time).
let replies: number[] = []
let errors: WorkerReplies['errors'] = []
let digests = Buffer.allocUnsafe(256 * DIGEST_SIZE)
let digestFill = 0
let flushing = false

function addDigest (d: Buffer): void {
  if (digestFill + DIGEST_SIZE > digests.length) {
    const bigger = Buffer.allocUnsafe(digests.length * 2)
    digests.copy(bigger, 0, 0, digestFill)
    digests = bigger
  }
  d.copy(digests, digestFill)
  digestFill += DIGEST_SIZE
}

function handleSafely (id: number, data: Uint8Array, flags: number): void {
  try {
    const done = handle(id, data, (flags & FIRST) !== 0, (flags & LAST) !== 0, (flags & HASHED) !== 0)
    if (done === undefined) { replies.push(id, data.length, 0, PARTIAL); return }
    addDigest(done.digest)
    replies.push(id, data.length, done.size, done.created ? CREATED : EXISTED)
  } catch (err) {
    const job = jobs.get(id)
    if (job !== undefined) {
      jobs.delete(id)
      try { fs.closeSync(job.fd) } catch {}
      try { fs.unlinkSync(job.tmp) } catch {}
    }
    const e = err as NodeJS.ErrnoException
    replies.push(id, data.length, 0, FAILED)
    errors.push({ message: e.message, ...(e.code !== undefined ? { code: e.code } : {}) })
  }
}

function flush (): void {
  flushing = false
  const out = new Uint8Array(digestFill)
  out.set(digests.subarray(0, digestFill))
  const message: WorkerReplies = { replies, digests: out.buffer, errors }
  replies = []
  errors = []
  digestFill = 0
  parentPort!.postMessage(message, [out.buffer])
}

/** Drops the objects not finished (the build failed): their temp files would otherwise stay in tmp/ until fsck. */
function abortJobs (): void {
  for (const job of jobs.values()) {
    try { fs.closeSync(job.fd) } catch {}
    try { fs.unlinkSync(job.tmp) } catch {}
  }
  jobs.clear()
}

parentPort!.on('message', (batch: WorkerBatch | 'abort') => {
  if (batch === 'abort') { abortJobs(); parentPort!.postMessage(ABORTED); return }
  const { pieces } = batch
  for (let i = 0; i < pieces.length; i += PIECE_FIELDS) {
    handleSafely(pieces[i]!, new Uint8Array(ring, pieces[i + 1]!, pieces[i + 2]!), pieces[i + 3]!)
  }
  if (!flushing) { flushing = true; setImmediate(flush) }
})
