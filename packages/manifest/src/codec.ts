/**
 * Manifest bytes: magic `CFSM`, one version byte, then a MessagePack body written by msgpackr (`useRecords:
 * false`, so any MessagePack decoder reads it). The body is columnar: the tree is walked depth-first in name order
 * and each field goes to its own varint column, repeated values go through tables, every column is
 * brotli-compressed on its own, and the incompressible 32-byte digests are stored raw, once each. docs/manifest-format.md
 * and packages/manifest/README.md specify every byte.
 *
 * Decoding never trusts a length: the envelope reader slices only what exists, decompression is capped by a
 * budget set by the file size, and every count is checked against the bytes that would have to hold it.
 */
import * as zlib from 'node:zlib'
import { Packr } from 'msgpackr'
import { CfsError } from '@cfs/errors'
import { sha256, type Digest } from '@cfs/digest'
import { ByteReader, ByteWriter } from './byte-stream.js'
import { readEnvelope } from './read-envelope.js'
import { hardlinkPrimaries } from './hardlinks.js'
import { inodeProblem, nameProblem, xattrsProblem, MTIME_SEC_MAX, PAYLOAD_MAX, U32_MAX } from './invariants.js'
import { INLINE_LIMIT, NAME_MAX, SYMLINK_MAX, XATTR_KEY_MAX, S_IFDIR, S_IFMT, S_IFREG, S_IFLNK, type Inode, type Manifest, type Node, type Xattr } from './model.js'

export const MANIFEST_MAGIC = Buffer.from('CFSM', 'latin1')
export const MANIFEST_VERSION = 4
const HEADER_SIZE = 5

/** The compressed columns, in body order. */
export const COLUMNS = ['names', 'links', 'dirs', 'modes', 'owners', 'nlinks', 'rdevs', 'mtimes', 'nsecs', 'sizes',
  'xattrs', 'flags', 'tables', 'targets', 'inline', 'payloads', 'objects'] as const
type Column = typeof COLUMNS[number]
/** node count, inode count, (raw length, bin) per column, the object table */
const BODY_ITEMS = 2 + 2 * COLUMNS.length + 1

/** Fixed brotli settings: part of the format, since the compressed bytes are part of the manifest digest. */
export const BROTLI_QUALITY = 1
export const BROTLI_LGWIN = 22
/** Decompressed columns may total at most this plus EXPANSION_MAX times the body size. */
export const RAW_BASE_MAX = 16 * 1024 * 1024
export const EXPANSION_MAX = 1024

const FLAG_DIGEST = 1
const FLAG_INLINE = 2
const FLAG_TARGET = 4
const PAYLOAD_SHIFT = 3
const PAYLOAD_NONE = 0
/** payload === objectPathOf(digest): costs no bytes */
const PAYLOAD_DERIVED = 1
/** payload has the object path shape `hh/h{62}` (lowercase hex) but is not derived: an object table entry */
const PAYLOAD_HASHED = 2
/** any other payload: a NUL-terminated byte string in the payloads column */
const PAYLOAD_LITERAL = 3
const FLAGS_MAX = 31
/** st_mode type (mode >>> 12) → 1 for the seven file types */
const VALID_TYPE = Uint8Array.from({ length: 16 }, (_, t) => [1, 2, 4, 6, 8, 10, 12].includes(t) ? 1 : 0)
const OBJECT_PATH_RE = /^[0-9a-f]{2}\/[0-9a-f]{62}$/

const packr = new Packr({ useRecords: false })

/** byte → its two lowercase hex digits, first digit in the low byte */
const HEX_PAIRS = Uint16Array.from({ length: 256 }, (_, b) => {
  const h = b.toString(16).padStart(2, '0')
  return h.charCodeAt(0) | h.charCodeAt(1) << 8
})
function treeInvalid (detail: string, path: string): never {
  throw new CfsError('ERR_CFS_TREE_INVALID', `cannot encode manifest: ${detail} at ${JSON.stringify(path)}`)
}

/** payload === objectPathOf(digest), compared digit by digit without building the path. */
function isObjectPathOf (payload: string, digest: Uint8Array): boolean {
  if (payload.length !== 65 || payload.charCodeAt(2) !== 0x2f) return false
  let h = HEX_PAIRS[digest[0]!]!
  if (payload.charCodeAt(0) !== (h & 0xff) || payload.charCodeAt(1) !== h >> 8) return false
  for (let i = 1, q = 3; i < 32; i++, q += 2) {
    h = HEX_PAIRS[digest[i]!]!
    if (payload.charCodeAt(q) !== (h & 0xff) || payload.charCodeAt(q + 1) !== h >> 8) return false
  }
  return true
}

/** Same keys and value bytes, in the same order; false for a value that is not a Uint8Array. */
function sameXattrs (a: readonly Xattr[], b: readonly Xattr[]): boolean {
  if (a === b) return true
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!
    const y = b[i]!
    if (x === y) continue
    if (x.key !== y.key) return false
    const u = x.value
    const v = y.value
    if (u === v) continue
    if (!(u instanceof Uint8Array)) return false
    const n = u.length
    if (n !== v.length) return false
    for (let j = 0; j < n; j++) if (u[j] !== v[j]) return false
  }
  return true
}

