/**
 * Everything about the image `mkcomposefs` 1.0.8 writes for a tree except its bytes: steps A–F of
 * spec/composefs-format.md §4.2 (A version, B per-entry rewrite (depth-first), C root opaque + 256 whiteouts,
 * D breadth-first numbering, E shared xattr table, F sizes/padding/nids). `writeErofs` emits the plan (step G);
 * the dump writer reads it to print what `composefs-info dump` shows of the image.
 */
import { CfsError } from '@cfs/errors'
import {
  fileKind, hardlinkPrimaries, ROOT_WHITEOUT_NAMES, S_IFMT, S_IFREG, S_IFDIR, S_IFCHR, S_IFLNK,
  type Inode, type Manifest, type Node,
} from '@cfs/manifest'

export const BLOCK_SIZE = 4096
const SLOT_SIZE = 32
const HALF_BLOCK = BLOCK_SIZE / 2
export const SUPER_OFFSET = 1024
const SUPER_SIZE = 128
export const INODES_START = SUPER_OFFSET + SUPER_SIZE
export const COMPACT_INODE_SIZE = 32
export const EXTENDED_INODE_SIZE = 64
export const DIRENT_SIZE = 12
export const XATTR_HEADER_SIZE = 12
const XATTR_ENTRY_SIZE = 4
/** at most this many shared references per inode (EROFS_XATTR_LONG_PREFIX); later shared pairs go inline */
const MAX_SHARED_REFS = 128
/** mkcomposefs' per-inode budget for xattrs it adds (LCFS_INODE_EXTERNAL_XATTR_MAX) */
const XATTR_BUDGET = 32767
/** bytes mkcomposefs charges per xattr: twice the 4-byte entry header minus one for alignment */
const XATTR_COST = 7
const MAX_CHUNKS = 1024
const MAX_CHUNKBITS = 12 + 31

const MAX_VERSION = 1

/** Xattr names composefs gives a meaning to (spec §3.4–3.5). Keys under OVERLAY_PREFIX are escaped in the image. */
export const OVERLAY_PREFIX = 'trusted.overlay.'
export const OVERLAY_ESCAPED_PREFIX = 'trusted.overlay.overlay.'
export const METACOPY_XATTR = 'trusted.overlay.metacopy'
export const REDIRECT_XATTR = 'trusted.overlay.redirect'
export const OPAQUE_XATTR = 'trusted.overlay.opaque'
export const ESCAPED_WHITEOUT_XATTR = 'trusted.overlay.overlay.whiteout'
export const ESCAPED_WHITEOUTS_XATTR = 'trusted.overlay.overlay.whiteouts'
export const ESCAPED_OPAQUE_XATTR = 'trusted.overlay.overlay.opaque'
export const USER_WHITEOUT_XATTR = 'user.overlay.whiteout'
export const USER_WHITEOUTS_XATTR = 'user.overlay.whiteouts'
export const USER_OPAQUE_XATTR = 'user.overlay.opaque'
const SELINUX_XATTR = 'security.selinux'
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
}

export interface PlanOptions extends ErofsOptions {
  /**
   * Plan a tree even where mkcomposefs refuses it because the xattrs it adds exceed its per-inode budget (§4.14);
   * a dump of such a tree still shows what the image would hold.
   */
  ignoreXattrBudget?: boolean
}

/**
 * One inode as written: the C writer's node after the rewrite steps, with its layout. Read-only outside this
 * module.
 */
export interface PlannedInode {
  name: string
  /** the root's parent is the root */
  parent: PlannedInode
  /** as stored: whiteouts are regular files here */
  mode: number
  uid: number
  gid: number
  nlink: number
  rdev: number
  mtimeSec: number
  mtimeNsec: number
  /** st_size as the C writer keeps it (compact check; i_size of regular files) */
  size: number
  /** i_size as stored: size of directories, regular files and symlinks, 0 for everything else */
  isize: number
  /**
   * xattrs in key order (the escaped key, byte order), as stored; values as byte strings, so equal pairs are
   * found by string hashing
   */
  xkeys: string[]
  xvalues: string[]
  /** per xattr: its index in `ImagePlan.shared` when stored as a shared reference, or -1 when inline */
  sharedRefs: number[]
  /** mkcomposefs' running xattr budget counter (§4.14); may go "negative" like its unsigned counter wraps */
  budget: number
  /** primary children in name order (the breadth-first queue input) */
  children: PlannedInode[] | undefined
  /** all names of a directory including '.', '..' and hardlink entries, sorted at step D */
  dirents: PlannedDirent[] | undefined
  /** regular files: the inline content (never empty) */
  inline: Uint8Array | undefined
  /** symlinks: the target */
  target: Uint8Array | undefined
  /** regular files with content in a backing file: a chunk-based inode, all holes */
  external: boolean
  chunkbits: number
  chunkCount: number
  // layout (step D–F)
  ino: number
  compact: boolean
  /** bytes of the xattr area: header, shared references, inline entries */
  xattrSize: number
  /** data blocks */
  nBlocks: number
  /** bytes of the inline tail right after the xattrs: last dirent chunk, symlink target, content or chunk table */
  tail: number
  /** padding before the inode */
  pad: number
  nid: number
}

