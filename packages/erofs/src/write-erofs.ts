/**
 * Writes the EROFS image that `mkcomposefs` 1.0.8 writes for the same tree, byte for byte. The pipeline follows
 * spec/composefs-format.md §4.2: A version, B per-entry rewrite (depth-first), C root opaque + 256 whiteouts,
 * D breadth-first numbering, E shared xattr table, F sizes/padding/nids, G emission. Everything is computed
 * before the first byte is written (dirents need the nids of later inodes), then the image is emitted into one
 * buffer of the exact final size.
 */
import { CfsError } from '@cfs/errors'
import {
  fileKind, S_IFMT, S_IFREG, S_IFDIR, S_IFCHR, S_IFLNK, S_IFBLK, S_IFIFO, S_IFSOCK,
  type Inode, type Manifest, type Node,
} from '@cfs/manifest'
import { xxh32 } from './xxh32.js'

export const BLOCK_SIZE = 4096
const SLOT_SIZE = 32
const HALF_BLOCK = BLOCK_SIZE / 2
export const COMPOSEFS_MAGIC = 0xD078629A
const COMPOSEFS_HEADER_VERSION = 1
const COMPOSEFS_FLAG_HAS_ACL = 1
export const EROFS_MAGIC = 0xE0F5E1E2
export const SUPER_OFFSET = 1024
const SUPER_SIZE = 128
const INODES_START = SUPER_OFFSET + SUPER_SIZE
const FEATURE_COMPAT_MTIME = 2
const FEATURE_COMPAT_XATTR_FILTER = 4
const COMPACT_INODE_SIZE = 32
const EXTENDED_INODE_SIZE = 64
const DIRENT_SIZE = 12
const XATTR_HEADER_SIZE = 12
const XATTR_ENTRY_SIZE = 4
/** erofs name filter: bit = XXH32(suffix, seed + prefix index) & 31 */
const XATTR_FILTER_SEED = 0x25BBE08F
/** at most this many shared references per inode (EROFS_XATTR_LONG_PREFIX); later shared pairs go inline */
const MAX_SHARED_REFS = 128
/** mkcomposefs' per-inode budget for xattrs it adds (LCFS_INODE_EXTERNAL_XATTR_MAX) */
const XATTR_BUDGET = 32767
/** bytes mkcomposefs charges per xattr: twice the 4-byte entry header minus one for alignment */
const XATTR_COST = 7
const MAX_CHUNKS = 1024
const MAX_CHUNKBITS = 12 + 31
/** a chunk table entry of 0xFFFFFFFF (EROFS_NULL_ADDR) is a hole: the table is all 0xFF bytes */
const NULL_ADDR_BYTE = 0xFF

const LAYOUT_FLAT_PLAIN = 0
const LAYOUT_FLAT_INLINE = 2
const LAYOUT_CHUNK_BASED = 4

const MAX_VERSION = 1

const OVERLAY_PREFIX = 'trusted.overlay.'
const OVERLAY_ESCAPED_PREFIX = 'trusted.overlay.overlay.'
const EMPTY = ''
const ROOT_WHITEOUT_MODE = S_IFCHR | 0o644

/** Prefixes stored as an index instead of text (§4.6.2), tried in this order. */
const XATTR_PREFIXES: ReadonlyArray<readonly [string, number]> = [
  ['user.', 1],
  ['system.posix_acl_access', 2],
  ['system.posix_acl_default', 3],
  ['trusted.', 4],
  ['security.', 6],
]

export interface ErofsOptions {
  /** Shorthand for minVersion = maxVersion = version. */
  version?: number
  /** mkcomposefs `--min-version` (default 0). */
  minVersion?: number
  /** mkcomposefs `--max-version` (default 1 when neither bound is given, else 0). */
  maxVersion?: number
  /**
   * The Nodes that are hardlink entries (the `@` lines of a dump). The Inode is placed where its other Node is,
   * which changes inode numbering. Without this, the first Node of each Inode in depth-first order holds it (the
   * `composefs-info dump` convention).
   */
  hardlinkEntries?: ReadonlySet<Node>
}

