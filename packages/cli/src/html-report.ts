/** `--html FILE` of `cfs inspect` and `cfs diff`: gathers what @cfs/report draws and writes the page atomically. */
import * as path from 'node:path'
import { CfsError } from '@cfs/errors'
import { decodeManifest, manifestDigest, type Manifest } from '@cfs/manifest'
import { renderDiffReport, renderImageReport, storeSharing, summarizeImage, type ReportChange, type StoreSharing } from '@cfs/report'
import { Store, defaultStorePath, readImage, readImageLayers, writeFileAtomic, type ImageLayers } from '@cfs/store'
import type { Io } from './io.js'

/**
 * Writes the image page for `manifest` (whose encoded bytes are `bytes`) to `out`. The store (`storeArg`, else the
 * default one) adds the layer record and sharing with its other kept images; a missing default store only leaves
 * those sections out, a missing `--store` is ERR_CFS_FILE_NOT_FOUND. Returns the absolute path written.
 */
export async function writeImageHtml (out: string, image: { bytes: Uint8Array, manifest: Manifest, source: string },
  storeArg: unknown, io: Io): Promise<string> {
  const digest = manifestDigest(image.bytes)
  const summary = summarizeImage(image.manifest)
  const explicit = typeof storeArg === 'string'
  const storeDir = explicit ? path.resolve(io.cwd, storeArg) : defaultStorePath(io.env)
  let store: Store | undefined
  try { store = await Store.open(storeDir) } catch (err) {
    if (explicit || !(err instanceof CfsError && err.code === 'ERR_CFS_FILE_NOT_FOUND')) throw err
  }
  let layers: ImageLayers | undefined
  let sharing: StoreSharing | undefined
  let storeNote: string | undefined = `No cfs store at ${storeDir} (give one with --store).`
  if (store !== undefined) {
    const kept = await store.listImages()
    layers = kept.includes(digest) ? await readImageLayers(store, digest) : undefined
    let unreadable = 0
    const others: Manifest[] = []
    for (const d of kept) {
      if (d === digest) continue
      try { others.push(decodeManifest(await readImage(store, d))) } catch { unreadable++ }
    }
    sharing = storeSharing(summary, others, store.root, unreadable)
    storeNote = undefined
    if (!kept.includes(digest)) storeNote = 'This image is not kept in the store: gc would remove the objects it alone uses.'
  }
  const html = renderImageReport({
    manifest: image.manifest, digest, source: image.source, summary,
    ...(layers !== undefined ? { layers } : {}),
    ...(sharing !== undefined ? { store: sharing } : {}),
    ...(storeNote !== undefined ? { storeNote } : {}),
  })
  return await writePage(out, html, io)
}

/** Writes the diff page of `changes` between the sides named `a` and `b` to `out`; returns the absolute path. */
export async function writeDiffHtml (out: string, changes: readonly ReportChange[], a: string, b: string, io: Io): Promise<string> {
  return await writePage(out, renderDiffReport({ changes, a, b }), io)
}

async function writePage (out: string, html: string, io: Io): Promise<string> {
  const file = path.resolve(io.cwd, out)
  await writeFileAtomic(file, Buffer.from(html, 'utf8'))
  return file
}