export interface PlannedDirent {
  name: string
  target: PlannedInode | undefined
  /** hardlink entries: resolved to the PlannedInode of this Inode once every one exists */
  inode: Inode | undefined
}

export interface SharedXattr {
  key: string
  /** byte string */
  value: string
  /** byte offset in the shared xattr table */
  offset: number
}

/** The image of a tree before emission. */
export interface ImagePlan {
  version: number
  /** any inode has a POSIX ACL xattr (composefs header flag) */
  hasAcl: boolean
  root: PlannedInode
  /** every inode in breadth-first order, which is the order of inode numbers and of emission */
  inodes: PlannedInode[]
  /** the planned inode of each Inode of the tree */
  byInode: Map<Inode, PlannedInode>
  /** the shared xattr table in on-disk order: pairs carried by more than one inode */
  shared: SharedXattr[]
  sharedSize: number
  /** superblock build time: the smallest mtime */
  minSec: number
  minNsec: number
  /** end of the inode area, where the shared xattr table begins */
  inodesEnd: number
  /** start of the data blocks */
  dataStart: number
  imageSize: number
}

function unsupported (message: string, hint?: string): CfsError {
  return new CfsError('ERR_CFS_EROFS_UNSUPPORTED', message, hint === undefined ? {} : { hint })
}

