/**
 * Checks that a store holds every object a manifest references, intact. Each distinct object is checked once and
 * every finding names all the paths that use it. Sealed objects (kernel fs-verity) are measured by the kernel,
 * which enforces the Merkle tree on every read; all others are re-hashed on a pool of worker threads.
 */
import * as fs from 'node:fs/promises'
import { DigestPool, type Digest } from '@cfs/digest'
import { isCfsError } from '@cfs/errors'
import { isExternal, objectPathOf, walkDepthFirst, type Manifest } from '@cfs/manifest'
import { measureFiles, type Store } from '@cfs/store'

/** How objects were checked: by the kernel's fs-verity measurement, by re-hashing, both, or not at all (no objects). */
export type VerifyMethod = 'kernel' | 'rehash' | 'mixed' | 'none'
export type VerifyProblem = 'missing' | 'corrupt' | 'unreadable' | 'bad-payload'

export interface VerifyFinding {
  object: Digest
  problem: VerifyProblem
  /** every path (byte strings) in the manifest whose content is this object */
  paths: string[]
  /** size the manifest gives the content */
  expectedSize: number
  /** size of the stored file, when it exists */
  actualSize?: number
  /** what the stored bytes hash to, when they were hashed or measured and differ */
  actualDigest?: Digest
  detail: string
}

export interface VerifyReport {
  /** true when every referenced object is present and intact */
  ok: boolean
  method: VerifyMethod
  /** distinct objects referenced */
  objects: number
  /** their total size per the manifest */
  bytes: number
  /** objects checked by kernel measurement / handed to the re-hashing pool (a wrong-sized one is not read) */
  viaKernel: number
  rehashed: number
  /** external files with neither a digest nor a payload in store layout, which cannot be checked (dumps only) */
  unverifiable: number
  /** sorted by object digest */
  findings: VerifyFinding[]
}

export interface VerifyOptions {
  /** worker threads re-hashing objects (default: one per core) */
  jobs?: number
  /** 'auto' (default) uses kernel measurements of sealed objects; 'never' re-hashes everything */
  kernel?: 'auto' | 'never'
  /** called as objects finish; `total` is the number of distinct objects, `bytes` and `totalBytes` their sizes */
  onProgress?: (done: number, total: number, bytes: number, totalBytes: number) => void
}

const OBJECT_PAYLOAD = /^([0-9a-f]{2})\/([0-9a-f]{62})$/

/** The object digest (hex) a payload names when it is in store layout `ab/cdef…`. */
export function hexOfPayload (payload: string | undefined): string | undefined {
  const m = payload === undefined ? null : OBJECT_PAYLOAD.exec(payload)
  return m === null ? undefined : m[1]! + m[2]!
}

interface Wanted { digest: Digest, bytes: Buffer, size: number, paths: string[], payloads: Set<string> }

/** Verifies every object `manifest` references against `store`. Never throws for a bad object: it is a finding. */
export async function verifyManifest (manifest: Manifest, store: Store, opts: VerifyOptions = {}): Promise<VerifyReport> {
  // workers take tens of milliseconds to start: start them first, so they boot while the manifest is walked and the
  // kernel probed. This thread only waits for results, so it hashes too: `jobs` threads busy in all, not jobs + 1.
  const pool = new DigestPool(opts.jobs, { callerHashes: true })
  try {
    return await verifyWith(pool, manifest, store, opts)
  } finally { await pool.close() }
}

