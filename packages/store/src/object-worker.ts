/**
 * Worker thread of ObjectWriter: hashes object content (fs-verity) and writes it to the store, so hashing and
 * write syscalls run beside the main thread's tar parsing. Messages for one object always go to the same worker
 * and arrive in order. Objects are published with link(2), which fails on an existing name: an object already in
 * the store is never rewritten, even when two workers race on the same content.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { parentPort, threadId, workerData } from 'node:worker_threads'
import { FsVerityHasher } from '@cfs/digest'
import { crashPoint } from './crash-point.js'

interface Job { hasher: FsVerityHasher, fd: number, tmp: string }
export interface WorkerRequest { id: number, buf: ArrayBuffer, len: number, first: boolean, last: boolean }
/** `digest` travels as hex: a Buffer view would clone its whole (pooled) backing store with it */
export interface WorkerReply { id: number, freed: number, done?: { digest: string, created: boolean, size: number }, error?: { message: string, code?: string } }

/** the reply to an 'abort' request, once every unfinished object is removed */
const ABORTED = 'aborted'

const { objectsDir, tmpDir, tag, fsync, freshStore } = workerData as { objectsDir: string, tmpDir: string, tag: string, fsync: boolean, freshStore: boolean }
const jobs = new Map<number, Job>()
/** digests this worker already found or published: a duplicate within a build costs no syscall */
const seen = new Set<string>()
let seq = 0

function publish (tmp: string, hex: string): boolean {
  const final = path.join(objectsDir, hex.slice(0, 2), hex.slice(2))
  crashPoint('object-temp')
  try {
    fs.linkSync(tmp, final)
    crashPoint('object-linked')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EEXIST') return false
    if (code !== 'ENOENT') throw err
    fs.mkdirSync(path.dirname(final), { recursive: true })
    try { fs.linkSync(tmp, final) } catch (err2) { if ((err2 as NodeJS.ErrnoException).code === 'EEXIST') return false; throw err2 }
  }
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
  if (seen.has(hex)) return true
  if (freshStore) return false
  return fs.existsSync(path.join(objectsDir, hex.slice(0, 2), hex.slice(2)))
}

function handle (m: WorkerRequest): WorkerReply {
  const data = new Uint8Array(m.buf, 0, m.len)
  if (m.first && m.last) {
    // the whole object in one message: hash first, and skip the write when the object exists
    const digest = new FsVerityHasher().update(data).digest()
    const hex = digest.toString('hex')
    if (objectExists(hex)) return { id: m.id, freed: m.len, done: { digest: hex, created: false, size: m.len } }
    const tmp = path.join(tmpDir, `${tag}.${threadId}.${seq++}`)
    try {
      if (fsync) {
        const fd = fs.openSync(tmp, 'wx', 0o644)
        try { writeAll(fd, data); fs.fsyncSync(fd) } finally { fs.closeSync(fd) }
      } else {
        // one call for open + write + close (writeFileSync loops on short writes itself): fewer crossings into C++
        fs.writeFileSync(tmp, data, { flag: 'wx', mode: 0o644 })
      }
    } catch (err) {
      // a full disk fails here: leave no temp file behind
      fs.rmSync(tmp, { force: true })
      throw err
    }
    let created: boolean
    try { created = publish(tmp, hex) } finally { fs.unlinkSync(tmp) }
    seen.add(hex)
    return { id: m.id, freed: m.len, done: { digest: hex, created, size: m.len } }
  }
  let job = jobs.get(m.id)
  if (job === undefined) {
    const tmp = path.join(tmpDir, `${tag}.${threadId}.${seq++}`)
    job = { hasher: new FsVerityHasher(), fd: fs.openSync(tmp, 'wx', 0o644), tmp }
    jobs.set(m.id, job)
  }
  job.hasher.update(data)
  writeAll(job.fd, data)
  if (!m.last) { crashPoint('object-partial'); return { id: m.id, freed: m.len } }
  if (fsync) fs.fsyncSync(job.fd)
  jobs.delete(m.id)
  fs.closeSync(job.fd)
  const hex = job.hasher.digest().toString('hex')
  let created: boolean
  try { created = publish(job.tmp, hex) } finally { fs.unlinkSync(job.tmp) }
  seen.add(hex)
  return { id: m.id, freed: m.len, done: { digest: hex, created, size: job.hasher.size } }
}

function handleSafely (m: WorkerRequest): WorkerReply {
  try {
    return handle(m)
  } catch (err) {
    const job = jobs.get(m.id)
    if (job !== undefined) {
      jobs.delete(m.id)
      try { fs.closeSync(job.fd) } catch {}
      try { fs.unlinkSync(job.tmp) } catch {}
    }
    const e = err as NodeJS.ErrnoException
    return { id: m.id, freed: m.len, error: { message: e.message, ...(e.code !== undefined ? { code: e.code } : {}) } }
  }
}

// Requests and replies travel in batches: one postMessage per batch instead of one per object (measured: a
// per-object reply took a quarter of a worker's time).
let replies: WorkerReply[] = []
let flushing = false
function flush (): void {
  flushing = false
  const batch = replies
  replies = []
  parentPort!.postMessage(batch)
}

/** Drops the objects not finished (the build failed): their temp files would otherwise stay in tmp/ until fsck. */
function abortJobs (): void {
  for (const job of jobs.values()) {
    try { fs.closeSync(job.fd) } catch {}
    try { fs.unlinkSync(job.tmp) } catch {}
  }
  jobs.clear()
}

parentPort!.on('message', (batch: WorkerRequest[] | 'abort') => {
  if (batch === 'abort') { abortJobs(); parentPort!.postMessage(ABORTED); return }
  for (const m of batch) replies.push(handleSafely(m))
  if (!flushing) { flushing = true; setImmediate(flush) }
})
