import { INLINE_MAX, objectPathOf, type Inode } from '@cfs/manifest'
import type { ObjectWriter } from '@cfs/store'
import type { LayerTally } from './layer-tally.js'

/** Counters a build reports. */
export interface BuildStats {
  entries: Record<string, number>
  /** bytes read from the input (stored, maybe compressed, layer bytes; file bytes for a directory) */
  bytesIn: number
  /** bytes of objects this build added to the store */
  bytesStored: number
  objectsNew: number
  objectsReused: number
}

export function emptyStats (): BuildStats {
  return { entries: {}, bytesIn: 0, bytesStored: 0, objectsNew: 0, objectsReused: 0 }
}

/**
 * Gives a regular file's inode its content: nothing for size 0, `inline` up to INLINE_MAX bytes, otherwise an
 * object in the store (`digest` and `payload` are set when the object is written; the returned promise says when).
 * A `tally` counts the file for its layer's record.
 */
export async function setContent (inode: Inode, body: AsyncIterable<Uint8Array> | Uint8Array, size: number,
  writer: ObjectWriter, stats: BuildStats, tally?: LayerTally): Promise<Promise<void> | undefined> {
  inode.size = size
  const onWritten = tally?.addFile(size, size <= INLINE_MAX)
  if (size === 0) return undefined
  if (size <= INLINE_MAX) {
    if (body instanceof Uint8Array) { inode.inline = Buffer.from(body); return undefined }
    const parts: Uint8Array[] = []
    for await (const c of body) parts.push(c)
    inode.inline = Buffer.concat(parts)
    return undefined
  }
  const { written } = await writer.add(body, size)
  const done = written.then(w => {
    inode.digest = w.digest
    inode.payload = objectPathOf(w.digest)
    if (w.created) { stats.objectsNew++; stats.bytesStored += w.size } else stats.objectsReused++
    onWritten?.(w)
  })
  // the caller awaits all writes at the end; until then a failure must not count as an unhandled rejection
  done.catch(() => {})
  return done
}