/** One inode as written: the C writer's node after the rewrite steps. */
interface Entry {
  name: string
  parent: Entry
  mode: number
  uid: number
  gid: number
  nlink: number
  rdev: number
  mtimeSec: number
  mtimeNsec: number
  /** st_size as the C writer keeps it (compact check; i_size of regular files) */
  size: number
  /** xattr keys and values (values as byte strings, so equal pairs are found by string hashing) */
  xkeys: string[]
  xvalues: string[]
  /** mkcomposefs' running xattr budget counter (§4.14); may go "negative" like its unsigned counter wraps */
  budget: number
  /** primary children in name order (the breadth-first queue input) */
  children: Entry[] | undefined
  /** all names of a directory including '.', '..' and hardlink entries, sorted at step D */
  dirents: Dirent[] | undefined
  inline: Uint8Array | undefined
  target: Uint8Array | undefined
  external: boolean
  chunkbits: number
  chunkCount: number
  // layout (step D–F)
  ino: number
  compact: boolean
  xattrSize: number
  /** per xattr in key order: shared table offset, or -1 for inline */
  sharedOffsets: number[]
  nBlocks: number
  tail: number
  pad: number
  nid: number
}

interface Dirent {
  name: string
  target: Entry | undefined
  /** hardlink entries: resolved to the Entry of this Inode once every Entry exists */
  inode: Inode | undefined
}

function unsupported (message: string, hint?: string): CfsError {
  return new CfsError('ERR_CFS_EROFS_UNSUPPORTED', message, hint === undefined ? {} : { hint })
}

function pathOf (e: Entry): string {
  const parts: string[] = []
  for (let cur = e; cur.parent !== cur; cur = cur.parent) parts.push(cur.name)
  return '/' + Buffer.from(parts.reverse().join('/'), 'latin1').toString('utf8')
}

/** Resolves mkcomposefs' --min-version/--max-version rules (§3.6); `hasWhiteout` decides between them. */
export function selectVersion (opts: ErofsOptions, hasWhiteout: boolean): number {
  let min: number
  let max: number
  if (opts.version !== undefined) {
    min = max = opts.version
  } else if (opts.minVersion === undefined && opts.maxVersion === undefined) {
    min = 0; max = 1
  } else {
    min = opts.minVersion ?? 0
    max = opts.maxVersion ?? 0
  }
  if (!Number.isInteger(min) || !Number.isInteger(max) || min < 0 || max < 0) {
    throw unsupported(`composefs format version must be 0 or 1 (got min ${min}, max ${max})`)
  }
  if (max < min) max = min
  if (min > MAX_VERSION || max > MAX_VERSION) {
    throw unsupported(`composefs format version ${Math.max(min, max)} is not supported (mkcomposefs 1.0.8 knows 0 and 1)`)
  }
  let version = min
  if (version < 1 && max >= 1 && hasWhiteout) version = 1
  return version
}

/** chunkbits and chunk count of an external file (§4.8), exact for sizes beyond 2^53. */
function chunking (size: number): { chunkbits: number, chunkCount: number } {
  const big = BigInt(size)
  let chunkbits = (big - 1n).toString(2).length
  if (big - 1n === 0n) chunkbits = 0
  if (chunkbits < 12) chunkbits = 12
  if (chunkbits > MAX_CHUNKBITS) chunkbits = MAX_CHUNKBITS
  const chunkSize = 1n << BigInt(chunkbits)
  const chunkCount = Number((big + chunkSize - 1n) / chunkSize)
  return { chunkbits, chunkCount }
}

function isWhiteoutInode (inode: Inode): boolean {
  return (inode.mode & S_IFMT) === S_IFCHR && inode.rdev === 0
}

/** Sets an xattr the way lcfs_node_set_xattr does, including its budget counter quirk (§4.14). */
function setXattr (e: Entry, key: string, value: string): void {
  const i = e.xkeys.indexOf(key)
  if (i >= 0) {
    const old = e.xvalues[i]!
    e.xkeys.splice(i, 1)
    e.xvalues.splice(i, 1)
    if (e.xkeys.length > 0) e.budget -= XATTR_COST + key.length + old.length
    else e.budget = 0
  }
  let cost = XATTR_COST + key.length + value.length
  if (e.xkeys.length === 0) cost += XATTR_HEADER_SIZE
  const total = e.budget + cost
  // the C counter is a size_t: a negative total has wrapped to a huge value
  if (total < 0 || total > XATTR_BUDGET) {
    throw unsupported(`cannot add xattr ${key} to ${pathOf(e)}: mkcomposefs' per-inode xattr budget of ${XATTR_BUDGET} bytes is exceeded (Numerical result out of range)`)
  }
  e.xkeys.push(key)
  e.xvalues.push(value)
  e.budget = total
}

