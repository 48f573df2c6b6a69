/**
 * Store consistency check: every object must hash to its name, every image file must hash to its name, and
 * nothing else may live in objects/, images/ or tmp/. With `repair`, corrupt objects and images move to
 * `quarantine/` (kept for inspection, out of reach of mounts) and strays are deleted. Temp files whose writer
 * (the pid in `<tag>.<pid>.<rand>`) still runs are a build in progress and are left alone.
 */
import * as crypto from 'node:crypto'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { DigestPool, type Digest } from '@cfs/digest'
import { fromSystemError } from '@cfs/errors'
import { IMAGE_LAYERS_SUFFIX, IMAGE_SUFFIX, QUARANTINE_DIR, parseTempName } from './layout.js'
import { pidAlive } from './lease.js'
import { scanObjects } from './scan-objects.js'
import type { Store } from './store.js'

export type FsckProblem = 'corrupt-object' | 'unreadable-object' | 'corrupt-image' | 'stray' | 'stale-temp'
export type FsckAction = 'quarantined' | 'removed' | 'none'

export interface FsckFinding {
  problem: FsckProblem
  /** path relative to the store root */
  path: string
  /** the object or image this file claims to be */
  claimed?: Digest
  /** what the bytes actually hash to */
  actual?: Digest
  detail: string
  action: FsckAction
}

export interface FsckReport {
  objects: number
  bytes: number
  images: number
  findings: FsckFinding[]
  /** temp files of writers still running, left alone */
  inProgress: string[]
  repair: boolean
  /** true when the store is clean after this run (findings all repaired, or none) */
  clean: boolean
}

export interface FsckOptions {
  repair?: boolean
  /** worker threads hashing objects (default: one per core) */
  jobs?: number
  onProgress?: (done: number, total: number) => void
}

/** Checks the whole store; with `repair`, holds the gc lock so no build runs while files move. */
export async function fsckStore (store: Store, opts: FsckOptions = {}): Promise<FsckReport> {
  const repair = opts.repair === true
  const lock = repair ? await store.acquireGcLock() : undefined
  try {
    const findings: FsckFinding[] = []
    const rel = (p: string): string => path.relative(store.root, p)
    const { objects, strays } = await scanObjects(store.objectsDir)
    for (const s of strays) findings.push({ problem: 'stray', path: rel(s.path), detail: s.why, action: 'none' })

    let bytes = 0
    // this thread only waits for results, so it hashes too: `jobs` busy threads in all
    const pool = new DigestPool(opts.jobs, { callerHashes: true })
    try {
      const got = await pool.digestFiles(objects.map(o => o.path), undefined,
        opts.onProgress === undefined ? undefined : (n) => { opts.onProgress?.(n, objects.length) })
      objects.forEach((obj, i) => {
        const digest = got.digest(i)
        if (digest === undefined) {
          findings.push({ problem: 'unreadable-object', path: rel(obj.path), claimed: obj.digest, detail: (got.error(i) as Error).message, action: 'none' })
          return
        }
        bytes += got.size(i)
        const actual: Digest = `sha256:${digest.toString('hex')}`
        if (actual !== obj.digest) findings.push({ problem: 'corrupt-object', path: rel(obj.path), claimed: obj.digest, actual, detail: 'content does not hash to its name', action: 'none' })
      })
    } finally { await pool.close() }

    const images = await checkImages(store, findings, rel)
    const inProgress = await checkTemps(store, findings, rel)

    if (repair) {
      for (const f of findings) {
        const abs = path.join(store.root, f.path)
        if (f.problem === 'corrupt-object' || f.problem === 'unreadable-object' || f.problem === 'corrupt-image') {
          await quarantine(store, abs)
          f.action = 'quarantined'
        } else {
          await fs.rm(abs, { recursive: true, force: true }).catch((err: unknown) => { throw fromSystemError(err, 'cannot remove', abs) })
          f.action = 'removed'
        }
      }
    }
    findings.sort((a, b) => a.path < b.path ? -1 : a.path > b.path ? 1 : 0)
    const clean = findings.every(f => f.action !== 'none')
    return { objects: objects.length, bytes, images, findings, inProgress: inProgress.sort(), repair, clean }
  } finally {
    await lock?.release()
  }
}

async function checkImages (store: Store, findings: FsckFinding[], rel: (p: string) => string): Promise<number> {
  let names: string[]
  try { names = await fs.readdir(store.imagesDir) } catch { return 0 }
  let count = 0
  for (const name of names) {
    const file = path.join(store.imagesDir, name)
    if (name.endsWith(IMAGE_LAYERS_SUFFIX) && /^[0-9a-f]{64}$/.test(name.slice(0, -IMAGE_LAYERS_SUFFIX.length))) {
      // a layer record is kept with its image; one whose image is gone is a stray
      if (!names.includes(name.slice(0, -IMAGE_LAYERS_SUFFIX.length) + IMAGE_SUFFIX)) findings.push({ problem: 'stray', path: rel(file), detail: 'layer record of an image that is not kept', action: 'none' })
      continue
    }
    const hex = name.slice(0, -IMAGE_SUFFIX.length)
    if (!name.endsWith(IMAGE_SUFFIX) || !/^[0-9a-f]{64}$/.test(hex)) {
      findings.push({ problem: 'stray', path: rel(file), detail: 'not an image name', action: 'none' })
      continue
    }
    count++
    let bytes: Buffer
    try { bytes = await fs.readFile(file) } catch (err) {
      findings.push({ problem: 'corrupt-image', path: rel(file), claimed: `sha256:${hex}`, detail: (err as Error).message, action: 'none' })
      continue
    }
    const actual = crypto.createHash('sha256').update(bytes).digest('hex')
    if (actual !== hex) findings.push({ problem: 'corrupt-image', path: rel(file), claimed: `sha256:${hex}`, actual: `sha256:${actual}`, detail: 'manifest bytes do not hash to the image name', action: 'none' })
  }
  return count
}

/**
 * Temp files are `<tag>.<pid>.<rest>` (Store.tempPath, ObjectWriter's `obj.<pid>.<writer>.<thread>.<n>`, oci's
 * `spool.<pid>.<rand>.tar`); only those of dead writers, or unparseable ones, are stale.
 */
async function checkTemps (store: Store, findings: FsckFinding[], rel: (p: string) => string): Promise<string[]> {
  let names: string[]
  try { names = await fs.readdir(store.tmpDir) } catch { return [] }
  const inProgress: string[] = []
  for (const name of names) {
    const file = path.join(store.tmpDir, name)
    const pid = parseTempName(name)?.pid
    if (pid !== undefined && pidAlive(pid)) { inProgress.push(rel(file)); continue }
    findings.push({ problem: 'stale-temp', path: rel(file), detail: pid === undefined ? 'not a cfs temp file name' : `left by process ${pid}, which is gone`, action: 'none' })
  }
  return inProgress
}

async function quarantine (store: Store, file: string): Promise<void> {
  const dir = path.join(store.root, QUARANTINE_DIR)
  const parent = path.basename(path.dirname(file))
  // objects/ab/cdef… → quarantine/abcdef….<ms>, so the full digest stays readable
  const base = /^[0-9a-f]{2}$/.test(parent) ? parent + path.basename(file) : path.basename(file)
  const dest = path.join(dir, `${base}.${Date.now()}`)
  try {
    await fs.mkdir(dir, { recursive: true })
    await fs.rename(file, dest)
  } catch (err) { throw fromSystemError(err, 'cannot quarantine', file) }
}
