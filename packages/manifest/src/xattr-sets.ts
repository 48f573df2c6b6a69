/**
 * One shared array per distinct xattr set, for the producers of trees (cfs build, the dump reader), as
 * decodeManifest already gives them. Images repeat a few sets (SELinux labels) across every file: one array each
 * keeps tens of thousands of copies out of the build's memory, and the manifest encoder recognizes a repeated
 * set by identity instead of comparing its bytes again.
 *
 * The model's rule holds for shared arrays: to change one inode's xattrs, assign a new array.
 */
import type { Xattr } from './model.js'

/** Sets remembered per producer; past this, new sets are simply not shared (a bound on hostile input). */
export const XATTR_SETS_MAX = 4096
/** Longest id remembered: labels and capabilities are far shorter, and a set of large values is not worth a key. */
export const XATTR_SET_ID_MAX = 4096

export class XattrSets {
  private readonly sets = new Map<string, Xattr[]>()

  /**
   * An id of keys and values in order (keys hold no NUL, and each value's length keeps any value bytes apart), or
   * undefined for a set too large to remember (XATTR_SET_ID_MAX).
   */
  static idOf (xattrs: ReadonlyArray<{ key: string, value: Uint8Array }>): string | undefined {
    let bytes = 0
    for (const { key, value } of xattrs) bytes += key.length + value.length + 8
    if (bytes > XATTR_SET_ID_MAX) return undefined
    let id = ''
    for (const { key, value } of xattrs) {
      id += `${key}\0${value.length}\0${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('latin1')}`
    }
    return id
  }

  /**
   * The array remembered for `id`, else `make()`'s, remembered. `id` must determine the set: the same id for the
   * same keys, values and order (e.g. the text the set was parsed from). Without an id, or one over
   * XATTR_SET_ID_MAX, the set is made and not shared.
   */
  intern (id: string | undefined, make: () => Xattr[]): Xattr[] {
    if (id === undefined || id.length > XATTR_SET_ID_MAX) return make()
    let set = this.sets.get(id)
    if (set === undefined) {
      set = make()
      if (this.sets.size < XATTR_SETS_MAX) this.sets.set(id, set)
    }
    return set
  }
}