function newEntry (name: string, inode: Inode, parent: Entry | undefined, valueString: (v: Uint8Array) => string): Entry {
  const e: Entry = {
    name,
    parent: parent as Entry,
    mode: inode.mode,
    uid: inode.uid >>> 0,
    gid: inode.gid >>> 0,
    nlink: inode.nlink >>> 0,
    rdev: inode.rdev >>> 0,
    mtimeSec: inode.mtimeSec,
    mtimeNsec: inode.mtimeNsec >>> 0,
    size: inode.size,
    xkeys: inode.xattrs.map(x => x.key),
    xvalues: inode.xattrs.map(x => valueString(x.value)),
    budget: 0,
    children: undefined,
    dirents: undefined,
    inline: undefined,
    target: undefined,
    external: false,
    chunkbits: 0,
    chunkCount: 0,
    ino: 0,
    compact: true,
    xattrSize: 0,
    sharedOffsets: [],
    nBlocks: 0,
    tail: 0,
    pad: 0,
    nid: 0,
  }
  if (parent === undefined) e.parent = e
  return e
}

function xattrIndex (key: string): [number, string] {
  for (const [prefix, index] of XATTR_PREFIXES) {
    if (key.startsWith(prefix)) return [index, key.slice(prefix.length)]
  }
  return [0, key]
}

function xattrEntrySize (key: string, value: string): number {
  const suffix = xattrIndex(key)[1]
  return roundUp(XATTR_ENTRY_SIZE + suffix.length + value.length, 4)
}

function roundUp (x: number, a: number): number { return Math.ceil(x / a) * a }

function direntType (e: Entry): number {
  switch (e.mode & S_IFMT) {
    case S_IFREG: return 1
    case S_IFDIR: return 2
    case S_IFCHR: return 3
    case S_IFBLK: return 4
    case S_IFIFO: return 5
    case S_IFSOCK: return 6
    case S_IFLNK: return 7
    default: return 0
  }
}

/**
 * The composefs EROFS image of `manifest`, byte-identical to `mkcomposefs --from-file` 1.0.8 for the same tree
 * and version options. The manifest is not modified. Throws ERR_CFS_EROFS_UNSUPPORTED where mkcomposefs fails:
 * a format version above 1, an external file needing more than 1024 chunks (EFBIG), or xattrs the writer adds
 * exceeding its per-inode budget (ERANGE); ERR_CFS_TREE_INVALID for a tree no dump could describe.
 */
