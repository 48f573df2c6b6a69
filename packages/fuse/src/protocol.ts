/**
 * The parts of the Linux FUSE kernel protocol (include/uapi/linux/fuse.h, protocol 7.38) a read-only filesystem
 * speaks. Every message is little-endian: a request is `fuse_in_header` (40 bytes) + an op-specific body, a reply
 * is `fuse_out_header` (16 bytes) + an op-specific body. Offsets below are byte offsets inside those structs.
 */
export const KERNEL_MAJOR = 7
/** the newest minor version whose structs this implementation writes */
export const KERNEL_MINOR = 38

export const IN_HEADER_SIZE = 40
export const OUT_HEADER_SIZE = 16
/** fuse_attr */
export const ATTR_SIZE = 88
/** fuse_entry_out: nodeid, generation, entry_valid, attr_valid, 2 × nsec, attr */
export const ENTRY_OUT_SIZE = 40 + ATTR_SIZE
/** fuse_attr_out: attr_valid, attr_valid_nsec, dummy, attr */
export const ATTR_OUT_SIZE = 16 + ATTR_SIZE
/** fuse_dirent without its name: ino, off, namelen, type */
export const DIRENT_BASE_SIZE = 24
export const INIT_OUT_SIZE = 64
export const OPEN_OUT_SIZE = 16
export const KSTATFS_SIZE = 80

export const Op = {
  LOOKUP: 1,
  FORGET: 2,
  GETATTR: 3,
  SETATTR: 4,
  READLINK: 5,
  SYMLINK: 6,
  MKNOD: 8,
  MKDIR: 9,
  UNLINK: 10,
  RMDIR: 11,
  RENAME: 12,
  LINK: 13,
  OPEN: 14,
  READ: 15,
  WRITE: 16,
  STATFS: 17,
  RELEASE: 18,
  FSYNC: 20,
  SETXATTR: 21,
  GETXATTR: 22,
  LISTXATTR: 23,
  REMOVEXATTR: 24,
  FLUSH: 25,
  INIT: 26,
  OPENDIR: 27,
  READDIR: 28,
  RELEASEDIR: 29,
  FSYNCDIR: 30,
  ACCESS: 34,
  CREATE: 35,
  INTERRUPT: 36,
  DESTROY: 38,
  BATCH_FORGET: 42,
  FALLOCATE: 43,
  READDIRPLUS: 44,
  RENAME2: 45,
  COPY_FILE_RANGE: 47,
  TMPFILE: 51,
} as const

/** fuse_init_in/out.flags */
export const InitFlag = {
  ASYNC_READ: 1 << 0,
  BIG_WRITES: 1 << 5,
  DO_READDIRPLUS: 1 << 13,
  READDIRPLUS_AUTO: 1 << 14,
  PARALLEL_DIROPS: 1 << 18,
  MAX_PAGES: 1 << 22,
  CACHE_SYMLINKS: 1 << 23,
  POSIX_ACL: 1 << 20,
} as const

/** fuse_open_out.open_flags */
export const OpenFlag = {
  KEEP_CACHE: 1 << 1,
  CACHE_DIR: 1 << 3,
} as const

export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  EIO: 5,
  EBADF: 9,
  EACCES: 13,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  EROFS: 30,
  ERANGE: 34,
  ENOSYS: 38,
  ENODATA: 61,
  EPROTO: 71,
  EOPNOTSUPP: 95,
} as const

export const ROOT_ID = 1
