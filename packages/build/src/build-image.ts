import { performance } from 'node:perf_hooks'
import type { Digest } from '@cfs/digest'
import { CfsError } from '@cfs/errors'
import { encodeManifest, fileKind, type Inode, type Manifest, type Node } from '@cfs/manifest'
import { detectFormat, openImage, type DecompressLimits, type Image, type ImageFormat, type Platform } from '@cfs/oci'
import { ObjectWriter, putImageLayers, IMAGE_LAYERS_SCHEMA, type LayerRecord, type ObjectWriterOptions, type Store } from '@cfs/store'
import { BuildTree } from './build-tree.js'
import { emptyStats, type BuildStats } from './content.js'
import { ingestDirectory } from './ingest-directory.js'
import { ingestLayer } from './ingest-layer.js'
import { LayerTally, layerRecords } from './layer-tally.js'

export interface BuildOptions {
  store: Store
  /** explicit platform; by default the host's is preferred when an index has several */
  platform?: Platform
  /** directory input only: globs of paths to leave out */
  exclude?: string[]
  /** tuning of the object writer pool (workers, memory, durability) */
  writer?: ObjectWriterOptions
  /** what a layer may decompress to (default: @cfs/oci's DEFAULT_MAX_RATIO and DEFAULT_MAX_SIZE) */
  limits?: DecompressLimits
  /**
   * called as input is consumed with what was read since the last call: `bytes` of input (layer bytes as stored,
   * compressed or not, or file bytes of a directory) and regular `files` ingested; the sums are the whole input
   */
  onProgress?: BuildProgress
}

/** Increments of input bytes and regular files; the caller draws (or ignores) them. */
export type BuildProgress = (bytes: number, files: number) => void

export interface BuildResult {
  manifest: Manifest
  /** the encoded manifest (encodeManifest) */
  bytes: Uint8Array
  /** sha256 of `bytes`; the image is registered in the store under it */
  digest: Digest
  format: ImageFormat
  platform?: string
  stats: BuildStats & { seconds: number }
  /** per-layer files and objects (not for a directory); also kept in the store as `images/<hex>.layers.json` */
  layers?: LayerRecord[]
}

/**
 * Builds an image into the store: reads the input (a path to any supported image or directory, or a byte stream
 * of a layer tar or archive), writes an object for every regular file over INLINE_MAX bytes, makes them durable,
 * then registers the manifest with `store.putImage` (and, for layered input, its layer record with `putImageLayers`
 * unless the image already has one). A build lease is held throughout, so gc cannot remove objects
 * of an image not yet registered. The same input always gives the same manifest bytes.
 */
export async function buildImage (input: string | AsyncIterable<Uint8Array>, opts: BuildOptions): Promise<BuildResult> {
  const t0 = performance.now()
  const { store } = opts
  const lease = await store.acquireBuildLease()
  const writer = new ObjectWriter(store, opts.writer)
  const stats = emptyStats()
  const writes: Array<Promise<void>> = []
  const tree = new BuildTree()
  let image: Image | undefined
  let format: ImageFormat
  const tallies: LayerTally[] = []
  try {
    if (typeof input === 'string' && await detectFormat(input) === 'directory') {
      format = 'directory'
      await ingestDirectory(input, tree, writer, stats, writes, { exclude: opts.exclude ?? [] }, opts.onProgress)
    } else {
      if ((opts.exclude ?? []).length > 0) {
        throw new CfsError('ERR_CFS_USAGE', '--exclude applies to a directory input only', { hint: 'an image is built whole' })
      }
      const limits = opts.limits ?? {}
      image = await openImage(input, { tmpDir: store.tmpDir, limits, ...(opts.platform !== undefined ? { platform: opts.platform } : {}) })
      format = image.format
      for (const layer of image.layers) {
        const tally = new LayerTally(layer)
        tallies.push(tally)
        await ingestLayer(layer, tree, writer, stats, writes, limits, opts.onProgress, tally)
      }
    }
    // the tree is complete: it is put in canonical form while the workers write what is still in flight (the
    // inodes of objects not written yet get their digests in place, later)
    const manifest = tree.toManifest()
    stats.entries = countEntries(manifest)
    await Promise.all(writes)
    await writer.written()
    // every object is written and every digest known: the store's final flush starts now, and the manifest is
    // encoded while it runs; it is registered only once the objects are durable
    const durable = writer.finish()
    durable.catch(() => {})
    const bytes = encodeManifest(manifest)
    const layers = image === undefined ? undefined : layerRecords(tallies)
    await durable
    const digest = await store.putImage(bytes)
    if (layers !== undefined) {
      await putImageLayers(store, {
        schema: IMAGE_LAYERS_SCHEMA,
        image: digest,
        format,
        ...(image?.platform !== undefined ? { platform: image.platform } : {}),
        recorded: new Date().toISOString(),
        layers,
      })
    }
    return {
      manifest,
      bytes,
      digest,
      format,
      ...(image?.platform !== undefined ? { platform: image.platform } : {}),
      stats: { ...stats, seconds: (performance.now() - t0) / 1000 },
      ...(layers !== undefined ? { layers } : {}),
    }
  } finally {
    await writer.close()
    await image?.close()
    await lease.release()
  }
}

/** Names in the tree by kind, plus `hardlinks`: names beyond the first for inodes with several. */
export function countEntries (manifest: Manifest): Record<string, number> {
  const counts: Record<string, number> = { file: 0, dir: 0, symlink: 0, chardev: 0, blockdev: 0, fifo: 0, socket: 0, hardlinks: 0 }
  const seen = new Set<Inode>()
  // no paths (walkDepthFirst builds one per entry: 40 ms of a 60,000-entry build), and only inodes with several
  // names go through `seen`
  const visit = (node: Node): void => {
    const { inode } = node
    if (inode.nlink > 1 && node.children === undefined) {
      if (seen.has(inode)) { counts.hardlinks!++; return }
      seen.add(inode)
    }
    const kind = fileKind(inode.mode) ?? 'unknown'
    counts[kind] = (counts[kind] ?? 0) + 1
    if (node.children !== undefined) for (const child of node.children) visit(child)
  }
  visit(manifest.root)
  return counts
}