function pathOf (e: PlannedInode): string {
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

/** A whiteout: a character device with rdev 0 (spec §3.5). */
export function isWhiteout (inode: Inode): boolean {
  return (inode.mode & S_IFMT) === S_IFCHR && inode.rdev === 0
}

/**
 * Sets an xattr the way lcfs_node_set_xattr does, including its budget counter quirk (§4.14); `strict` throws
 * where it fails.
 */
function setXattr (e: PlannedInode, key: string, value: string, strict: boolean): void {
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
  if (strict && (total < 0 || total > XATTR_BUDGET)) {
    throw unsupported(`cannot add xattr ${key} to ${pathOf(e)}: mkcomposefs' per-inode xattr budget of ${XATTR_BUDGET} bytes is exceeded (Numerical result out of range)`)
  }
  e.xkeys.push(key)
  e.xvalues.push(value)
  e.budget = total
}

function newEntry (name: string, inode: Inode, parent: PlannedInode | undefined): PlannedInode {
  const e: PlannedInode = {
    name,
    parent: parent as PlannedInode,
    mode: inode.mode,
    uid: inode.uid >>> 0,
    gid: inode.gid >>> 0,
    nlink: inode.nlink >>> 0,
    rdev: inode.rdev >>> 0,
    mtimeSec: inode.mtimeSec,
    mtimeNsec: inode.mtimeNsec >>> 0,
    size: inode.size,
    isize: 0,
    xkeys: inode.xattrs.map(x => x.key),
    xvalues: inode.xattrs.map(x => byteString(x.value)),
    sharedRefs: NO_REFS,
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
    nBlocks: 0,
    tail: 0,
    pad: 0,
    nid: 0,
  }
  if (parent === undefined) e.parent = e
  return e
}

/** An xattr name as stored (§4.6.2): the index of its prefix (0: none) and the rest of the name. */
export function xattrNameIndex (key: string): [index: number, suffix: string] {
  for (const [prefix, index] of XATTR_PREFIXES) {
    if (key.startsWith(prefix)) return [index, key.slice(prefix.length)]
  }
  return [0, key]
}

/** Bytes of a stored xattr entry before its padding to 4: 4-byte header, name suffix, value. */
export function xattrEntryLength (key: string, value: string): number {
  return XATTR_ENTRY_SIZE + xattrNameIndex(key)[1].length + value.length
}

function xattrEntrySize (key: string, value: string): number {
  return roundUp(xattrEntryLength(key, value), 4)
}

export function roundUp (x: number, a: number): number { return Math.ceil(x / a) * a }

/**
 * Plans the composefs EROFS image of `manifest` as `mkcomposefs --from-file` 1.0.8 lays it out for the same tree
 * and version options. The manifest is not modified. Throws ERR_CFS_EROFS_UNSUPPORTED where mkcomposefs fails:
 * a format version above 1, an external file needing more than 1024 chunks (EFBIG), or xattrs the writer adds
 * exceeding its per-inode budget (ERANGE, unless `ignoreXattrBudget`); ERR_CFS_TREE_INVALID for a tree no dump
 * could describe.
 */
export function planImage (manifest: Manifest, opts: PlanOptions = {}): ImagePlan {
  // Step A — who holds each inode (Node.hardlink), and the version
  const root = manifest.root
  if (root.children === undefined || (root.inode.mode & S_IFMT) !== S_IFDIR) {
    throw new CfsError('ERR_CFS_TREE_INVALID', 'the root of the tree must be a directory')
  }
  const primaryOf = hardlinkPrimaries(manifest)
  let hasWhiteout = false
  for (const [inode, node] of primaryOf) {
    if (node.hardlink === true) {
      throw new CfsError('ERR_CFS_TREE_INVALID',
        `the links of '${node.name}' have no single primary: no Node without the hardlink flag, or several but not the first`,
        { hint: 'finalizeTree or normalizeHardlinks puts the flags in canonical form' })
    }
    if (isWhiteout(inode)) hasWhiteout = true
  }
  const version = selectVersion(opts, hasWhiteout)
  const strict = opts.ignoreXattrBudget !== true

  // Step B — entries and per-entry rewrite, depth-first pre-order
  const entryOf = new Map<Inode, PlannedInode>()
  const rewrite = (node: Node, parent: PlannedInode | undefined): PlannedInode => {
    const inode = node.inode
    const e = newEntry(node.name, inode, parent)
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
      setXattr(e, METACOPY_XATTR, metacopy, strict)
      const payload = inode.payload === undefined ? '' : cString(inode.payload)
      if (payload.length > 0) setXattr(e, REDIRECT_XATTR, '/' + payload, strict)
    }

    if (kind === 'chardev' && e.rdev === 0) {
      e.size = 0
      e.mode = S_IFREG | (e.mode & ~S_IFMT)
      setXattr(e, ESCAPED_WHITEOUT_XATTR, EMPTY, strict)
      setXattr(e, USER_WHITEOUT_XATTR, EMPTY, strict)
      const p = e.parent
      setXattr(p, ESCAPED_WHITEOUTS_XATTR, EMPTY, strict)
      setXattr(p, USER_WHITEOUTS_XATTR, EMPTY, strict)
      if (version >= 1) {
        setXattr(p, ESCAPED_OPAQUE_XATTR, OPAQUE_X, strict)
        setXattr(p, USER_OPAQUE_XATTR, OPAQUE_X, strict)
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
  setXattr(rootEntry, OPAQUE_XATTR, OPAQUE_Y, strict)
  const rootNames = new Set(rootEntry.dirents!.map(d => d.name))
  const selinuxAt = rootEntry.xkeys.indexOf(SELINUX_XATTR)
  const selinux = selinuxAt < 0 ? undefined : rootEntry.xvalues[selinuxAt]!
  let addedWhiteouts = false
  for (const name of ROOT_WHITEOUT_NAMES) {
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
    }, rootEntry)
    if (selinux !== undefined) setXattr(w, SELINUX_XATTR, selinux, strict)
    rootEntry.children!.push(w)
    rootEntry.dirents!.push({ name, target: w, inode: undefined })
    addedWhiteouts = true
  }
  if (addedWhiteouts) rootEntry.children!.sort(compareEntries)

  // Step D — breadth-first numbering
  const queue: PlannedInode[] = [rootEntry]
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
            throw new CfsError('ERR_CFS_TREE_INVALID', `hardlink ${pathOf(e)}/${d.name} has no primary entry`)
          }
          d.target = t
        }
      }
      e.dirents!.sort(compareDirents)
    }
    if (e.xkeys.length > 1 && !xattrsSorted(e)) sortXattrs(e)
    if (e.mtimeSec < minSec || (e.mtimeSec === minSec && e.mtimeNsec < minNsec)) {
      minSec = e.mtimeSec
      minNsec = e.mtimeNsec
    }
    if (!hasAcl && (e.xkeys.includes('system.posix_acl_access') || e.xkeys.includes('system.posix_acl_default'))) hasAcl = true
  }

  // Step E — shared xattr table: pairs used by more than one inode. Maps by key, then value: the strings keep
  // their cached hashes, where joined pair strings would be hashed anew at every lookup.
  const pairCount = new Map<string, Map<string, number>>()
  for (const e of queue) {
    for (let i = 0; i < e.xkeys.length; i++) {
      const key = e.xkeys[i]!
      const value = e.xvalues[i]!
      let byValue = pairCount.get(key)
      if (byValue === undefined) { byValue = new Map(); pairCount.set(key, byValue) }
      byValue.set(value, (byValue.get(value) ?? 0) + 1)
    }
  }
  const shared: SharedXattr[] = []
  for (const [key, byValue] of pairCount) {
    for (const [value, count] of byValue) if (count > 1) shared.push({ key, value, offset: 0 })
  }
  shared.sort(compareSharedDescending)
  const sharedIndex = new Map<string, Map<string, number>>()
  let sharedSize = 0
  for (const [i, s] of shared.entries()) {
    let byValue = sharedIndex.get(s.key)
    if (byValue === undefined) { byValue = new Map(); sharedIndex.set(s.key, byValue) }
    byValue.set(s.value, i)
    s.offset = sharedSize
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
    e.isize = type === S_IFDIR || type === S_IFREG || type === S_IFLNK ? e.size : 0
    e.compact = e.mtimeSec === minSec && e.mtimeNsec === minNsec &&
      e.nlink <= 0xFFFF && e.uid <= 0xFFFF && e.gid <= 0xFFFF && e.size <= 0xFFFFFFFF
    const isz = e.compact ? COMPACT_INODE_SIZE : EXTENDED_INODE_SIZE

    let nShared = 0
    let inlineSize = 0
    const nx = e.xkeys.length
    if (nx > 0) e.sharedRefs = new Array<number>(nx)
    for (let i = 0; i < nx; i++) {
      const key = e.xkeys[i]!
      const value = e.xvalues[i]!
      const ref = sharedIndex.size === 0 ? undefined : sharedIndex.get(key)?.get(value)
      if (ref !== undefined && nShared < MAX_SHARED_REFS) {
        e.sharedRefs[i] = ref
        nShared++
      } else {
        e.sharedRefs[i] = -1
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
  return {
    version, hasAcl, root: rootEntry, inodes: queue, byInode: entryOf, shared, sharedSize, minSec, minNsec,
    inodesEnd, dataStart, imageSize,
  }
}

const OPAQUE_X = 'x'
const OPAQUE_Y = 'y'
const METACOPY_HEAD = '\x00\x24\x00\x01'
const NO_REFS: number[] = []

function byteString (b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1')
}

function xattrsSorted (e: PlannedInode): boolean {
  for (let i = 1; i < e.xkeys.length; i++) if (e.xkeys[i - 1]! > e.xkeys[i]!) return false
  return true
}

/** Puts an entry's xattrs in key order (byte order of the full, escaped key). */
function sortXattrs (e: PlannedInode): void {
  const order = e.xkeys.map((_k, i) => i).sort((a, b) => compareStrings(e.xkeys[a]!, e.xkeys[b]!))
  e.xkeys = order.map(i => e.xkeys[i]!)
  e.xvalues = order.map(i => e.xvalues[i]!)
}

function cString (s: string): string {
  const nul = s.indexOf('\0')
  return nul < 0 ? s : s.slice(0, nul)
}

function compareStrings (a: string, b: string): number { return a < b ? -1 : a > b ? 1 : 0 }
function compareEntries (a: PlannedInode, b: PlannedInode): number { return compareStrings(a.name, b.name) }
function compareDirents (a: PlannedDirent, b: PlannedDirent): number { return compareStrings(a.name, b.name) }

/** Table order (§4.6.3): key descending, then value length descending, then value bytes descending. */
function compareSharedDescending (a: SharedXattr, b: SharedXattr): number {
  if (a.key !== b.key) return a.key < b.key ? 1 : -1
  if (a.value.length !== b.value.length) return b.value.length - a.value.length
  return compareStrings(b.value, a.value)
}