export function writeErofs (manifest: Manifest, opts: ErofsOptions = {}): Uint8Array {
  // Step A — who holds each inode, and the version
  const primaryOf = new Map<Inode, Node>()
  let hasWhiteout = false
  const links = opts.hardlinkEntries
  const scan = (node: Node): void => {
    const isLink = links?.has(node) === true
    if (!isLink && !primaryOf.has(node.inode)) {
      primaryOf.set(node.inode, node)
      if (isWhiteoutInode(node.inode)) hasWhiteout = true
    }
    if (node.children !== undefined) for (const c of node.children) scan(c)
  }
  const root = manifest.root
  if (root.children === undefined || (root.inode.mode & S_IFMT) !== S_IFDIR) {
    throw new CfsError('ERR_CFS_TREE_INVALID', 'the root of the tree must be a directory')
  }
  scan(root)
  const version = selectVersion(opts, hasWhiteout)

  // Step B — entries and per-entry rewrite, depth-first pre-order
  const valueStrings = new Map<Uint8Array, string>()
  const valueString = (v: Uint8Array): string => {
    let s = valueStrings.get(v)
    if (s === undefined) { s = byteString(v); valueStrings.set(v, s) }
    return s
  }
  const entryOf = new Map<Inode, Entry>()
  const rewrite = (node: Node, parent: Entry | undefined): Entry => {
    const inode = node.inode
    const e = newEntry(node.name, inode, parent, valueString)
    entryOf.set(inode, e)
    const kind = fileKind(inode.mode)
    if (kind === undefined) {
      throw new CfsError('ERR_CFS_TREE_INVALID', `${pathOf(e)} has mode 0${inode.mode.toString(8)} without a valid file type`)
    }
    if (kind === 'file') {
      if (inode.inline !== undefined && inode.inline.length > 0) {
        e.inline = inode.inline
        e.size = inode.inline.length
      } else if (inode.size > 0) {
        e.external = true
        const { chunkbits, chunkCount } = chunking(inode.size)
        if (chunkCount > MAX_CHUNKS) {
          throw unsupported(`${pathOf(e)} is too large for a composefs image: ${inode.size} bytes need ${chunkCount} chunks, at most ${MAX_CHUNKS} fit (File too large)`)
        }
        e.chunkbits = chunkbits
        e.chunkCount = chunkCount
      }
    } else if (kind === 'symlink') {
      if (inode.target === undefined || inode.target.length === 0) {
        throw new CfsError('ERR_CFS_TREE_INVALID', `symlink ${pathOf(e)} has no target`)
      }
      e.target = Buffer.from(inode.target, 'latin1')
      e.size = e.target.length
    }

    // escape trusted.overlay.* (the mapping is injective, so renames cannot collide)
    const keys = e.xkeys
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!
      if (key.startsWith(OVERLAY_PREFIX)) keys[i] = OVERLAY_ESCAPED_PREFIX + key.slice(OVERLAY_PREFIX.length)
    }

    if (e.external) {
      // metacopy: version 0, length 36, flags 0, FS_VERITY_HASH_ALG_SHA256, digest; empty without a digest
      const metacopy = inode.digest === undefined ? EMPTY : METACOPY_HEAD + byteString(inode.digest.subarray(0, 32))
      setXattr(e, 'trusted.overlay.metacopy', metacopy)
      const payload = inode.payload === undefined ? '' : cString(inode.payload)
      if (payload.length > 0) setXattr(e, 'trusted.overlay.redirect', '/' + payload)
    }

    if (kind === 'chardev' && e.rdev === 0) {
      e.size = 0
      e.mode = S_IFREG | (e.mode & ~S_IFMT)
      setXattr(e, 'trusted.overlay.overlay.whiteout', EMPTY)
      setXattr(e, 'user.overlay.whiteout', EMPTY)
      const p = e.parent
      setXattr(p, 'trusted.overlay.overlay.whiteouts', EMPTY)
      setXattr(p, 'user.overlay.whiteouts', EMPTY)
      if (version >= 1) {
        setXattr(p, 'trusted.overlay.overlay.opaque', OPAQUE_X)
        setXattr(p, 'user.overlay.opaque', OPAQUE_X)
      }
    }

    if (node.children !== undefined) {
      e.children = []
      e.dirents = [{ name: '.', target: e, inode: undefined }, { name: '..', target: e.parent, inode: undefined }]
      for (const child of node.children) {
        if (primaryOf.get(child.inode) === child) {
          const ce = rewrite(child, e)
          e.children.push(ce)
          e.dirents.push({ name: child.name, target: ce, inode: undefined })
        } else {
          e.dirents.push({ name: child.name, target: undefined, inode: child.inode })
        }
      }
    }
    return e
  }
  const rootEntry = rewrite(root, undefined)

  // Step C — root opaque, then the 256 real whiteouts
  setXattr(rootEntry, 'trusted.overlay.opaque', OPAQUE_Y)
  const rootNames = new Set(rootEntry.dirents!.map(d => d.name))
  const selinuxAt = rootEntry.xkeys.indexOf('security.selinux')
  const selinux = selinuxAt < 0 ? undefined : rootEntry.xvalues[selinuxAt]!
  let addedWhiteouts = false
  for (let i = 0; i < 256; i++) {
    const name = i.toString(16).padStart(2, '0')
    if (rootNames.has(name)) continue
    const w = newEntry(name, {
      mode: ROOT_WHITEOUT_MODE,
      uid: rootEntry.uid,
      gid: rootEntry.gid,
      nlink: 1,
      rdev: 0,
      mtimeSec: rootEntry.mtimeSec,
      mtimeNsec: rootEntry.mtimeNsec,
      size: 0,
      xattrs: [],
    }, rootEntry, valueString)
    if (selinux !== undefined) setXattr(w, 'security.selinux', selinux)
    rootEntry.children!.push(w)
    rootEntry.dirents!.push({ name, target: w, inode: undefined })
    addedWhiteouts = true
  }
  if (addedWhiteouts) rootEntry.children!.sort(compareEntries)

  // Step D — breadth-first numbering
  const queue: Entry[] = [rootEntry]
  let minSec = rootEntry.mtimeSec
  let minNsec = rootEntry.mtimeNsec
  let hasAcl = false
  for (let qi = 0; qi < queue.length; qi++) {
    const e = queue[qi]!
    e.ino = qi
    if (e.children !== undefined) {
      let subdirs = 0
      for (const c of e.children) {
        if ((c.mode & S_IFMT) === S_IFDIR) subdirs++
        queue.push(c)
      }
      e.nlink = 2 + subdirs
      for (const d of e.dirents!) {
        if (d.target === undefined) {
          const t = entryOf.get(d.inode!)
          if (t === undefined) {
            throw new CfsError('ERR_CFS_TREE_INVALID', `hardlink ${pathOf(e)}/${d.name} has no primary entry: every Node of its Inode is in hardlinkEntries`)
          }
          d.target = t
        }
      }
      e.dirents!.sort(compareDirents)
    }
    if (e.xkeys.length > 1) sortXattrs(e)
    if (e.mtimeSec < minSec || (e.mtimeSec === minSec && e.mtimeNsec < minNsec)) {
      minSec = e.mtimeSec
      minNsec = e.mtimeNsec
    }
    if (!hasAcl && (e.xkeys.includes('system.posix_acl_access') || e.xkeys.includes('system.posix_acl_default'))) hasAcl = true
  }

  // Step E — shared xattr table: pairs used by more than one inode
  const pairCount = new Map<string, number>()
  for (const e of queue) {
    for (let i = 0; i < e.xkeys.length; i++) {
      const id = e.xkeys[i]! + '\0' + e.xvalues[i]!
      pairCount.set(id, (pairCount.get(id) ?? 0) + 1)
    }
  }
  const shared: SharedXattr[] = []
  for (const [id, count] of pairCount) {
    if (count > 1) {
      const nul = id.indexOf('\0')
      shared.push({ id, key: id.slice(0, nul), value: id.slice(nul + 1) })
    }
  }
  shared.sort(compareSharedDescending)
  const sharedOffset = new Map<string, number>()
  let sharedSize = 0
  for (const s of shared) {
    sharedOffset.set(s.id, sharedSize)
    sharedSize += xattrEntrySize(s.key, s.value)
  }

  // Step F — sizes, padding and nids
  let pos = INODES_START
  let nDataBlocks = 0
  for (const e of queue) {
    const type = e.mode & S_IFMT
    if (type === S_IFDIR) {
      let cur = 0
      let blocks = 0
      for (const d of e.dirents!) {
        const need = DIRENT_SIZE + d.name.length
        if (cur + need > BLOCK_SIZE) { blocks++; cur = 0 }
        cur += need
      }
      if (cur > HALF_BLOCK) { blocks++; cur = 0 }
      e.nBlocks = blocks
      e.tail = cur
      e.size = blocks * BLOCK_SIZE + cur
    } else if (type === S_IFLNK) {
      e.tail = e.target!.length
    } else if (type === S_IFREG && e.size > 0) {
      if (e.inline !== undefined) {
        e.nBlocks = Math.floor(e.size / BLOCK_SIZE)
        e.tail = e.size % BLOCK_SIZE
        if (e.tail > HALF_BLOCK) { e.nBlocks++; e.tail = 0 }
      } else {
        e.tail = e.chunkCount * 4
      }
    }
    e.compact = e.mtimeSec === minSec && e.mtimeNsec === minNsec &&
      e.nlink <= 0xFFFF && e.uid <= 0xFFFF && e.gid <= 0xFFFF && e.size <= 0xFFFFFFFF
    const isz = e.compact ? COMPACT_INODE_SIZE : EXTENDED_INODE_SIZE

    let nShared = 0
    let inlineSize = 0
    const nx = e.xkeys.length
    e.sharedOffsets = nx === 0 ? NO_OFFSETS : new Array<number>(nx)
    for (let i = 0; i < nx; i++) {
      const key = e.xkeys[i]!
      const value = e.xvalues[i]!
      const off = sharedOffset.size === 0 ? undefined : sharedOffset.get(key + '\0' + value)
      if (off !== undefined && nShared < MAX_SHARED_REFS) {
        e.sharedOffsets[i] = off
        nShared++
      } else {
        e.sharedOffsets[i] = -1
        inlineSize += xattrEntrySize(key, value)
      }
    }
    const xsz = nx === 0 ? 0 : roundUp(XATTR_HEADER_SIZE + nShared * 4 + inlineSize, 4)
    if ((xsz === 0 ? 0 : (xsz - XATTR_HEADER_SIZE) / 4 + 1) > 0xFFFF) {
      throw unsupported(`the xattrs of ${pathOf(e)} are too large for an EROFS inode`)
    }
    e.xattrSize = xsz

    const before = pos
    pos = roundUp(pos, SLOT_SIZE)
    if (type === S_IFLNK) {
      const total = isz + xsz + e.tail
      if (total >= BLOCK_SIZE) { e.nBlocks = 1; e.tail = 0 }
      if (Math.floor(pos / BLOCK_SIZE) !== Math.floor((pos + total - 1) / BLOCK_SIZE)) pos = roundUp(pos, BLOCK_SIZE)
    } else {
      const room = BLOCK_SIZE - ((pos + isz + xsz) % BLOCK_SIZE)
      if (room < e.tail) {
        const pad = roundUp(room, SLOT_SIZE)
        if (e.tail <= BLOCK_SIZE - ((pos + isz + xsz + pad) % BLOCK_SIZE)) {
          pos += pad
        } else {
          e.nBlocks++
          e.tail = 0
          pos = roundUp(pos, BLOCK_SIZE)
        }
      }
    }
    e.pad = pos - before
    e.nid = pos / SLOT_SIZE
    nDataBlocks += e.nBlocks
    pos += isz + xsz + e.tail
  }
  const inodesEnd = roundUp(pos, SLOT_SIZE)
  const dataStart = roundUp(inodesEnd + sharedSize, BLOCK_SIZE)
  const imageSize = dataStart + nDataBlocks * BLOCK_SIZE
  if (rootEntry.nid > 0xFFFF) throw new Error('root nid does not fit in 16 bits')

  // Step G — emission
  const buf = Buffer.alloc(imageSize)
  buf.writeUInt32LE(COMPOSEFS_MAGIC, 0)
  buf.writeUInt32LE(COMPOSEFS_HEADER_VERSION, 4)
  buf.writeUInt32LE(hasAcl ? COMPOSEFS_FLAG_HAS_ACL : 0, 8)
  buf.writeUInt32LE(version, 12)

  const sb = SUPER_OFFSET
  buf.writeUInt32LE(EROFS_MAGIC, sb)
  buf.writeUInt32LE(FEATURE_COMPAT_MTIME | FEATURE_COMPAT_XATTR_FILTER, sb + 8)
  buf[sb + 12] = 12 // blkszbits
  buf.writeUInt16LE(rootEntry.nid, sb + 14)
  buf.writeBigUInt64LE(BigInt(queue.length), sb + 16)
  buf.writeBigUInt64LE(BigInt.asUintN(64, BigInt(minSec)), sb + 24)
  buf.writeUInt32LE(minNsec, sb + 32)
  buf.writeUInt32LE(imageSize / BLOCK_SIZE, sb + 36)
  buf.writeUInt32LE(Math.floor(inodesEnd / BLOCK_SIZE), sb + 44)

  const sharedBase = inodesEnd % BLOCK_SIZE
  const filterCache = new Map<string, number>()
  let block = dataStart / BLOCK_SIZE
  let at = INODES_START
  let dataAt = dataStart
  for (const e of queue) {
    at += e.pad
    const type = e.mode & S_IFMT
    let layout = e.tail > 0 ? LAYOUT_FLAT_INLINE : LAYOUT_FLAT_PLAIN
    let iu = 0
    let isize = 0
    if (type === S_IFDIR) {
      isize = e.size
    } else if (type === S_IFREG) {
      isize = e.size
      if (e.external) layout = LAYOUT_CHUNK_BASED
    } else if (type === S_IFLNK) {
      isize = e.target!.length
    }
    if (type === S_IFCHR || type === S_IFBLK) {
      iu = e.rdev
    } else if ((type === S_IFDIR || type === S_IFREG || type === S_IFLNK) && e.nBlocks > 0) {
      iu = block
      block += e.nBlocks
    }
    if (layout === LAYOUT_CHUNK_BASED) iu = ((iu & 0xFFFF0000) | (e.chunkbits - 12)) >>> 0
    const icount = e.xattrSize === 0 ? 0 : (e.xattrSize - XATTR_HEADER_SIZE) / 4 + 1
    if (e.compact) {
      buf.writeUInt16LE(layout << 1, at)
      buf.writeUInt16LE(icount, at + 2)
      buf.writeUInt16LE(e.mode & 0xFFFF, at + 4)
      buf.writeUInt16LE(e.nlink & 0xFFFF, at + 6)
      buf.writeUInt32LE(isize, at + 8)
      buf.writeUInt32LE(iu, at + 16)
      buf.writeUInt32LE(e.ino, at + 20)
      buf.writeUInt16LE(e.uid, at + 24)
      buf.writeUInt16LE(e.gid, at + 26)
      at += COMPACT_INODE_SIZE
    } else {
      buf.writeUInt16LE((layout << 1) | 1, at)
      buf.writeUInt16LE(icount, at + 2)
      buf.writeUInt16LE(e.mode & 0xFFFF, at + 4)
      buf.writeBigUInt64LE(BigInt(isize), at + 8)
      buf.writeUInt32LE(iu, at + 16)
      buf.writeUInt32LE(e.ino, at + 20)
      buf.writeUInt32LE(e.uid, at + 24)
      buf.writeUInt32LE(e.gid, at + 28)
      buf.writeBigUInt64LE(BigInt.asUintN(64, BigInt(e.mtimeSec)), at + 32)
      buf.writeUInt32LE(e.mtimeNsec, at + 40)
      buf.writeUInt32LE(e.nlink, at + 44)
      at += EXTENDED_INODE_SIZE
    }

    if (e.xattrSize > 0) {
      const start = at
      let mask = 0
      let nShared = 0
      for (const key of e.xkeys) {
        let bit = filterCache.get(key)
        if (bit === undefined) {
          const [index, suffix] = xattrIndex(key)
          bit = xxh32(Buffer.from(suffix, 'latin1'), (XATTR_FILTER_SEED + index) >>> 0) & 31
          filterCache.set(key, bit)
        }
        mask |= 1 << bit
      }
      buf.writeUInt32LE((~mask) >>> 0, at)
      at += XATTR_HEADER_SIZE
      for (const off of e.sharedOffsets) {
        if (off < 0) continue
        buf.writeUInt32LE((sharedBase + off) / 4, at)
        at += 4
        nShared++
      }
      buf[start + 4] = nShared
      for (let i = 0; i < e.xkeys.length; i++) {
        if (e.sharedOffsets[i]! >= 0) continue
        at = writeXattrEntry(buf, at, e.xkeys[i]!, e.xvalues[i]!)
      }
      at = start + e.xattrSize
    }

    if (e.tail > 0) {
      if (type === S_IFDIR) {
        const d = e.dirents!
        writeDirentChunk(buf, at, d, d.length - countTail(d, e.tail), d.length)
      } else if (type === S_IFLNK) {
        buf.set(e.target!, at)
      } else if (e.inline !== undefined) {
        buf.set(e.inline.subarray(e.inline.length - e.tail), at)
      } else {
        buf.fill(NULL_ADDR_BYTE, at, at + e.tail)
      }
      at += e.tail
    }

    // data blocks of this inode, in the same order as the block numbers were handed out
    if (e.nBlocks > 0) {
      if (type === S_IFDIR) {
        const d = e.dirents!
        let first = 0
        let cur = 0
        let written = 0
        for (let i = 0; i < d.length; i++) {
          const need = DIRENT_SIZE + d[i]!.name.length
          if (cur + need > BLOCK_SIZE) {
            writeDirentChunk(buf, dataAt, d, first, i)
            dataAt += BLOCK_SIZE
            written++
            cur = 0
            first = i
          }
          cur += need
        }
        if (written < e.nBlocks) {
          writeDirentChunk(buf, dataAt, d, first, d.length)
          dataAt += BLOCK_SIZE
        }
      } else if (type === S_IFLNK) {
        buf.set(e.target!, dataAt)
        dataAt += BLOCK_SIZE
      } else if (e.inline !== undefined) {
        buf.set(e.inline.subarray(0, Math.min(e.inline.length, BLOCK_SIZE)), dataAt)
        dataAt += BLOCK_SIZE * e.nBlocks
      } else {
        buf.fill(NULL_ADDR_BYTE, dataAt, dataAt + BLOCK_SIZE)
        dataAt += BLOCK_SIZE * e.nBlocks
      }
    }
  }
  at = inodesEnd
  for (const s of shared) at = writeXattrEntry(buf, at, s.key, s.value)
  if (at !== inodesEnd + sharedSize || dataAt !== imageSize) throw new Error('erofs layout and emission disagree')
  return buf
}

