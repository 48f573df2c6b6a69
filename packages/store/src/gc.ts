/**
 * Garbage collection: an object survives when a kept image (`images/<sha256>.cfsm`) references it. gc holds the
 * gc lock throughout, so no build can be between writing an object and registering the image that uses it.
 * The store cannot decode manifests (that is @cfs/manifest, beside it), so the caller says what an image references.
 * A cached composefs image (`erofs-cache/<sha256>.v<N>.img`) survives while its manifest is a kept image, or while
 * the kernel has it attached (a loop device or a mount source), whatever its manifest.
 */
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { CfsError, fromSystemError } from '@cfs/errors'
import { digestHex, type Digest } from '@cfs/digest'
import { filesInUse } from './files-in-use.js'
import { readImage } from './images.js'
import { EROFS_CACHE_DIR, parseErofsCacheName, parseErofsCacheTemp } from './layout.js'
import { pidAlive } from './lease.js'
import { scanObjects } from './scan-objects.js'
import type { Store } from './store.js'

export interface GcOptions {
  /**
   * Digests (`sha256:…` or bare hex) of the objects an image's manifest references. Throwing aborts gc before
   * anything is deleted: a root that cannot be read must not let its objects go.
   */
  referencesOf: (manifestBytes: Buffer, image: Digest) => Iterable<string>
  /** report what would be removed, remove nothing */
  dryRun?: boolean
  /**
   * The version of cached composefs images the current writer makes (@cfs/kernel-mount's IMAGE_CACHE_VERSION).
   * When given, cached images of other versions are removed too (unless in use): nothing would read them again.
   */
  erofsCacheVersion?: number
}

export interface ErofsCacheReport {
  /** cached images kept because their manifest is a kept image */
  kept: number
  /** cached images kept only because the kernel has them attached (file names) */
  inUse: string[]
  /** cached images and dead writers' temp files removed (or, with dryRun, that would be) */
  removed: Array<{ file: string, size: number }>
  bytesFreed: number
}

export interface GcReport {
  dryRun: boolean
  /** kept images (the roots) */
  images: number
  /** objects kept because an image references them */
  kept: number
  /** objects removed (or, with dryRun, that would be) */
  removed: Array<{ object: Digest, size: number }>
  bytesFreed: number
  /** objects referenced by an image but absent from the store (cfs verify names the paths) */
  missing: number
  /** what happened in `erofs-cache/` (bytesFreed above counts objects only) */
  erofsCache: ErofsCacheReport
}

/** Removes every object no kept image references. Throws ERR_CFS_STORE_LOCKED if builds never finish. */
export async function collectGarbage (store: Store, opts: GcOptions): Promise<GcReport> {
  const lock = await store.acquireGcLock()
  try {
    const images = await store.listImages()
    const live = new Set<string>()
    for (const image of images) {
      const bytes = await readImage(store, image)
      let refs: Iterable<string>
      try { refs = opts.referencesOf(bytes, image) } catch (err) {
        throw new CfsError('ERR_CFS_MANIFEST_CORRUPT', `cannot read kept image ${image}; gc removed nothing`,
          { hint: 'run cfs fsck --repair to quarantine it, or cfs rm it', cause: err })
      }
      for (const r of refs) live.add(r.startsWith('sha256:') ? r : `sha256:${r}`)
    }
    const { objects } = await scanObjects(store.objectsDir)
    const removed: GcReport['removed'] = []
    let bytesFreed = 0
    let kept = 0
    for (const obj of objects) {
      if (live.has(obj.digest)) { kept++; continue }
      if (opts.dryRun !== true) await fs.rm(obj.path, { force: true })
      removed.push({ object: obj.digest, size: obj.size })
      bytesFreed += obj.size
    }
    const erofsCache = await collectErofsCache(path.join(store.root, EROFS_CACHE_DIR), new Set(images.map(digestHex)), opts)
    return { dryRun: opts.dryRun === true, images: images.length, kept, removed, bytesFreed, missing: live.size - kept, erofsCache }
  } finally {
    await lock.release()
  }
}

/**
 * Removes cached composefs images whose manifest is not a kept image (or, with `erofsCacheVersion`, of another
 * writer version) unless the kernel has them attached, and temp files of writers that died. Other names are left.
 */
async function collectErofsCache (dir: string, kept: Set<string>, opts: GcOptions): Promise<ErofsCacheReport> {
  const report: ErofsCacheReport = { kept: 0, inUse: [], removed: [], bytesFreed: 0 }
  let names: string[]
  try { names = (await fs.readdir(dir)).sort() } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return report
    throw fromSystemError(err, 'cannot list', dir)
  }
  const inUse = filesInUse()
  for (const name of names) {
    const file = path.join(dir, name)
    const image = parseErofsCacheName(name)
    if (image !== undefined) {
      if (kept.has(image.hex) && (opts.erofsCacheVersion === undefined || image.version === opts.erofsCacheVersion)) { report.kept++; continue }
      if (inUse.has(file) || inUse.has(await fs.realpath(file).catch(() => file))) { report.inUse.push(name); continue }
    } else {
      const temp = parseErofsCacheTemp(name)
      if (temp === undefined || pidAlive(temp.pid)) continue
    }
    let size: number
    try { size = (await fs.lstat(file)).size } catch { continue } // removed meanwhile
    if (opts.dryRun !== true) await fs.rm(file, { force: true })
    report.removed.push({ file: name, size })
    report.bytesFreed += size
  }
  return report
}