function compress (raw: Buffer): Buffer {
  if (raw.length === 0) return Buffer.alloc(0)
  return zlib.brotliCompressSync(raw, {
    params: {
      [zlib.constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY,
      [zlib.constants.BROTLI_PARAM_LGWIN]: BROTLI_LGWIN,
      [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_GENERIC,
      [zlib.constants.BROTLI_PARAM_SIZE_HINT]: raw.length,
    },
  })
}

/** Index of `key` in a first-appearance table, adding it when new. */
function intern<K> (table: Map<K, number>, key: K): number {
  let i = table.get(key)
  if (i === undefined) { i = table.size; table.set(key, i) }
  return i
}

/**
 * The object table being built: distinct 32-byte values in first-use order, found again by content through an
 * open-addressing hash of their bytes (no string or Buffer per lookup).
 */
class ObjectIndex {
  values = Buffer.allocUnsafe(32 * 1024)
  /** each entry's hash, so that placing it and growing the slots never hash its bytes again */
  hashes = new Int32Array(1024)
  /** the inode whose digest added each entry (undefined for a payload's): see Encoder.inodeNumber */
  readonly owners: Array<Inode | undefined> = []
  count = 0
  private slots = new Int32Array(2048)

  private static hash (b: Uint8Array, off: number): number {
    let h = 0x811c9dc5
    for (let i = off; i < off + 32; i += 4) {
      h = Math.imul(h ^ (b[i]! | b[i + 1]! << 8 | b[i + 2]! << 16 | b[i + 3]! << 24), 0x01000193)
      h ^= h >>> 15
    }
    return h
  }

  /** Index of the 32 bytes at b[off..], or -1 when they are new (then they become entry `count - 1`, owned by `owner`). */
  find (b: Uint8Array, off: number, owner: Inode | undefined): number {
    const slots = this.slots
    const mask = slots.length - 1
    const values = this.values
    const h = ObjectIndex.hash(b, off)
    for (let s = h & mask; ; s = (s + 1) & mask) {
      const e = slots[s]!
      if (e === 0) break
      const v = 32 * (e - 1)
      let j = 0
      while (j < 32 && values[v + j] === b[off + j]) j++
      if (j === 32) return e - 1
    }
    if (this.count === this.hashes.length) {
      const next = Buffer.allocUnsafe(values.length * 2)
      values.copy(next, 0, 0, 32 * this.count)
      this.values = next
      const hashes = new Int32Array(this.hashes.length * 2)
      hashes.set(this.hashes)
      this.hashes = hashes
    }
    const v = 32 * this.count
    for (let j = 0; j < 32; j++) this.values[v + j] = b[off + j]!
    this.hashes[this.count] = h
    this.owners.push(owner)
    this.count++
    if (2 * this.count > slots.length) this.rehash(); else this.place(this.count)
    return -1
  }

  private place (e: number): void {
    const slots = this.slots
    const mask = slots.length - 1
    let s = this.hashes[e - 1]! & mask
    while (slots[s] !== 0) s = (s + 1) & mask
    slots[s] = e
  }

  private rehash (): void {
    this.slots = new Int32Array(this.slots.length * 2)
    for (let e = 1; e <= this.count; e++) this.place(e)
  }

  table (): Buffer { return this.values.subarray(0, 32 * this.count) }
}

/** Children in byte order of their names (a sorted copy when needed); throws on a repeated name. */
function sortedChildren (enc: Encoder, node: Node): Node[] {
  const kids = node.children!
  let sorted = true
  for (let i = 1; i < kids.length; i++) if (!(kids[i - 1]!.name < kids[i]!.name)) { sorted = false; break }
  if (sorted) return kids
  const out = kids.slice().sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
  for (let i = 1; i < out.length; i++) {
    if (out[i - 1]!.name === out[i]!.name) treeInvalid(`duplicate name ${JSON.stringify(out[i]!.name)}`, enc.pathOf(node))
  }
  return out
}

const NO_NODES: Node[] = []
const RECENT_SETS = 8

/**
 * One encoding: the walk state and the tables. A class rather than closures over `let`s, so the hot methods read
 * fields of one object the JIT knows the shape of.
 */
class Encoder {
  readonly col = Object.fromEntries(COLUMNS.map(c => [c, new ByteWriter()])) as Record<Column, ByteWriter>
  readonly objects = new ObjectIndex()
  /**
   * Inode numbers, in first-appearance order. Finding out whether an inode was met before is a hash lookup by
   * object identity, the most expensive step of the walk, so it is made once per node: inodes that declare
   * links (nlink > 1, not directories) keep their number in `linkedIds`, the rest only join the `seen` set. A
   * repeat among those (a group whose nlink says 1: legal, but rare) starts the encoding over with every inode
   * numbered in `linkedIds` (`numberAll`).
   */
  inodeCount = 0
  readonly linkedIds = new Map<Inode, number>()
  readonly seen = new Set<Inode>()
  /**
   * Hardlink groups whose primary (Node.hardlink) is not their first Node in depth-first order: that primary's
   * link is written as `seen + id + 1` (above every plain link value), so trees without such groups cost nothing.
   */
  primaries: Map<Inode, Node> | undefined = undefined
  readonly firstIsPrimary = new Set<Inode>()
  readonly modes = new Map<number, number>()
  readonly owners = new Map<string, number>()
  readonly ownerList: Array<[number, number]> = []
  readonly keys = new Map<string, number>()
  readonly values = new Map<string, number>()
  readonly sets = new Map<string, number>()
  readonly setList: Array<Array<[number, number]>> = []
  nodes = 0
  prevSec = 0
  // Neighbouring inodes usually share mode, owner and xattrs (labels follow directories): compare with the
  // previous inode before paying for string keys and map lookups.
  lastMode = -1
  lastModeIndex = 0
  lastUid = -1
  lastGid = -1
  lastOwner = 0
  /**
   * The xattr arrays of the last RECENT_SETS distinct sets written, and their set numbers: a match costs a few
   * byte comparisons instead of interning every key and value. Labels alternate (a file with a capability
   * between files without), so more than the previous one is worth remembering.
   */
  readonly recentXattrs: Xattr[][] = []
  readonly recentSets: number[] = []
  recentNext = 0
  /** the slot of recentXattrs that matched (or was written) last */
  recentHit = 0
  /** directories on the walk's path, the root first: error messages only */
  readonly ancestors: Node[] = []

  constructor (readonly root: Node, readonly numberAll: boolean) {}

  pathOf (node: Node): string {
    const parts: string[] = []
    for (let i = 1; i < this.ancestors.length; i++) parts.push(this.ancestors[i]!.name)
    if (node !== this.root) parts.push(node.name)
    return '/' + parts.join('/')
  }

  private badName (node: Node): never {
    treeInvalid(`${nameProblem(node.name) ?? 'name is not a byte string'}: ${JSON.stringify(node.name)}`, this.pathOf(node))
  }

  /** The number of an inode met before; undefined for a new inode, which gets the next number. */
  private inodeNumber (inode: Inode, isDir: boolean): number | undefined {
    if (!this.numberAll && (isDir || inode.nlink === 1)) {
      // A file's inode repeats only with its digest: a digest new to the object index proves a new inode, so most
      // files skip the set. The object reference is then written here, in the order addInode would write it.
      const digest = inode.digest
      let found = -2
      if (!isDir && digest instanceof Uint8Array && digest.length === 32) {
        found = this.objects.find(digest, 0, inode)
        if (found >= 0 && this.objects.owners[found] === inode) throw NUMBER_ALL
      }
      if (found !== -1) {
        const before = this.seen.size
        if (this.seen.add(inode).size === before) throw NUMBER_ALL
      }
      if (found !== -2) this.col.objects.uint(found + 1)
    } else {
      const id = this.linkedIds.get(inode)
      if (id !== undefined) return id
      this.linkedIds.set(inode, this.inodeCount)
    }
    this.inodeCount++
    return undefined
  }

  /** Writes one node's entries (and its inode's, when new); returns its children in walk order. */
  visit (node: Node, prev: string): Node[] {
    const col = this.col
    const inode = node.inode
    const isDir = (inode.mode & S_IFMT) === S_IFDIR
    this.nodes++
    const known = this.inodeNumber(inode, isDir)
    if (node !== this.root) {
      // front coding: the prefix shared with the previous sibling, then the rest NUL-terminated
      const name = node.name
      const n = name.length
      if (!col.names.frontCoded(prev, name) || n === 0 || n > NAME_MAX ||
        (name.charCodeAt(0) === 0x2e && (n === 1 || (n === 2 && name.charCodeAt(1) === 0x2e)))) this.badName(node)
      if (known !== undefined && isDir) treeInvalid('a directory inode is shared (directory hardlink)', this.pathOf(node))
      const primaries = this.primaries
      const latePrimary = known !== undefined && primaries !== undefined && !this.firstIsPrimary.has(inode) && primaries.get(inode) === node
      col.links.uint(known === undefined ? 0 : latePrimary ? this.inodeCount + known + 1 : known + 1)
    }
    let children = NO_NODES
    if (isDir) {
      if (node.children !== undefined) children = sortedChildren(this, node)
      col.dirs.uint(children.length)
    } else if (node.children !== undefined) treeInvalid('a non-directory has children', this.pathOf(node))
    if (known === undefined) {
      if (this.primaries !== undefined && this.primaries.get(inode) === node) this.firstIsPrimary.add(inode)
      let subdirs = 0
      for (let i = 0; i < children.length; i++) if ((children[i]!.inode.mode & S_IFMT) === S_IFDIR) subdirs++
      this.addInode(inode, node, isDir ? 2 + subdirs : 1)
    }
    return children
  }

  private addInode (inode: Inode, node: Node, expectedNlink: number): void {
    const col = this.col
    let xattrs = inode.xattrs
    // recent sets were checked when first written: the same keys and bytes need no second look
    const known = xattrs.length > 0 ? this.recentSet(xattrs) : 0
    if (xattrs.length > 0 && known === 0 && xattrsProblem(xattrs) !== undefined) {
      xattrs = xattrs.slice().sort((a, b) => a.key < b.key ? -1 : a.key > b.key ? 1 : 0)
      const p = xattrsProblem(xattrs)
      if (p !== undefined) treeInvalid(p, this.pathOf(node))
    }
    const mode = inode.mode
    // The shared rule (inodeProblem) runs for anything but the common shapes that cheap tests clear: a directory
    // or device without content, and a regular file whose payload, if any, is derived from its 32-byte digest.
    const type = mode & S_IFMT
    const uid = inode.uid
    const gid = inode.gid
    const sec = inode.mtimeSec
    const size = inode.size
    const digest = inode.digest
    const payload = inode.payload
    const plain = (mode >>> 0) === mode && mode <= 0o177777 && VALID_TYPE[type >>> 12] === 1 && (uid >>> 0) === uid &&
      (gid >>> 0) === gid && (inode.nlink >>> 0) === inode.nlink && (inode.rdev >>> 0) === inode.rdev &&
      (inode.mtimeNsec >>> 0) === inode.mtimeNsec && Number.isSafeInteger(sec) && sec <= MTIME_SEC_MAX && sec >= -MTIME_SEC_MAX &&
      Number.isSafeInteger(size) && size >= 0 && inode.target === undefined && inode.inline === undefined &&
      (type === S_IFREG
        ? (digest === undefined ? payload === undefined : digest.length === 32 && (payload === undefined || isObjectPathOf(payload, digest)))
        : type !== S_IFLNK && digest === undefined && payload === undefined)
    if (!plain) {
      const problem = inodeProblem(inode, false)
      if (problem !== undefined) treeInvalid(problem, this.pathOf(node))
    }
    if (mode !== this.lastMode) { this.lastModeIndex = intern(this.modes, mode); this.lastMode = mode }
    col.modes.uint(this.lastModeIndex)
    if (uid !== this.lastUid || gid !== this.lastGid) {
      const ownerKey = `${uid}:${gid}`
      let owner = this.owners.get(ownerKey)
      if (owner === undefined) { owner = this.owners.size; this.owners.set(ownerKey, owner); this.ownerList.push([uid, gid]) }
      this.lastUid = uid
      this.lastGid = gid
      this.lastOwner = owner
    }
    col.owners.uint(this.lastOwner)
    col.nlinks.sint(inode.nlink - expectedNlink)
    col.rdevs.uint(inode.rdev)
    col.mtimes.sint(sec - this.prevSec)
    this.prevSec = sec
    col.nsecs.uint(inode.mtimeNsec)
    col.sizes.uint(size)
    if (xattrs.length === 0) col.xattrs.uint(0)
    else if (known > 0) col.xattrs.uint(known)
    else this.addXattrSet(xattrs)
    let flags = 0
    if (digest !== undefined) {
      flags |= FLAG_DIGEST
      // inodeNumber wrote the reference of a well-formed digest unless every inode is numbered (or the inode is linked)
      if (this.numberAll || type === S_IFDIR || inode.nlink !== 1 || !(digest instanceof Uint8Array) || digest.length !== 32) this.col.objects.uint(this.objects.find(digest, 0, inode) + 1)
    }
    if (inode.inline !== undefined) { flags |= FLAG_INLINE; col.inline.bytes(inode.inline) }
    if (inode.target !== undefined) { flags |= FLAG_TARGET; col.targets.cstring(inode.target) }
    if (payload !== undefined) {
      if (digest !== undefined && (plain || isObjectPathOf(payload, digest))) flags |= PAYLOAD_DERIVED << PAYLOAD_SHIFT
      else if (OBJECT_PATH_RE.test(payload)) {
        flags |= PAYLOAD_HASHED << PAYLOAD_SHIFT
        this.col.objects.uint(this.objects.find(Buffer.from(payload.slice(0, 2) + payload.slice(3), 'hex'), 0, undefined) + 1)
      } else { flags |= PAYLOAD_LITERAL << PAYLOAD_SHIFT; col.payloads.cstring(payload) }
    }
    col.flags.uint(flags)
  }

  /**
   * The set number (1-based) of a recently written set with the same keys and values, or 0. The last match is
   * tried first: files of one directory usually share their label, and a near miss (labels share a long prefix)
   * costs a byte comparison per shared byte.
   */
  private recentSet (xattrs: Xattr[]): number {
    const recent = this.recentXattrs
    const hit = this.recentHit
    if (hit < recent.length && sameXattrs(xattrs, recent[hit]!)) return this.recentSets[hit]!
    for (let i = 0; i < recent.length; i++) {
      if (i !== hit && sameXattrs(xattrs, recent[i]!)) { this.recentHit = i; return this.recentSets[i]! }
    }
    return 0
  }

  private addXattrSet (xattrs: Xattr[]): void {
    const pairs: Array<[number, number]> = []
    let id = ''
    for (const x of xattrs) {
      const k = intern(this.keys, x.key)
      const v = intern(this.values, Buffer.from(x.value.buffer, x.value.byteOffset, x.value.byteLength).toString('latin1'))
      pairs.push([k, v])
      id += `${k},${v};`
    }
    let i = this.sets.get(id)
    if (i === undefined) { i = this.sets.size; this.sets.set(id, i); this.setList.push(pairs) }
    this.recentXattrs[this.recentNext] = xattrs
    this.recentSets[this.recentNext] = i + 1
    this.recentHit = this.recentNext
    this.recentNext = (this.recentNext + 1) % RECENT_SETS
    this.col.xattrs.uint(i + 1)
  }

  writeTables (): void {
    const t = this.col.tables
    t.uint(this.modes.size); for (const m of this.modes.keys()) t.uint(m)
    t.uint(this.owners.size)
    for (const [u, g] of this.ownerList) { t.uint(u); t.uint(g) }
    t.uint(this.keys.size); for (const k of this.keys.keys()) t.lstring(k)
    t.uint(this.values.size); for (const v of this.values.keys()) t.lstring(v)
    t.uint(this.setList.length)
    for (const pairs of this.setList) { t.uint(pairs.length); for (const [k, v] of pairs) { t.uint(k); t.uint(v) } }
  }
}

/**
 * Canonical bytes of a tree: the same tree (children and xattrs in any order) always gives the same bytes.
 * Directories must have `children` (missing means empty) and non-directories none; a directory inode may not be
 * shared. Throws ERR_CFS_TREE_INVALID for a tree composefs could not hold (see invariants.ts).
 */
export function encodeManifest (manifest: Manifest): Uint8Array {
  try {
    return encodeWith(manifest, false)
  } catch (err) {
    if (err !== NUMBER_ALL) throw err
    return encodeWith(manifest, true)
  }
}

/** Thrown by a fast encoding that met an unlinked inode twice (see Encoder.inodeNumber). */
const NUMBER_ALL = Symbol('number every inode')

function encodeWith (manifest: Manifest, numberAll: boolean): Uint8Array {
  const root = manifest.root
  const enc = new Encoder(root, numberAll)
  for (const stack = [root]; stack.length > 0 && enc.primaries === undefined;) {
    const n = stack.pop()!
    if (n.hardlink === true) enc.primaries = hardlinkPrimaries(manifest)
    if (n.children !== undefined) for (const c of n.children) stack.push(c)
  }
  if ((root.inode.mode & S_IFMT) !== S_IFDIR) treeInvalid('the root is not a directory', '/')
  if (root.name !== '') treeInvalid('the root has a name', '/')
  // Depth-first pre-order (the composefs dump order) with an explicit stack of (children, next index): trees can
  // be deep, and no object per node is made.
  const kidsStack: Node[][] = []
  const nextStack: number[] = []
  const ancestors = enc.ancestors
  const top = enc.visit(root, '')
  if (top.length > 0) { kidsStack.push(top); nextStack.push(0); ancestors.push(root) }
  while (kidsStack.length > 0) {
    const d = kidsStack.length - 1
    const kids = kidsStack[d]!
    const i = nextStack[d]!
    if (i === kids.length) { kidsStack.pop(); nextStack.pop(); ancestors.pop(); continue }
    nextStack[d] = i + 1
    const node = kids[i]!
    const children = enc.visit(node, i === 0 ? '' : kids[i - 1]!.name)
    if (children.length > 0) { kidsStack.push(children); nextStack.push(0); ancestors.push(node) }
  }
  enc.writeTables()

  const items: Array<number | Buffer> = [enc.nodes, enc.inodeCount]
  for (const c of COLUMNS) {
    const raw = enc.col[c].result()
    items.push(raw.length, compress(raw))
  }
  items.push(enc.objects.table())
  const body = packr.pack(items)
  const out = Buffer.allocUnsafe(HEADER_SIZE + body.length)
  MANIFEST_MAGIC.copy(out, 0)
  out[4] = MANIFEST_VERSION
  body.copy(out, HEADER_SIZE)
  return out
}

function corrupt (detail: string): never {
  throw new CfsError('ERR_CFS_MANIFEST_CORRUPT', `corrupt manifest: ${detail}`)
}

function invalid (detail: string): never {
  throw new CfsError('ERR_CFS_MANIFEST_INVALID', `invalid manifest: ${detail}`)
}

/** Consumes table indexes in first-appearance order, the only order the encoder writes. */
class FirstUse {
  next = 0
  constructor (readonly size: number, readonly what: string) {}
  take (i: number): number {
    if (i > this.next || i >= this.size) corrupt(`${this.what} index ${i} out of order or range`)
    if (i === this.next) this.next++
    return i
  }

  done (): void { if (this.next !== this.size) corrupt(`${this.size - this.next} unused ${this.what} entries`) }
}

/**
 * The object table and its reference column: `next` consumes one reference; digests and paths are shared per
 * object (one Buffer each, and paths sliced from one string of all of them, built on first use: one small object
 * for the collector instead of a 65-byte string per file).
 */
class ObjectRefs {
  private nextNew = 0
  private readonly count: number
  private readonly views: Buffer[] = []
  private paths: string | undefined
  constructor (private readonly table: Buffer, private readonly refs: ByteReader) { this.count = table.length / 32 }

  next (): number {
    const ref = this.refs.uint()
    if (ref === 0) {
      if (this.nextNew >= this.count) corrupt('more objects referenced than the object table holds')
      return this.nextNew++
    }
    if (ref > this.nextNew) corrupt(`reference to object ${ref - 1} before its first use`)
    return ref - 1
  }

  digest (i: number): Buffer { return this.views[i] ?? (this.views[i] = this.table.subarray(32 * i, 32 * i + 32)) }

  path (i: number): string {
    this.paths ??= this.allPaths()
    return this.paths.slice(65 * i, 65 * i + 65)
  }

  private allPaths (): string {
    const table = this.table
    const paths = Buffer.allocUnsafe(65 * this.count)
    for (let o = 0, b = 0, q = 0; o < this.count; o++) {
      let h = HEX_PAIRS[table[b++]!]!
      paths[q++] = h & 0xff
      paths[q++] = h >> 8
      paths[q++] = 0x2f
      for (const e = b + 31; b < e;) {
        h = HEX_PAIRS[table[b++]!]!
        paths[q++] = h & 0xff
        paths[q++] = h >> 8
      }
    }
    return paths.toString('latin1')
  }

  done (): void { if (this.nextNew !== this.count) corrupt(`${this.count - this.nextNew} unused object table entries`) }
}

/**
 * Parses manifest bytes into a tree with sorted children (so `lookupPath` binary-searches) and shared Inode
 * objects for hardlinks. Throws ERR_CFS_MANIFEST_CORRUPT (bad magic, truncated or malformed bytes),
 * ERR_CFS_MANIFEST_VERSION (another format version) or ERR_CFS_MANIFEST_INVALID (well-formed bytes describing a
 * tree composefs could not hold). Memory use is bounded by a multiple of `bytes.length`.
 */
export function decodeManifest (bytes: Uint8Array): Manifest {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (buf.length < HEADER_SIZE || !buf.subarray(0, 4).equals(MANIFEST_MAGIC)) {
    throw new CfsError('ERR_CFS_MANIFEST_CORRUPT', 'not a cfs manifest (bad magic)', { hint: 'pass a file written by cfs build' })
  }
  if (buf[4] !== MANIFEST_VERSION) {
    throw new CfsError('ERR_CFS_MANIFEST_VERSION', `unsupported manifest version ${buf[4]} (this cfs reads ${MANIFEST_VERSION})`,
      { hint: 'rebuild the image with this version of cfs' })
  }
  const body = buf.subarray(HEADER_SIZE)
  const items = readEnvelope(body, BODY_ITEMS)
  const num = (i: number): number => { const v = items[i]; if (typeof v !== 'number') corrupt(`body item ${i} is not a number`); return v }
  const bin = (i: number): Buffer => { const v = items[i]; if (typeof v === 'number') corrupt(`body item ${i} is not bin`); return v! }
  const nodeCount = num(0)
  const inodeCount = num(1)
  let budget = RAW_BASE_MAX + EXPANSION_MAX * body.length
  const col = {} as Record<Column, ByteReader>
  COLUMNS.forEach((c, k) => {
    const rawLength = num(2 + 2 * k)
    const packed = bin(3 + 2 * k)
    if (rawLength > budget) corrupt(`column ${c} claims ${rawLength} bytes, beyond the budget of this file`)
    budget -= rawLength
    let raw: Buffer
    if (rawLength === 0) {
      if (packed.length !== 0) corrupt(`empty column ${c} has compressed bytes`)
      raw = Buffer.alloc(0)
    } else {
      try {
        raw = zlib.brotliDecompressSync(packed, { maxOutputLength: rawLength })
      } catch (err) {
        throw new CfsError('ERR_CFS_MANIFEST_CORRUPT', `corrupt manifest: column ${c} does not decompress`, { cause: err })
      }
      if (raw.length !== rawLength) corrupt(`column ${c} holds ${raw.length} bytes, header says ${rawLength}`)
    }
    col[c] = new ByteReader(raw, c)
  })
  const objectTable = Buffer.from(bin(2 + 2 * COLUMNS.length)) // a copy: decoded digests outlive `bytes`
  if (objectTable.length % 32 !== 0) corrupt(`object table of ${objectTable.length} bytes is not a multiple of 32`)
  const objects = new ObjectRefs(objectTable, col.objects)

  // Every node but the root costs at least 2 name bytes, every inode at least one byte per inode column:
  // checked before anything is sized by these counts.
  if (nodeCount < 1 || nodeCount - 1 > col.names.remaining / 2) corrupt(`node count ${nodeCount} does not fit the names column`)
  if (inodeCount < 1 || inodeCount > nodeCount || inodeCount > col.modes.remaining) corrupt(`inode count ${inodeCount} does not fit`)

  const t = col.tables
  const modeTable: number[] = []
  for (let n = t.upTo(t.remaining, 'mode count'); n > 0; n--) modeTable.push(t.upTo(0o177777, 'mode'))
  const ownerTable: Array<[number, number]> = []
  for (let n = t.upTo(t.remaining, 'owner count'); n > 0; n--) ownerTable.push([t.upTo(0xffffffff, 'uid'), t.upTo(0xffffffff, 'gid')])
  const keyTable: string[] = []
  for (let n = t.upTo(t.remaining, 'xattr key count'); n > 0; n--) keyTable.push(t.lstring(XATTR_KEY_MAX, 'xattr key'))
  const valueTable: Buffer[] = []
  for (let n = t.upTo(t.remaining, 'xattr value count'); n > 0; n--) valueTable.push(t.view(t.upTo(65535, 'xattr value length')))
  const keyUse = new FirstUse(keyTable.length, 'xattr key')
  const valueUse = new FirstUse(valueTable.length, 'xattr value')
  const setTable: Xattr[][] = []
  for (let n = t.upTo(t.remaining, 'xattr set count'); n > 0; n--) {
    const set: Xattr[] = []
    for (let m = t.upTo(t.remaining, 'xattr set size'); m > 0; m--) {
      set.push({ key: keyTable[keyUse.take(t.uint())]!, value: valueTable[valueUse.take(t.uint())]! })
    }
    if (set.length === 0) corrupt('empty xattr set')
    const p = xattrsProblem(set)
    if (p !== undefined) invalid(p)
    setTable.push(set)
  }
  t.end(); keyUse.done(); valueUse.done()

  const { inodes, nlinkDelta } = decodeInodes(col, inodeCount, modeTable, ownerTable, setTable, objects)
  for (const c of ['modes', 'owners', 'nlinks', 'rdevs', 'mtimes', 'nsecs', 'sizes', 'xattrs', 'flags', 'targets', 'inline', 'payloads', 'objects'] as const) col[c].end()
  objects.done()

  return { root: decodeTree(col, nodeCount, inodes, nlinkDelta) }
}

/**
 * The inode columns, one inode at a time. Kept apart from decodeManifest (like decodeTree) so that the JIT
 * optimises a small function early instead of a huge one late: most of a one-shot CLI decode ran unoptimised.
 */
function decodeInodes (col: Record<Column, ByteReader>, inodeCount: number, modeTable: number[],
  ownerTable: Array<[number, number]>, setTable: Xattr[][], objects: ObjectRefs): { inodes: Inode[], nlinkDelta: number[] } {
  const modeUse = new FirstUse(modeTable.length, 'mode')
  const ownerUse = new FirstUse(ownerTable.length, 'owner')
  const setUse = new FirstUse(setTable.length, 'xattr set')
  const noXattrs: Xattr[] = []
  const nlinkDelta: number[] = new Array<number>(inodeCount)
  const inodes: Inode[] = new Array<Inode>(inodeCount)
  let prevSec = 0
  for (let i = 0; i < inodeCount; i++) {
    const mode = modeTable[modeUse.take(col.modes.uint())]!
    const owner = ownerTable[ownerUse.take(col.owners.uint())]!
    const uid = owner[0]
    const gid = owner[1]
    const nlinkD = col.nlinks.sint()
    nlinkDelta[i] = nlinkD
    const rdev = col.rdevs.upTo(0xffffffff, 'rdev')
    const mtimeSec = prevSec + col.mtimes.sint()
    prevSec = mtimeSec
    const mtimeNsec = col.nsecs.upTo(0xffffffff, 'mtime nanoseconds')
    const size = col.sizes.uint()
    const setIndex = col.xattrs.uint()
    const set = setIndex === 0 ? undefined : setTable[setUse.take(setIndex - 1)]
    // a directory's nlink needs its subdirectories: finished when the walk closes it
    const nlink = (mode & S_IFMT) === S_IFDIR ? 0 : 1 + nlinkD
    // inodes with the same xattr set share its array (and those without share one empty array): a decoded tree is
    // read as is, and 64k private copies would be 4 MB more for the collector to move
    const xattrs = set ?? noXattrs
    const flags = col.flags.upTo(FLAGS_MAX, 'flags')
    const type = mode & S_IFMT
    let inode: Inode
    let target: string | undefined
    if (flags === 0) {
      inode = { mode, uid, gid, nlink, rdev, mtimeSec, mtimeNsec, size, xattrs }
    } else if (flags === (FLAG_DIGEST | PAYLOAD_DERIVED << PAYLOAD_SHIFT) && type === S_IFREG) {
      // what cfs build writes for every external file
      const o = objects.next()
      inode = { mode, uid, gid, nlink, rdev, mtimeSec, mtimeNsec, size, xattrs, digest: objects.digest(o), payload: objects.path(o) }
    } else {
      // every other combination: the optional fields in model order, each checked against the file type
      let digest: Buffer | undefined
      let inline: Buffer | undefined
      let payload: string | undefined
      let digestIndex = -1
      if ((flags & FLAG_DIGEST) !== 0) {
        if (type !== S_IFREG) invalid(`digest on inode ${i}, which is not a regular file`)
        digestIndex = objects.next()
        digest = objects.digest(digestIndex)
      }
      if ((flags & FLAG_INLINE) !== 0) {
        if (type !== S_IFREG || size > INLINE_LIMIT) invalid(`inline content on inode ${i} (mode ${mode.toString(8)}, size ${size})`)
        inline = col.inline.view(size)
      }
      if ((flags & FLAG_TARGET) !== 0) {
        if (type !== S_IFLNK) invalid(`symlink target on inode ${i}, which is not a symlink`)
        target = col.targets.cstring(SYMLINK_MAX, 'target')
      }
      const payloadKind = flags >> PAYLOAD_SHIFT
      if (payloadKind !== PAYLOAD_NONE && type !== S_IFREG) invalid(`payload on inode ${i}, which is not a regular file`)
      if (payloadKind === PAYLOAD_DERIVED) {
        if (digestIndex < 0) corrupt(`derived payload without a digest on inode ${i}`)
        payload = objects.path(digestIndex)
      } else if (payloadKind === PAYLOAD_HASHED) {
        const o = objects.next()
        if (o === digestIndex) corrupt(`payload of inode ${i} should be derived`)
        payload = objects.path(o)
      } else if (payloadKind === PAYLOAD_LITERAL) {
        payload = col.payloads.cstring(PAYLOAD_MAX, 'payload')
        if (OBJECT_PATH_RE.test(payload)) corrupt(`payload of inode ${i} should be stored as a digest`)
      }
      // one literal per common shape, so an inode never grows an out-of-object property store
      if (inline !== undefined && digest === undefined && payload === undefined) {
        inode = { mode, uid, gid, nlink, rdev, mtimeSec, mtimeNsec, size, xattrs, inline }
      } else if (target !== undefined) {
        inode = { mode, uid, gid, nlink, rdev, mtimeSec, mtimeNsec, size, xattrs, target }
      } else {
        inode = { mode, uid, gid, nlink, rdev, mtimeSec, mtimeNsec, size, xattrs }
        if (digest !== undefined) inode.digest = digest
        if (inline !== undefined) inode.inline = inline
        if (payload !== undefined) inode.payload = payload
      }
    }
    // The columns already bound uid, gid, rdev, nsec and size, and the flags branch checked content against the
    // type: what is left is cheap to test, and inodeProblem (the shared rule) runs only to word a refusal.
    if (!VALID_TYPE[type >>> 12] || nlink < 0 || nlink > U32_MAX || mtimeSec > MTIME_SEC_MAX || mtimeSec < -MTIME_SEC_MAX ||
      (type === S_IFLNK && (target === undefined || target.length === 0)) || flags > FLAG_DIGEST + (PAYLOAD_DERIVED << PAYLOAD_SHIFT)) {
      const problem = inodeProblem(inode, false)
      if (problem !== undefined) invalid(`${problem} (inode ${i})`)
    }
    inodes[i] = inode
  }
  modeUse.done(); ownerUse.done(); setUse.done()
  return { inodes, nlinkDelta }
}

/** The tree walk over names, links and dirs: shared inodes for hardlinks, directory nlinks from subdirectories. */
function decodeTree (col: Record<Column, ByteReader>, nodeCount: number, inodes: Inode[], nlinkDelta: number[]): Node {
  const inodeCount = inodes.length
  const rootInode = inodes[0]!
  if ((rootInode.mode & S_IFMT) !== S_IFDIR) invalid('the root is not a directory')
  interface OpenDir { children: Node[], filled: number, inode: Inode, delta: number, subdirs: number, prevStart: number, prevLength: number }
  const open: OpenDir[] = []
  const closeDir = (inode: Inode, subdirs: number, delta: number): void => {
    const nlink = 2 + subdirs + delta
    if (nlink < 0 || nlink > 0xffffffff) invalid(`directory nlink ${nlink} out of range`)
    inode.nlink = nlink
  }
  // children arrays get their final length up front; a directory is opened once its node is placed
  const childrenOf = (nodesLeft: number): Node[] => new Array<Node>(col.dirs.upTo(nodesLeft, 'child count'))
  const openDir = (children: Node[], inode: Inode, id: number): void => {
    if (children.length > 0) open.push({ children, filled: 0, inode, delta: nlinkDelta[id]!, subdirs: 0, prevStart: 0, prevLength: 0 })
    else closeDir(inode, 0, nlinkDelta[id]!)
  }
  const root: Node = { name: '', inode: rootInode, children: childrenOf(nodeCount - 1) }
  openDir(root.children!, rootInode, 0)
  let nextInode = 1
  const latePrimaries = new Map<Inode, Node>()
  // Names are expanded (prefix of the previous sibling + suffix) into one buffer, and every node gets its name
  // as one slice of one latin1 string of that buffer after the walk: a single string object per name, where
  // joining strings would make up to four (slice, suffix, cons string, its flattened copy).
  const names = col.names
  const nb = names.buf
  let full = Buffer.allocUnsafe(2 * nb.length + 256)
  const nameStart = new Int32Array(nodeCount)
  const nameLength = new Uint8Array(nodeCount)
  const nodes = new Array<Node>(nodeCount)
  nodes[0] = root
  let pos = 0
  let fill = 0
  for (let k = 1; k < nodeCount; k++) {
    const top = open[open.length - 1]
    if (top === undefined) corrupt(`${nodeCount - k} nodes outside the tree`)
    // the previous sibling's name, as a range of `full`
    const prevStart = top.filled === 0 ? 0 : top.prevStart
    const prevLength = top.filled === 0 ? 0 : top.prevLength
    let shared = nb[pos]!
    if (shared < 0x80 && shared <= prevLength && pos < nb.length) pos++
    else { names.pos = pos; shared = names.upTo(prevLength, 'shared name prefix'); pos = names.pos }
    const end = nb.indexOf(0, pos)
    if (end < 0 || end - pos > NAME_MAX) { names.pos = pos; names.cstring(NAME_MAX, 'name') }
    const suffixLength = end - pos
    const length = shared + suffixLength
    if (shared < prevLength && suffixLength > 0 && nb[pos] === full[prevStart + shared]) corrupt(`name prefix not maximal (node ${k})`)
    // shared prefixes make the expansion larger than the column (at most 255 bytes per name, and the node
    // count was checked against the column's size)
    if (fill + length > full.length) {
      const next = Buffer.allocUnsafe(2 * full.length + length)
      full.copy(next, 0, 0, fill)
      full = next
    }
    const start = fill
    // a loop: prefixes are short, and copyWithin is a native call per name
    for (let i = prevStart; i < prevStart + shared; i++) full[fill++] = full[i]!
    let slash = false
    for (let i = pos; i < end; i++) {
      const c = nb[i]!
      if (c === 0x2f) slash = true
      full[fill++] = c
    }
    pos = end + 1
    // nameProblem's rules on bytes (the column holds no NUL); the shared rule words a refusal
    if (slash || length === 0 || length > NAME_MAX || (full[start] === 0x2e && (length === 1 || (length === 2 && full[start + 1] === 0x2e)))) {
      invalid(`${nameProblem(full.toString('latin1', start, fill)) ?? 'invalid name'} (node ${k})`)
    }
    // sorted and unique: the names agree on `shared` bytes and differ at the next one (the prefix is maximal),
    // so this byte, or the previous name ending there, decides
    if (top.filled > 0 && !(shared === prevLength ? suffixLength > 0 : suffixLength > 0 && full[start + shared]! > full[prevStart + shared]!)) {
      invalid(`names not sorted or repeated at ${JSON.stringify(full.toString('latin1', start, fill))} (node ${k})`)
    }
    top.prevStart = start
    top.prevLength = length
    nameStart[k] = start
    nameLength[k] = length
    let link = col.links.uint()
    // a value above nextInode marks the primary of a hardlink group that is not its first Node (see the encoder)
    const latePrimary = link > nextInode
    if (latePrimary) link -= nextInode
    let inode: Inode
    const id = link === 0 ? nextInode : link - 1
    if (link === 0) {
      if (nextInode >= inodeCount) corrupt('more new inodes than the inode count')
      inode = inodes[nextInode++]!
    } else {
      if (link > nextInode) corrupt(`hardlink to inode ${link - 1} before it appears (node ${k})`)
      inode = inodes[link - 1]!
      if ((inode.mode & S_IFMT) === S_IFDIR) invalid(`directory hardlink at ${JSON.stringify(full.toString('latin1', start, fill))} (node ${k})`)
    }
    const isDir = (inode.mode & S_IFMT) === S_IFDIR
    const children = isDir ? childrenOf(nodeCount - 1 - k) : undefined
    const node: Node = children === undefined ? { name: '', inode } : { name: '', inode, children }
    nodes[k] = node
    if (latePrimary) {
      if (latePrimaries.has(inode)) corrupt(`two primaries for one hardlink group (node ${k})`)
      latePrimaries.set(inode, node)
    }
    top.children[top.filled++] = node
    if (isDir) top.subdirs++
    if (top.filled === top.children.length) { open.pop(); closeDir(top.inode, top.subdirs, top.delta) }
    if (children !== undefined) openDir(children, inode, id)
  }
  if (open.length > 0) corrupt('directories hold more children than there are nodes')
  if (nextInode !== inodeCount) corrupt(`${inodeCount - nextInode} inodes not reached from the root`)
  names.pos = pos
  names.end(); col.links.end(); col.dirs.end()
  const text = full.toString('latin1', 0, fill)
  for (let k = 1; k < nodeCount; k++) nodes[k]!.name = text.slice(nameStart[k]!, nameStart[k]! + nameLength[k]!)

  if (latePrimaries.size > 0) {
    for (const stack: Node[] = [root]; stack.length > 0;) {
      const n = stack.pop()!
      const p = latePrimaries.get(n.inode)
      if (p !== undefined && p !== n) n.hardlink = true
      if (n.children !== undefined) for (const c of n.children) stack.push(c)
    }
  }
  return root
}

/** sha256 of the manifest bytes: the image's identity. */
export function manifestDigest (bytes: Uint8Array): Digest { return sha256(bytes) }
