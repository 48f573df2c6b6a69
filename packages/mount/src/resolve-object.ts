/**
 * Maps a file's object reference to a path inside the store, never outside it. The reference is the inode's
 * payload (a path relative to `objects/`, as composefs stores it) or, without one, the digest's `ab/cdef…` name.
 * A payload is a byte string, so paths are built as Buffers and reach the system byte for byte.
 */
import * as fs from 'node:fs'
import { objectPathOf, type Inode } from '@cfs/manifest'

/** The object reference of `inode`, checked: relative, no `..`, no NUL; undefined when it has none or it is unsafe. */
export function objectRef (inode: Inode): string | undefined {
  const rel = inode.payload ?? (inode.digest !== undefined ? objectPathOf(inode.digest) : undefined)
  if (rel === undefined || rel === '' || rel.startsWith('/') || rel.includes('\0')) return undefined
  for (const part of rel.split('/')) if (part === '..') return undefined
  return rel
}

/**
 * Real path of `rel` under `objectsDir` (itself a real path), following symlinks only while they stay inside it.
 * Returns undefined when the object is missing or resolves outside the store.
 */
export function resolveObject (objectsDir: Buffer, rel: string): Buffer | undefined {
  let real: Buffer
  try {
    real = fs.realpathSync(Buffer.concat([objectsDir, Buffer.from('/' + rel, 'latin1')]), { encoding: 'buffer' })
  } catch {
    return undefined
  }
  if (real.length <= objectsDir.length + 1 || real[objectsDir.length] !== 0x2f ||
      !real.subarray(0, objectsDir.length).equals(objectsDir)) return undefined
  return real
}
