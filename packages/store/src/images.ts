import * as fs from 'node:fs/promises'
import { CfsError, fromSystemError } from '@cfs/errors'
import type { Digest } from '@cfs/digest'
import { imageLayersPath } from './image-layers.js'
import type { Store } from './store.js'

/**
 * Finds the kept image a user means: a full digest (`sha256:` optional) or an unambiguous prefix of its hex.
 * Throws ERR_CFS_IMAGE_NOT_FOUND when nothing matches, ERR_CFS_IMAGE_AMBIGUOUS when several do.
 */
export async function resolveImage (store: Store, text: string): Promise<Digest> {
  const hex = (text.startsWith('sha256:') ? text.slice(7) : text).toLowerCase()
  if (!/^[0-9a-f]{1,64}$/.test(hex)) {
    throw new CfsError('ERR_CFS_DIGEST_BAD', `bad image digest '${text.slice(0, 80)}': expected hex digits, optionally after sha256:`)
  }
  const matches = (await store.listImages()).filter(d => d.slice(7).startsWith(hex))
  if (matches.length === 0) {
    throw new CfsError('ERR_CFS_IMAGE_NOT_FOUND', `no kept image matches ${text} in store ${store.root}`, { hint: 'list them with cfs images' })
  }
  if (matches.length > 1) {
    throw new CfsError('ERR_CFS_IMAGE_AMBIGUOUS', `${text} matches ${matches.length} kept images in store ${store.root}`, { hint: 'give more digits' })
  }
  return matches[0]!
}

/** Bytes of a kept image's manifest. Throws ERR_CFS_IMAGE_NOT_FOUND if it is not kept. */
export async function readImage (store: Store, digest: Digest): Promise<Buffer> {
  try { return await fs.readFile(store.imagePath(digest)) } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new CfsError('ERR_CFS_IMAGE_NOT_FOUND', `image ${digest} is not kept in store ${store.root}`, { cause: err })
    throw fromSystemError(err, 'cannot read', store.imagePath(digest))
  }
}

/** Drops an image from the gc roots (and its layer record); its objects go at the next gc unless another image uses them. */
export async function removeImage (store: Store, digest: Digest): Promise<void> {
  try { await fs.rm(store.imagePath(digest)) } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new CfsError('ERR_CFS_IMAGE_NOT_FOUND', `image ${digest} is not kept in store ${store.root}`, { cause: err })
    throw fromSystemError(err, 'cannot remove', store.imagePath(digest))
  }
  await fs.rm(imageLayersPath(store, digest), { force: true }).catch(() => {})
}
