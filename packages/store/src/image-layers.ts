/**
 * The layer record kept beside an image: `images/<hex>.layers.json`, written by `cfs build` when it registers an
 * image built from layers. It says, per layer, how many files and bytes the layer brought and how many of its
 * objects the build wrote new, found already in the store, or had already written for an earlier file of the same
 * image. The manifest cannot say this (it knows only the merged tree), so the record is the only place it lives.
 * It is informational: nothing else reads it, gc and fsck keep it with its image, and `removeImage` drops it.
 */
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { digestHex, type Digest } from '@cfs/digest'
import { fromSystemError } from '@cfs/errors'
import { IMAGE_LAYERS_SUFFIX } from './layout.js'
import { writeFileAtomic, type Store } from './store.js'

/** Version tag of the record; a reader ignores a record with another tag. */
export const IMAGE_LAYERS_SCHEMA = 'cfs.image-layers/1'

export interface ObjectTally { count: number, bytes: number }

export interface LayerRecord {
  /** 0 is the bottom layer */
  index: number
  /** the layer's blob digest when the image names it, else its path in the archive */
  name: string
  /** uncompressed tar digest (diff_id), when the image names it */
  diffId?: string
  /** bytes of the layer as stored in the input (maybe compressed) */
  storedBytes: number
  /** bytes of the uncompressed tar */
  tarBytes: number
  /** regular-file entries in the layer (hardlink entries not counted), and their content bytes */
  files: number
  fileBytes: number
  /** files of 1..INLINE_MAX bytes kept in the manifest rather than as objects */
  inlineFiles: number
  inlineBytes: number
  /**
   * Files stored as objects, by what the build found: `new` objects it wrote to the store, objects `reused` from
   * the store (written by an earlier build), and `deduped` files whose content an earlier file of this image (in
   * this layer or a lower one) already had. `bytes` counts file bytes, so new + reused + deduped + inline = fileBytes.
   */
  objects: { new: ObjectTally, reused: ObjectTally, deduped: ObjectTally }
}

export interface ImageLayers {
  schema: typeof IMAGE_LAYERS_SCHEMA
  image: Digest
  /** input format, e.g. docker-archive */
  format: string
  platform?: string
  /** when the record was written (ISO 8601), by the first build of the image that wrote one */
  recorded: string
  layers: LayerRecord[]
}

/** `images/<hex>.layers.json` of an image. */
export function imageLayersPath (store: Store, digest: Digest): string {
  return path.join(store.imagesDir, digestHex(digest) + IMAGE_LAYERS_SUFFIX)
}

/**
 * Writes the layer record of a registered image atomically, unless one exists: the record describes the first build
 * that wrote one (a rebuild would find every object already stored). Returns whether it wrote.
 */
export async function putImageLayers (store: Store, record: ImageLayers): Promise<boolean> {
  const final = imageLayersPath(store, record.image)
  try { await fs.access(final); return false } catch {}
  await writeFileAtomic(final, Buffer.from(JSON.stringify(record, null, 1) + '\n'), store.tempPath('image'))
  return true
}

/** The layer record of an image, or undefined when there is none or it is unreadable or of another schema. */
export async function readImageLayers (store: Store, digest: Digest): Promise<ImageLayers | undefined> {
  let text: string
  try { text = await fs.readFile(imageLayersPath(store, digest), 'utf8') } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw fromSystemError(err, 'cannot read', imageLayersPath(store, digest))
  }
  try {
    const json = JSON.parse(text) as ImageLayers
    return json.schema === IMAGE_LAYERS_SCHEMA && json.image === digest && Array.isArray(json.layers) ? json : undefined
  } catch { return undefined }
}
