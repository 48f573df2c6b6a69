/**
 * Garbage collection: an object survives when a kept image (`images/<sha256>.cfsm`) references it. gc holds the
 * gc lock throughout, so no build can be between writing an object and registering the image that uses it.
 * The store cannot decode manifests (that is @cfs/manifest, beside it), so the caller says what an image references.
 */
import * as fs from 'node:fs/promises'
import { CfsError } from '@cfs/errors'
import type { Digest } from '@cfs/digest'
import { readImage } from './images.js'
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
    return { dryRun: opts.dryRun === true, images: images.length, kept, removed, bytesFreed, missing: live.size - kept }
  } finally {
    await lock.release()
  }
}
