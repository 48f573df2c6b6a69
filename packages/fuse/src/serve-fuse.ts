/**
 * A FUSE server loop in plain JavaScript: it reads requests from an open /dev/fuse descriptor with blocking
 * `readSync`, answers each with one `writeSync`, and returns when the filesystem is unmounted (ENODEV). Run it on
 * its own thread (a Worker): a blocking loop has no promise or event-loop cost per request, which is what makes a
 * JS server competitive with C ones. One input and one output buffer are reused for every request.
 *
 * The kernel is asked to cache everything for a long time: entries (negative ones too) and attributes (timeouts
 * below), directory listings and file pages (declining OPEN and OPENDIR makes the kernel open with
 * FOPEN_KEEP_CACHE | FOPEN_CACHE_DIR and never ask again), and symlink targets (FUSE_CACHE_SYMLINKS). Listings
 * come with attributes (READDIRPLUS), so a cold `ls -l` costs two requests per directory plus one per symlink.
 */
import * as fs from 'node:fs'
import type { FuseAttr, FuseFilesystem } from './filesystem.js'
import {
  ATTR_OUT_SIZE, DIRENT_BASE_SIZE, ENTRY_OUT_SIZE, Errno, IN_HEADER_SIZE, INIT_OUT_SIZE, InitFlag,
  KERNEL_MAJOR, KERNEL_MINOR, KSTATFS_SIZE, Op, OUT_HEADER_SIZE,
} from './protocol.js'

export interface ServeOptions {
  /** seconds the kernel may cache entries and attributes; an image never changes, so a year by default */
  cacheSeconds?: number
  /** called once the kernel's INIT has been answered */
  onInit?: () => void
}

const MAX_PAGES = 256
const PAGE = 4096
const MAX_READ = MAX_PAGES * PAGE
const MAX_WRITE = 128 * 1024
const TWO32 = 4294967296
const WANTED_FLAGS = InitFlag.ASYNC_READ | InitFlag.DO_READDIRPLUS | InitFlag.PARALLEL_DIROPS | InitFlag.MAX_PAGES |
  InitFlag.CACHE_SYMLINKS | InitFlag.BIG_WRITES

/**
 * Serves `fsys` on `fd` until unmount; throws only on an unexpected device error. It may be called before the
 * mount exists: it waits for it.
 */