const OPAQUE_X = 'x'
const OPAQUE_Y = 'y'
const METACOPY_HEAD = '\x00\x24\x00\x01'
const NO_OFFSETS: number[] = []

interface SharedXattr { id: string, key: string, value: string }

function byteString (b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1')
}

/** Puts an entry's xattrs in key order (byte order of the full, escaped key). */
function sortXattrs (e: Entry): void {
  const order = e.xkeys.map((_k, i) => i).sort((a, b) => compareStrings(e.xkeys[a]!, e.xkeys[b]!))
  e.xkeys = order.map(i => e.xkeys[i]!)
  e.xvalues = order.map(i => e.xvalues[i]!)
}

function cString (s: string): string {
  const nul = s.indexOf('\0')
  return nul < 0 ? s : s.slice(0, nul)
}


function compareStrings (a: string, b: string): number { return a < b ? -1 : a > b ? 1 : 0 }
function compareEntries (a: Entry, b: Entry): number { return compareStrings(a.name, b.name) }
function compareDirents (a: Dirent, b: Dirent): number { return compareStrings(a.name, b.name) }

/** Table order (§4.6.3): key descending, then value length descending, then value bytes descending. */
function compareSharedDescending (a: SharedXattr, b: SharedXattr): number {
  if (a.key !== b.key) return a.key < b.key ? 1 : -1
  if (a.value.length !== b.value.length) return b.value.length - a.value.length
  return compareStrings(b.value, a.value)
}

