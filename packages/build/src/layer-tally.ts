import type { Layer } from '@cfs/oci'
import type { LayerRecord, ObjectTally, WrittenObject } from '@cfs/store'

interface ObjectSlot { size: number, digest?: string, created?: boolean }

/** What one layer brought: counted while it is ingested, turned into a `LayerRecord` once every write is done. */
export class LayerTally {
  files = 0
  fileBytes = 0
  inlineFiles = 0
  inlineBytes = 0
  storedBytes = 0
  tarBytes = 0
  /** one slot per object-backed file, in entry order; filled when its write completes */
  readonly objects: ObjectSlot[] = []

  constructor (readonly layer: Pick<Layer, 'index' | 'name' | 'digest' | 'diffId'>) {}

  /** a regular file of `size` bytes; returns the callback for its object write, when it has one */
  addFile (size: number, inline: boolean): ((w: WrittenObject) => void) | undefined {
    this.files++
    this.fileBytes += size
    if (size === 0) return undefined
    if (inline) { this.inlineFiles++; this.inlineBytes += size; return undefined }
    const slot: ObjectSlot = { size }
    this.objects.push(slot)
    return (w) => { slot.digest = w.digest.toString('hex'); slot.created = w.created }
  }
}

/**
 * The records of a build's layers, bottom first. An object counts as `deduped` for every file after the first (in
 * layer and entry order) with its content, else as `new` when this build created it and `reused` otherwise. Writes
 * run concurrently, so which of two equal files "created" the object is decided here, by order, not by the race.
 */
export function layerRecords (tallies: readonly LayerTally[]): LayerRecord[] {
  const created = new Set<string>()
  for (const t of tallies) for (const o of t.objects) if (o.created === true && o.digest !== undefined) created.add(o.digest)
  const seen = new Set<string>()
  return tallies.map(t => {
    const tally = (): ObjectTally => ({ count: 0, bytes: 0 })
    const objects = { new: tally(), reused: tally(), deduped: tally() }
    for (const o of t.objects) {
      if (o.digest === undefined) continue
      const bucket = seen.has(o.digest) ? objects.deduped : created.has(o.digest) ? objects.new : objects.reused
      seen.add(o.digest)
      bucket.count++
      bucket.bytes += o.size
    }
    const digest = t.layer.digest
    return {
      index: t.layer.index,
      name: digest ?? t.layer.name,
      ...(t.layer.diffId !== undefined ? { diffId: t.layer.diffId } : {}),
      storedBytes: t.storedBytes,
      tarBytes: t.tarBytes,
      files: t.files,
      fileBytes: t.fileBytes,
      inlineFiles: t.inlineFiles,
      inlineBytes: t.inlineBytes,
      objects,
    }
  })
}