export function serveFuse (fd: number, fsys: FuseFilesystem, opts: ServeOptions = {}): void {
  const cache = opts.cacheSeconds ?? 365 * 24 * 3600
  const inBuf = Buffer.allocUnsafe(MAX_WRITE + 64 * 1024)
  const out = Buffer.alloc(OUT_HEADER_SIZE + MAX_READ)
  const attr: FuseAttr = { ino: 0, size: 0, blocks: 0, mtimeSec: 0, mtimeNsec: 0, mode: 0, nlink: 0, uid: 0, gid: 0, rdev: 0 }
  let minor = KERNEL_MINOR

  const w64 = (off: number, v: number): void => {
    const hi = Math.floor(v / TWO32)
    out.writeUInt32LE(v - hi * TWO32, off)
    out.writeInt32LE(hi, off + 4)
  }
  const r64 = (off: number): number => inBuf.readUInt32LE(off) + inBuf.readUInt32LE(off + 4) * TWO32

  const send = (len: number, error: number): void => {
    out.writeUInt32LE(len, 0)
    out.writeInt32LE(-error, 4)
    inBuf.copy(out, 8, 8, 16)
    try {
      fs.writeSync(fd, out, 0, len)
    } catch (err) {
      // ENOENT: the request was interrupted and the kernel no longer waits for this answer
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    }
  }
  const fail = (errno: number): void => { send(OUT_HEADER_SIZE, errno) }

  const writeAttr = (off: number): void => {
    w64(off, attr.ino)
    w64(off + 8, attr.size)
    w64(off + 16, attr.blocks)
    w64(off + 24, attr.mtimeSec) // atime
    w64(off + 32, attr.mtimeSec)
    w64(off + 40, attr.mtimeSec) // ctime
    out.writeUInt32LE(attr.mtimeNsec, off + 48)
    out.writeUInt32LE(attr.mtimeNsec, off + 52)
    out.writeUInt32LE(attr.mtimeNsec, off + 56)
    out.writeUInt32LE(attr.mode >>> 0, off + 60)
    out.writeUInt32LE(attr.nlink >>> 0, off + 64)
    out.writeUInt32LE(attr.uid >>> 0, off + 68)
    out.writeUInt32LE(attr.gid >>> 0, off + 72)
    out.writeUInt32LE(attr.rdev >>> 0, off + 76)
    out.writeUInt32LE(PAGE, off + 80)
    out.writeUInt32LE(0, off + 84)
  }
  /** fuse_entry_out for `node` at `off` (attr must be filled); node 0 is a cacheable negative entry */
  const writeEntry = (off: number, node: number): void => {
    w64(off, node)
    w64(off + 8, 0)
    w64(off + 16, cache)
    w64(off + 24, cache)
    out.writeUInt32LE(0, off + 32)
    out.writeUInt32LE(0, off + 36)
    if (node === 0) out.fill(0, off + 40, off + ENTRY_OUT_SIZE); else writeAttr(off + 40)
  }

  const init = (): void => {
    const kMajor = inBuf.readUInt32LE(IN_HEADER_SIZE)
    const kMinor = inBuf.readUInt32LE(IN_HEADER_SIZE + 4)
    const readahead = inBuf.readUInt32LE(IN_HEADER_SIZE + 8)
    const kFlags = inBuf.readUInt32LE(IN_HEADER_SIZE + 12)
    if (kMajor !== KERNEL_MAJOR || kMinor < 12) { fail(Errno.EPROTO); return }
    minor = Math.min(kMinor, KERNEL_MINOR)
    const b = OUT_HEADER_SIZE
    out.fill(0, b, b + INIT_OUT_SIZE)
    out.writeUInt32LE(KERNEL_MAJOR, b)
    out.writeUInt32LE(minor, b + 4)
    out.writeUInt32LE(readahead, b + 8)
    out.writeUInt32LE((kFlags & WANTED_FLAGS) >>> 0, b + 12)
    out.writeUInt16LE(64, b + 16) // max_background
    out.writeUInt16LE(48, b + 18) // congestion_threshold
    out.writeUInt32LE(MAX_WRITE, b + 20)
    out.writeUInt32LE(1, b + 24) // time_gran: nanosecond timestamps
    out.writeUInt16LE(MAX_PAGES, b + 28)
    // before 7.23 the reply was 24 bytes
    send(OUT_HEADER_SIZE + (minor < 23 ? 24 : INIT_OUT_SIZE), 0)
    opts.onInit?.()
  }

  const readdir = (node: number, plus: boolean): void => {
    const dir = fsys.readdir(node)
    if (typeof dir === 'number') { fail(dir); return }
    const offset = r64(IN_HEADER_SIZE + 8)
    const size = Math.min(inBuf.readUInt32LE(IN_HEADER_SIZE + 16), MAX_READ)
    const end = OUT_HEADER_SIZE + size
    let pos = OUT_HEADER_SIZE
    const total = dir.names.length + 2
    for (let i = offset; i < total; i++) {
      const name = i === 0 ? '.' : i === 1 ? '..' : dir.names[i - 2]!
      const child = i === 0 ? node : i === 1 ? dir.parent : dir.nodes[i - 2]!
      const entLen = (DIRENT_BASE_SIZE + name.length + 7) & ~7
      const need = plus ? ENTRY_OUT_SIZE + entLen : entLen
      if (pos + need > end) break
      const err = fsys.getattr(child, attr)
      if (err !== 0) { fail(err); return }
      let d = pos
      if (plus) {
        // the kernel takes no lookup reference for '.' and '..', so they carry no entry
        if (i < 2) out.fill(0, pos, pos + ENTRY_OUT_SIZE); else writeEntry(pos, child)
        d += ENTRY_OUT_SIZE
      }
      w64(d, attr.ino)
      w64(d + 8, i + 1)
      out.writeUInt32LE(name.length, d + 16)
      out.writeUInt32LE((attr.mode >>> 12) & 15, d + 20)
      out.write(name, d + DIRENT_BASE_SIZE, 'latin1')
      out.fill(0, d + DIRENT_BASE_SIZE + name.length, pos + need)
      pos += need
    }
    send(pos, 0)
  }

  const xattrReply = (value: Uint8Array | string | number): void => {
    if (typeof value === 'number') { fail(value); return }
    const want = inBuf.readUInt32LE(IN_HEADER_SIZE)
    if (want === 0) {
      out.writeUInt32LE(value.length, OUT_HEADER_SIZE)
      out.writeUInt32LE(0, OUT_HEADER_SIZE + 4)
      send(OUT_HEADER_SIZE + 8, 0)
      return
    }
    if (value.length > want) { fail(Errno.ERANGE); return }
    if (typeof value === 'string') out.write(value, OUT_HEADER_SIZE, 'latin1')
    else out.set(value, OUT_HEADER_SIZE)
    send(OUT_HEADER_SIZE + value.length, 0)
  }

  const pause = new Int32Array(new SharedArrayBuffer(4))
  let mounted = false
  for (;;) {
    let n: number
    try {
      n = fs.readSync(fd, inBuf, 0, inBuf.length, null)
      mounted = true
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'ENODEV') return // unmounted
      // the device cannot be read until mount(2) has bound it, which another thread or process is doing
      if (code === 'EPERM' && !mounted) { Atomics.wait(pause, 0, 0, 2); continue }
      if (code === 'ENOENT' || code === 'EINTR' || code === 'EAGAIN') continue // request gone before we read it
      throw err
    }
    if (n < IN_HEADER_SIZE) return
    try {
      if (handle(n) === 'stop') return
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENODEV') return
      fail(Errno.EIO) // a bug in a filesystem method must not stop the server
    }
  }

  function handle (n: number): 'stop' | undefined {
    const opcode = inBuf.readUInt32LE(4)
    const node = r64(16)
    switch (opcode) {
      case Op.LOOKUP: {
        const child = fsys.lookup(node, inBuf.toString('latin1', IN_HEADER_SIZE, n - 1))
        if (child < 0) { fail(-child); break }
        if (child > 0) {
          const err = fsys.getattr(child, attr)
          if (err !== 0) { fail(err); break }
        }
        writeEntry(OUT_HEADER_SIZE, child)
        send(OUT_HEADER_SIZE + ENTRY_OUT_SIZE, 0)
        break
      }
      case Op.FORGET:
      case Op.BATCH_FORGET:
      case Op.INTERRUPT:
        break // no reply: the tree is static, so lookup counts need no bookkeeping
      case Op.GETATTR: {
        const err = fsys.getattr(node, attr)
        if (err !== 0) { fail(err); break }
        w64(OUT_HEADER_SIZE, cache)
        out.writeUInt32LE(0, OUT_HEADER_SIZE + 8)
        out.writeUInt32LE(0, OUT_HEADER_SIZE + 12)
        writeAttr(OUT_HEADER_SIZE + 16)
        send(OUT_HEADER_SIZE + ATTR_OUT_SIZE, 0)
        break
      }
      case Op.READLINK: {
        const target = fsys.readlink(node)
        if (typeof target === 'number') { fail(target); break }
        out.set(target, OUT_HEADER_SIZE)
        send(OUT_HEADER_SIZE + target.length, 0)
        break
      }
      case Op.OPEN:
        // like OPENDIR below: after one ENOSYS the kernel opens files itself (FOPEN_KEEP_CACHE), and sends neither
        // OPEN nor RELEASE again; reads carry the node id
        fail(Errno.ENOSYS)
        break
      case Op.OPENDIR:
        // ENOSYS once makes the kernel skip OPENDIR and RELEASEDIR from then on, and open directories as if we had
        // answered FOPEN_KEEP_CACHE | FOPEN_CACHE_DIR: listings are cached after their first read
        fail(Errno.ENOSYS)
        break
      case Op.READ: {
        const position = r64(IN_HEADER_SIZE + 8)
        const size = Math.min(inBuf.readUInt32LE(IN_HEADER_SIZE + 16), MAX_READ)
        const got = fsys.read(node, out, OUT_HEADER_SIZE, size, position)
        if (got < 0) { fail(-got); break }
        send(OUT_HEADER_SIZE + got, 0)
        break
      }
      case Op.READDIR: readdir(node, false); break
      case Op.READDIRPLUS: readdir(node, true); break
      case Op.RELEASE:
      case Op.RELEASEDIR:
        fail(0)
        break
      case Op.FLUSH:
        fail(Errno.ENOSYS) // nothing to flush; the kernel stops sending FLUSH on every close
        break
      case Op.GETXATTR:
        xattrReply(fsys.getxattr(node, inBuf.toString('latin1', IN_HEADER_SIZE + 8, n - 1)))
        break
      case Op.LISTXATTR:
        xattrReply(fsys.listxattr(node))
        break
      case Op.STATFS: {
        const b = OUT_HEADER_SIZE
        const counts = fsys.statfs?.() ?? { files: 0, blocks: 0 }
        out.fill(0, b, b + KSTATFS_SIZE)
        w64(b, counts.blocks)
        w64(b + 24, counts.files)
        out.writeUInt32LE(PAGE, b + 40)
        out.writeUInt32LE(255, b + 44)
        out.writeUInt32LE(PAGE, b + 48)
        send(b + KSTATFS_SIZE, 0)
        break
      }
      case Op.INIT: init(); break
      case Op.DESTROY: fail(0); return 'stop'
      case Op.SETATTR: case Op.SYMLINK: case Op.MKNOD: case Op.MKDIR: case Op.UNLINK: case Op.RMDIR:
      case Op.RENAME: case Op.RENAME2: case Op.LINK: case Op.WRITE: case Op.SETXATTR: case Op.REMOVEXATTR:
      case Op.CREATE: case Op.TMPFILE: case Op.FALLOCATE: case Op.COPY_FILE_RANGE:
        fail(Errno.EROFS)
        break
      default:
        fail(Errno.ENOSYS) // the kernel then falls back (locks, access, lseek, ioctl, poll, fsync)
    }
    return undefined
  }
}