function writeXattrEntry (buf: Buffer, at: number, key: string, value: string): number {
  const [index, suffix] = xattrIndex(key)
  buf[at] = suffix.length
  buf[at + 1] = index
  buf.writeUInt16LE(value.length, at + 2)
  buf.write(suffix, at + 4, 'latin1')
  buf.write(value, at + 4 + suffix.length, 'latin1')
  return at + roundUp(XATTR_ENTRY_SIZE + suffix.length + value.length, 4)
}

/** Number of trailing dirents that make up an inline tail of `tail` bytes. */
function countTail (d: Dirent[], tail: number): number {
  let n = 0
  let bytes = 0
  for (let i = d.length - 1; i >= 0 && bytes < tail; i--) { bytes += DIRENT_SIZE + d[i]!.name.length; n++ }
  return n
}

/** One dirent chunk (§4.7): the dirents of entries [from, to), then their names back to back. */
function writeDirentChunk (buf: Buffer, at: number, d: Dirent[], from: number, to: number): void {
  let nameoff = DIRENT_SIZE * (to - from)
  let p = at
  for (let i = from; i < to; i++) {
    const de = d[i]!
    const t = de.target!
    buf.writeUInt32LE(t.nid % 0x100000000, p)
    buf.writeUInt32LE(Math.floor(t.nid / 0x100000000), p + 4)
    buf.writeUInt16LE(nameoff, p + 8)
    buf[p + 10] = direntType(t)
    nameoff += de.name.length
    p += DIRENT_SIZE
  }
  for (let i = from; i < to; i++) {
    const name = d[i]!.name
    buf.write(name, p, 'latin1')
    p += name.length
  }
}
