/**
 * What makes a tree storable: the rules composefs itself enforces on names, symlinks, inline content and xattrs,
 * plus the value ranges the manifest columns hold. The encoder and the decoder apply the same rules, so every
 * manifest cfs writes decodes, and every manifest that decodes could have been written.
 */
import { fileKind, INLINE_LIMIT, NAME_MAX, SYMLINK_MAX, XATTR_KEY_MAX, type Inode, type Xattr } from './model.js'

export const U32_MAX = 0xffffffff
/** |mtimeSec| bound: far beyond any real clock, and deltas of two such values still zigzag into exact numbers. */
export const MTIME_SEC_MAX = 2 ** 50
/** composefs caps one xattr value (and its per-inode xattr budget) well below this. */
export const XATTR_VALUE_MAX = 65535
/** composefs PAYLOAD is a C string shorter than 4096 bytes. */
export const PAYLOAD_MAX = 4095

function isU32 (n: number): boolean { return Number.isInteger(n) && n >= 0 && n <= U32_MAX }

/** Why `name` cannot be a directory entry, or undefined when it can. */
export function nameProblem (name: string): string | undefined {
  if (name.length === 0) return 'empty name'
  if (name.length > NAME_MAX) return `name longer than ${NAME_MAX} bytes`
  if (name === '.' || name === '..') return `name '${name}'`
  if (name.includes('/')) return 'name contains /'
  if (name.includes('\0')) return 'name contains NUL'
  return undefined
}

export function xattrsProblem (xattrs: readonly Xattr[]): string | undefined {
  for (let i = 0; i < xattrs.length; i++) {
    const { key, value } = xattrs[i]!
    if (key.length === 0 || key.length > XATTR_KEY_MAX) return `xattr key of ${key.length} bytes`
    if (key.includes('\0')) return 'xattr key contains NUL'
    if (!(value instanceof Uint8Array) || value.length > XATTR_VALUE_MAX) return `bad value for xattr '${key}'`
    if (i > 0 && !(xattrs[i - 1]!.key < key)) return 'xattrs not sorted by key or keys repeated'
  }
  return undefined
}

/** Why `inode` cannot be stored, or undefined when it can. Xattrs are checked only when asked. */
export function inodeProblem (inode: Inode, checkXattrs: boolean): string | undefined {
  const kind = fileKind(inode.mode)
  if (kind === undefined || !Number.isInteger(inode.mode) || inode.mode < 0 || inode.mode > 0o177777) return `invalid mode ${inode.mode}`
  if (!isU32(inode.uid) || !isU32(inode.gid)) return `uid/gid ${inode.uid}/${inode.gid} out of range`
  if (!isU32(inode.nlink)) return `nlink ${inode.nlink} out of range`
  if (!isU32(inode.rdev)) return `rdev ${inode.rdev} out of range`
  if (!Number.isInteger(inode.mtimeSec) || Math.abs(inode.mtimeSec) > MTIME_SEC_MAX) return `mtime ${inode.mtimeSec} out of range`
  if (!isU32(inode.mtimeNsec)) return `mtime nanoseconds ${inode.mtimeNsec} out of range`
  if (!Number.isSafeInteger(inode.size) || inode.size < 0) return `size ${inode.size} out of range`
  if (checkXattrs) {
    const p = xattrsProblem(inode.xattrs)
    if (p !== undefined) return p
  }
  if (kind === 'symlink') {
    if (inode.target === undefined || inode.target.length === 0 || inode.target.length > SYMLINK_MAX) {
      return `symlink target of ${inode.target?.length ?? 0} bytes (1..${SYMLINK_MAX})`
    }
    if (inode.target.includes('\0')) return 'symlink target contains NUL'
  } else if (inode.target !== undefined) return `target on a ${kind}`
  if (kind === 'file') {
    if (inode.inline !== undefined && (inode.inline.length !== inode.size || inode.size > INLINE_LIMIT)) {
      return `inline content of ${inode.inline.length} bytes for size ${inode.size} (at most ${INLINE_LIMIT})`
    }
    if (inode.digest !== undefined && inode.digest.length !== 32) return `digest of ${inode.digest.length} bytes`
    if (inode.payload !== undefined && (inode.payload.length > PAYLOAD_MAX || inode.payload.includes('\0'))) {
      return `payload of ${inode.payload.length} bytes or with NUL`
    }
  } else if (inode.inline !== undefined || inode.digest !== undefined || inode.payload !== undefined) {
    return `content, digest or payload on a ${kind}`
  }
  return undefined
}
