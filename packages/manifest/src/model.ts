/**
 * The in-memory image tree shared by every cfs package: build and the dump reader produce it, the manifest codec
 * stores it, and dump, erofs, diff, verify and mount consume it.
 *
 * Byte strings: names, symlink targets, xattr keys and backing paths are *byte strings*, JS strings holding one
 * byte per UTF-16 code unit (latin1, 0x00–0xFF). They compare with `<` in exactly unsigned byte order, are cheap
 * to hash in a Map, and convert losslessly with `Buffer.from(s, 'latin1')` / `buf.toString('latin1')`. They are
 * never decoded text: a non-UTF-8 name survives byte for byte. Use `bytesToDisplay` only to print.
 *
 * Hardlinks are Nodes that share one Inode object: identity (`===`) is the link group.
 */

/** File type bits of st_mode (`mode & S_IFMT`). */
export const S_IFMT = 0o170000
export const S_IFSOCK = 0o140000
export const S_IFLNK = 0o120000
export const S_IFREG = 0o100000
export const S_IFBLK = 0o060000
export const S_IFDIR = 0o040000
export const S_IFCHR = 0o020000
export const S_IFIFO = 0o010000

/** Largest content inlined by `cfs build` (the same threshold mkcomposefs uses when scanning a directory). */
export const INLINE_MAX = 64
/** Largest inline content a composefs dump (and so a manifest) may carry. */
export const INLINE_LIMIT = 5000
export const NAME_MAX = 255
export const SYMLINK_MAX = 4095
export const XATTR_KEY_MAX = 255

export type FileKind = 'file' | 'dir' | 'symlink' | 'chardev' | 'blockdev' | 'fifo' | 'socket'

export interface Xattr {
  /** byte string; 1..255 bytes, no NUL */
  key: string
  value: Uint8Array
}

export interface Inode {
  /** st_mode: type bits | setuid/setgid/sticky | permissions */
  mode: number
  uid: number
  gid: number
  /**
   * Link count. For non-directories it is kept as given (composefs stores it verbatim, so it may differ from the
   * number of Nodes sharing the inode when the source said so). For directories it is derived: 2 + subdirectories;
   * `finalizeTree` sets it.
   */
  nlink: number
  /** raw Linux dev_t (new_encode_dev form) of char/block devices; 0 for everything else */
  rdev: number
  /** whole seconds since the epoch, may be negative */
  mtimeSec: number
  /** nanoseconds, 0..999999999 for real timestamps */
  mtimeNsec: number
  /**
   * Regular files: content length. Symlinks: target length. Directories: 0 in the model (the composefs directory
   * size is a layout artefact, see `directorySize`). Devices, fifos, sockets: as given by the source (usually 0).
   */
  size: number
  /**
   * sorted by key in byte order, keys unique. `decodeManifest` gives inodes with the same xattrs one shared array
   * (and Xattr objects): to change one inode's xattrs, assign a new array rather than mutating this one.
   */
  xattrs: Xattr[]
  /** symlinks only: the target, a byte string of 1..4095 bytes */
  target?: string
  /** regular files only: content kept in the manifest (1..INLINE_LIMIT bytes, length === size) */
  inline?: Uint8Array
  /** regular files only, when content is external: the 32-byte fs-verity digest of the content */
  digest?: Uint8Array
  /**
   * regular files only, when content is external: the backing path relative to the store's `objects/` directory
   * (composefs PAYLOAD). `cfs build` sets it to `objectPathOf(digest)`; a dump may give any path or none.
   */
  payload?: string
}

export interface Node {
  /** byte string; '' for the root */
  name: string
  inode: Inode
  /** directories only: children sorted by name in byte order, names unique */
  children?: Node[]
  /**
   * This Node is a secondary link of its Inode (a composefs dump's `@` line). In a group of Nodes sharing one
   * Inode, the Node without the flag is the primary, and when none has it the first in depth-first order is. The
   * primary is where mkcomposefs places the inode (`normalizeHardlinks` puts a tree in canonical form).
   */
  hardlink?: true
}

export interface Manifest {
  root: Node
}

export function fileKind (mode: number): FileKind | undefined {
  switch (mode & S_IFMT) {
    case S_IFREG: return 'file'
    case S_IFDIR: return 'dir'
    case S_IFLNK: return 'symlink'
    case S_IFCHR: return 'chardev'
    case S_IFBLK: return 'blockdev'
    case S_IFIFO: return 'fifo'
    case S_IFSOCK: return 'socket'
    default: return undefined
  }
}

export function isDir (inode: Inode): boolean { return (inode.mode & S_IFMT) === S_IFDIR }
export function isRegular (inode: Inode): boolean { return (inode.mode & S_IFMT) === S_IFREG }
export function isSymlink (inode: Inode): boolean { return (inode.mode & S_IFMT) === S_IFLNK }

/** A regular file whose content lives in the object store (composefs "external" file). */
export function isExternal (inode: Inode): boolean {
  return isRegular(inode) && inode.size > 0 && inode.inline === undefined
}

/** Store path of an object, relative to `objects/`: `ab/cdef…` for digest `abcdef…`. */
export function objectPathOf (digest: Uint8Array): string {
  const hex = Buffer.from(digest.buffer, digest.byteOffset, digest.byteLength).toString('hex')
  return `${hex.slice(0, 2)}/${hex.slice(2)}`
}

/** Byte string → Buffer. */
export function bytesOf (s: string): Buffer { return Buffer.from(s, 'latin1') }
/** Buffer → byte string. */
export function byteString (b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1')
}
/** Text (UTF-8) → byte string, for names typed by a user. */
export function byteStringOfText (text: string): string { return Buffer.from(text, 'utf8').toString('latin1') }
/** Byte string → text for display: valid UTF-8 decodes, anything else shows U+FFFD. */
export function bytesToDisplay (s: string): string { return Buffer.from(s, 'latin1').toString('utf8') }

/** A fresh Inode with everything zero/empty; callers fill in what they know. */
export function makeInode (mode: number, fields: Partial<Inode> = {}): Inode {
  return { mode, uid: 0, gid: 0, nlink: 1, rdev: 0, mtimeSec: 0, mtimeNsec: 0, size: 0, xattrs: [], ...fields }
}
