/** What a filesystem served by `serveFuse` implements. Node ids are small positive integers; 1 is the root. */

/** Attributes of one node; `serveFuse` passes one reused object to `getattr`, which fills every field. */
export interface FuseAttr {
  ino: number
  size: number
  blocks: number
  mtimeSec: number
  mtimeNsec: number
  mode: number
  nlink: number
  uid: number
  gid: number
  rdev: number
}

/** The entries of one directory, without `.` and `..`; kept by the filesystem and reused across requests. */
export interface FuseDirectory {
  /** byte strings (one latin1 char per byte) */
  names: readonly string[]
  nodes: ArrayLike<number>
  /** node id of the parent (the root is its own parent) */
  parent: number
}

/**
 * A read-only filesystem addressed by node id. Every method is synchronous and runs on the serving thread, so
 * each should be cheap; errors are returned as positive errno values, never thrown.
 */
export interface FuseFilesystem {
  /** Fills `attr` for `node`; returns 0 or an errno. */
  getattr: (node: number, attr: FuseAttr) => number
  /** Node id of `name` (a byte string) in directory `parent`, 0 when absent, or -errno. */
  lookup: (parent: number, name: string) => number
  /** Directory listing, or an errno (ENOTDIR). */
  readdir: (node: number) => FuseDirectory | number
  /** Symlink target bytes, or an errno. */
  readlink: (node: number) => Uint8Array | number
  /**
   * Reads up to `size` bytes at `position` of regular file `node` into `buf` at `offset`; returns the byte count
   * (short only at end of file) or -errno. There is no open/release: the server declines OPEN, so the kernel opens
   * files without asking and keeps their pages cached; a filesystem keeps whatever descriptors it needs itself.
   */
  read: (node: number, buf: Buffer, offset: number, size: number, position: number) => number
  /** The NUL-terminated names of every xattr of `node`, concatenated, as a byte string. */
  listxattr: (node: number) => string
  /** The value of xattr `name` (a byte string), or an errno (ENODATA when absent). */
  getxattr: (node: number, name: string) => Uint8Array | number
  /** Counts for statfs. */
  statfs?: () => { files: number, blocks: number }
}
