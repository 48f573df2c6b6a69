import { INLINE_MAX, objectPathOf, type Inode } from '@cfs/manifest'
import type { ObjectWriter, WrittenObject } from '@cfs/store'
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
 * object in the store: `digest` and `payload` are set once the object is written, and the promise that says when
 * goes to `writes`. Resolves as soon as the body is consumed, never waiting for the write: returning the write's
 * promise from this async function would make every caller wait for each object in turn, and the parsing and the
 * writer's workers would take turns instead of running side by side. A `tally` counts the file for its layer's record.
 */
export async function setContent (inode: Inode, body: AsyncIterable<Uint8Array> | Uint8Array, size: number,
  writer: ObjectWriter, stats: BuildStats, writes: Array<Promise<void>>, tally?: LayerTally): Promise<void> {
  inode.size = size
  const onWritten = tally?.addFile(size, size <= INLINE_MAX)
  if (size === 0) return
  if (size <= INLINE_MAX) {
    if (body instanceof Uint8Array) { inode.inline = Buffer.from(body); return }
    const parts: Uint8Array[] = []
    for await (const c of body) parts.push(c)
    inode.inline = Buffer.concat(parts)
    return
  }
  const { written } = await writer.add(body, size)
  const done = written.then(w => {
    recordWritten(inode, stats, w)
    onWritten?.(w)
  })
  // the caller awaits all writes at the end; until then a failure must not count as an unhandled rejection
  done.catch(() => {})
  writes.push(done)
}

/**
 * setContent for a body at hand, without waiting or a promise: true when done (its object, if any, queued with the
 * writer, whose written() and finish() report a failure), false having done nothing when setContent must be
 * awaited instead (the writer has no room now).
 */
export function setContentNow (inode: Inode, body: Uint8Array, size: number, writer: ObjectWriter, stats: BuildStats,
  tally?: LayerTally): boolean {
  if (body.length !== size) return false // setContent says what is wrong
  if (size <= INLINE_MAX) {
    inode.size = size
    tally?.addFile(size, true)
    if (size > 0) inode.inline = Buffer.from(body)
    return true
  }
  // set once queued: the writer calls back on a later turn of the event loop
  let counted: ((w: WrittenObject) => void) | undefined
  const queued = writer.addNow(body, w => {
    recordWritten(inode, stats, w)
    counted?.(w)
  })
  if (!queued) return false
  inode.size = size
  counted = tally?.addFile(size, false)
  return true
}

/** A stored object's digest goes to its inode, and its size to the build's counters. */
function recordWritten (inode: Inode, stats: BuildStats, w: WrittenObject): void {
  inode.digest = w.digest
  inode.payload = objectPathOf(w.digest)
  if (w.created) { stats.objectsNew++; stats.bytesStored += w.size } else stats.objectsReused++
}