async function verifyWith (pool: DigestPool, manifest: Manifest, store: Store, opts: VerifyOptions): Promise<VerifyReport> {
  const wanted = new Map<string, Wanted>()
  let unverifiable = 0
  walkDepthFirst(manifest, (path, node) => {
    const inode = node.inode
    if (!isExternal(inode)) return
    // without a digest (a manifest made from a dump), a payload in store layout still names the object
    const hex = inode.digest !== undefined ? Buffer.from(inode.digest).toString('hex') : hexOfPayload(inode.payload)
    if (hex === undefined) { unverifiable++; return }
    let w = wanted.get(hex)
    if (w === undefined) { w = { digest: `sha256:${hex}`, bytes: Buffer.from(hex, 'hex'), size: inode.size, paths: [], payloads: new Set() }; wanted.set(hex, w) }
    w.paths.push(path)
    if (inode.payload !== undefined) w.payloads.add(inode.payload)
  })

  const findings: VerifyFinding[] = []
  const all = [...wanted.values()]
  let done = 0
  let doneBytes = 0
  const totalBytes = all.reduce((n, w) => n + w.size, 0)
  const progress = (w: Wanted): void => { doneBytes += w.size; opts.onProgress?.(++done, all.length, doneBytes, totalBytes) }
  const payloadOf = (w: Wanted): string => objectPathOf(w.bytes)
  for (const w of all) {
    for (const p of w.payloads) {
      if (p !== payloadOf(w)) findings.push({ object: w.digest, problem: 'bad-payload', paths: w.paths, expectedSize: w.size, detail: `payload ${p} is not the object's store path` })
    }
  }
  const missing = (w: Wanted): void => { findings.push({ object: w.digest, problem: 'missing', paths: w.paths, expectedSize: w.size, detail: 'not in the store' }) }
  const unreadable = (w: Wanted, err: unknown): void => { findings.push({ object: w.digest, problem: 'unreadable', paths: w.paths, expectedSize: w.size, detail: (err as Error).message }) }
  const wrongSize = (w: Wanted, size: number): void => { findings.push({ object: w.digest, problem: 'corrupt', paths: w.paths, expectedSize: w.size, actualSize: size, detail: `stored size ${size}, manifest says ${w.size}` }) }

  let viaKernel = 0
  let rehash = all
  if (opts.kernel !== 'never' && all.length > 0) {
    // one probe decides: on an unsealed store (the common case) no further tool runs and no stats are spent
    const [probe] = await measureFiles([store.objectPath(all[0]!.digest)])
    if (probe !== undefined && 'digest' in probe) {
      rehash = []
      const present: Wanted[] = []
      for (const w of all) {
        try {
          const size = (await fs.stat(store.objectPath(w.digest))).size
          if (size !== w.size) { wrongSize(w, size); progress(w) } else present.push(w)
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') missing(w); else unreadable(w, err)
          progress(w)
        }
      }
      const measured = await measureFiles(present.map(w => store.objectPath(w.digest)))
      present.forEach((w, i) => {
        const m = measured[i]
        if (m === undefined || !('digest' in m)) { rehash.push(w); return }
        viaKernel++
        if (m.digest !== w.digest) {
          findings.push({ object: w.digest, problem: 'corrupt', paths: w.paths, expectedSize: w.size, actualSize: w.size, actualDigest: m.digest, detail: 'the kernel measures a different fs-verity digest' })
        }
        progress(w)
      })
    }
  }

  if (rehash.length > 0) {
    // one batch: the hashing threads compare sizes first, so a wrong-sized object is not read
    const before = done
    const beforeBytes = doneBytes
    // threads take files in list order, so the first n files' bytes is the bar's measure (exact at the end)
    const prefix = new Float64Array(rehash.length + 1)
    rehash.forEach((w, i) => { prefix[i + 1] = prefix[i]! + w.size })
    const got = await pool.digestFiles(rehash.map(w => store.objectPath(w.digest)), rehash.map(w => w.size),
      opts.onProgress === undefined ? undefined : (n) => { opts.onProgress?.(before + n, all.length, beforeBytes + prefix[n]!, totalBytes) })
    done = before + rehash.length
    doneBytes = beforeBytes + prefix[rehash.length]!
    rehash.forEach((w, i) => {
      const err = got.error(i)
      if (err !== undefined) { if (isCfsError(err, 'ERR_CFS_FILE_NOT_FOUND')) missing(w); else unreadable(w, err); return }
      const digest = got.digest(i)
      if (digest === undefined) { wrongSize(w, got.size(i)); return }
      if (!digest.equals(w.bytes)) {
        findings.push({ object: w.digest, problem: 'corrupt', paths: w.paths, expectedSize: w.size, actualSize: got.size(i), actualDigest: `sha256:${digest.toString('hex')}`, detail: 'content does not hash to its name' })
      }
    })
  }

  findings.sort((a, b) => a.object < b.object ? -1 : a.object > b.object ? 1 : a.problem < b.problem ? -1 : 1)
  const rehashed = rehash.length
  const method: VerifyMethod = viaKernel > 0 && rehashed > 0 ? 'mixed' : viaKernel > 0 ? 'kernel' : rehashed > 0 ? 'rehash' : 'none'
  return {
    ok: findings.length === 0,
    method,
    objects: all.length,
    bytes: all.reduce((s, w) => s + w.size, 0),
    viaKernel,
    rehashed,
    unverifiable,
    findings,
  }
}

/**
 * Hex digests of every object a manifest's external files use (by digest, else by a payload in store layout): what
 * keeps objects alive in gc.
 */
export function objectsReferencedBy (manifest: Manifest): Set<string> {
  const refs = new Set<string>()
  walkDepthFirst(manifest, (_path, node) => {
    if (!isExternal(node.inode)) return
    const hex = node.inode.digest !== undefined ? Buffer.from(node.inode.digest).toString('hex') : hexOfPayload(node.inode.payload)
    if (hex !== undefined) refs.add(hex)
  })
  return refs
}
