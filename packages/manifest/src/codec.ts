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
import { inodeProblem, nameProblem, xattrsProblem, PAYLOAD_MAX } from './invariants.js'
import { INLINE_LIMIT, NAME_MAX, SYMLINK_MAX, XATTR_KEY_MAX, S_IFDIR, S_IFMT, S_IFREG, S_IFLNK, type Inode, type Manifest, type Node, type Xattr } from './model.js'

export const MANIFEST_MAGIC = Buffer.from('CFSM', 'latin1')
export const MANIFEST_VERSION = 2
const HEADER_SIZE = 5

/** The compressed columns, in body order. */
export const COLUMNS = ['names', 'links', 'dirs', 'modes', 'owners', 'nlinks', 'rdevs', 'mtimes', 'nsecs', 'sizes',
  'xattrs', 'flags', 'tables', 'targets', 'inline', 'payloads', 'objects'] as const
type Column = typeof COLUMNS[number]
/** node count, inode count, (raw length, bin) per column, the object table */
const BODY_ITEMS = 2 + 2 * COLUMNS.length + 1

/** Fixed brotli settings: part of the format, since the compressed bytes are part of the manifest digest. */
export const BROTLI_QUALITY = 5
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
const OBJECT_PATH_RE = /^[0-9a-f]{2}\/[0-9a-f]{62}$/

const packr = new Packr({ useRecords: false })

/** byte → its two lowercase hex digits, first digit in the low byte */
const HEX_PAIRS = Uint16Array.from({ length: 256 }, (_, b) => {
  const h = b.toString(16).padStart(2, '0')
  return h.charCodeAt(0) | h.charCodeAt(1) << 8
})

/** A node on the encoder's walk; paths are built only for error messages. */
interface Entry { node: Node, parent: Entry | undefined, prev: string }

function pathOf (at: Entry): string {
  const parts: string[] = []
  for (let e: Entry | undefined = at; e?.parent !== undefined; e = e.parent) parts.push(e.node.name)
  return '/' + parts.reverse().join('/')
}

function treeInvalid (detail: string, at: Entry): never {
  throw new CfsError('ERR_CFS_TREE_INVALID', `cannot encode manifest: ${detail} at ${JSON.stringify(pathOf(at))}`)
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

function sameXattrs (a: readonly Xattr[], b: readonly Xattr[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!
    const y = b[i]!
    if (x.key !== y.key) return false
    if (x.value === y.value) continue
    if (x.value.length !== y.value.length) return false
    for (let j = 0; j < x.value.length; j++) if (x.value[j] !== y.value[j]) return false
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

function sortedChildren (node: Node, at: Entry): Node[] {
  const kids = node.children!
  let sorted = true
  for (let i = 1; i < kids.length; i++) if (!(kids[i - 1]!.name < kids[i]!.name)) { sorted = false; break }
  const out = sorted ? kids : kids.slice().sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
  for (let i = 0; i < out.length; i++) {
    const name = out[i]!.name
    const p = nameProblem(name)
    if (p !== undefined) treeInvalid(`${p}: ${JSON.stringify(name)}`, at)
    if (i > 0 && out[i - 1]!.name === name) treeInvalid(`duplicate name ${JSON.stringify(name)}`, at)
  }
  return out
}

/**
 * Canonical bytes of a tree: the same tree (children and xattrs in any order) always gives the same bytes.
 * Directories must have `children` (missing means empty) and non-directories none; a directory inode may not be
 * shared. Throws ERR_CFS_TREE_INVALID for a tree composefs could not hold (see invariants.ts).
 */
export function encodeManifest (manifest: Manifest): Uint8Array {
  const col = Object.fromEntries(COLUMNS.map(c => [c, new ByteWriter()])) as Record<Column, ByteWriter>
  const objectTable = new ByteWriter()
  const objects = new Map<string, number>()
  // Identical files share one object, so each 32-byte value is stored once; a reference is 0 for "the next new
  // entry" (the table is in first-use order) or 1 + the index of an earlier one.
  const addObject = (key: string): void => {
    const i = objects.get(key)
    if (i !== undefined) { col.objects.uint(i + 1); return }
    objects.set(key, objects.size)
    objectTable.latin1(key)
    col.objects.uint(0)
  }
  const inodeIds = new Map<Inode, number>()
  // Hardlink groups whose primary (Node.hardlink) is not their first Node in depth-first order: that primary's
  // link is written as `seen + id + 1` (above every plain link value), so trees without such groups cost nothing.
  let primaries: Map<Inode, Node> | undefined
  for (const stack = [manifest.root]; stack.length > 0 && primaries === undefined;) {
    const n = stack.pop()!
    if (n.hardlink === true) primaries = hardlinkPrimaries(manifest)
    if (n.children !== undefined) for (const c of n.children) stack.push(c)
  }
  const firstIsPrimary = new Set<Inode>()
  const modes = new Map<number, number>()
  const owners = new Map<string, number>()
  const ownerList: Array<[number, number]> = []
  const keys = new Map<string, number>()
  const values = new Map<string, number>()
  const sets = new Map<string, number>()
  const setList: Array<Array<[number, number]>> = []
  let nodes = 0
  let prevSec = 0
  // Neighbouring inodes usually share owner and xattrs (labels follow directories): compare with the previous
  // inode before paying for string keys and map lookups.
  let lastUid = -1
  let lastGid = -1
  let lastOwner = 0
  let lastXattrs: Xattr[] = []
  let lastSet = 0

  const addInode = (inode: Inode, at: Entry, subdirs: number): void => {
    let xattrs = inode.xattrs
    if (xattrs.length > 0 && xattrsProblem(xattrs) !== undefined) {
      xattrs = xattrs.slice().sort((a, b) => a.key < b.key ? -1 : a.key > b.key ? 1 : 0)
      const p = xattrsProblem(xattrs)
      if (p !== undefined) treeInvalid(p, at)
    }
    const problem = inodeProblem(inode, false)
    if (problem !== undefined) treeInvalid(problem, at)
    const isDir = (inode.mode & S_IFMT) === S_IFDIR
    col.modes.uint(intern(modes, inode.mode))
    if (inode.uid !== lastUid || inode.gid !== lastGid) {
      const ownerKey = `${inode.uid}:${inode.gid}`
      let owner = owners.get(ownerKey)
      if (owner === undefined) { owner = owners.size; owners.set(ownerKey, owner); ownerList.push([inode.uid, inode.gid]) }
      lastUid = inode.uid
      lastGid = inode.gid
      lastOwner = owner
    }
    col.owners.uint(lastOwner)
    col.nlinks.sint(inode.nlink - (isDir ? 2 + subdirs : 1))
    col.rdevs.uint(inode.rdev)
    col.mtimes.sint(inode.mtimeSec - prevSec)
    prevSec = inode.mtimeSec
    col.nsecs.uint(inode.mtimeNsec)
    col.sizes.uint(inode.size)
    if (xattrs.length === 0) { col.xattrs.uint(0) } else if (sameXattrs(xattrs, lastXattrs)) { col.xattrs.uint(lastSet) } else {
      const pairs: Array<[number, number]> = []
      let id = ''
      for (const x of xattrs) {
        const k = intern(keys, x.key)
        const v = intern(values, Buffer.from(x.value.buffer, x.value.byteOffset, x.value.byteLength).toString('latin1'))
        pairs.push([k, v])
        id += `${k},${v};`
      }
      let i = sets.get(id)
      if (i === undefined) { i = sets.size; sets.set(id, i); setList.push(pairs) }
      lastXattrs = xattrs
      lastSet = i + 1
      col.xattrs.uint(lastSet)
    }
    let flags = 0
    const digest = inode.digest
    if (digest !== undefined) {
      flags |= FLAG_DIGEST
      // the 32 bytes as a byte string: half the length of hex to build and to hash in the map
      addObject(Buffer.from(digest.buffer, digest.byteOffset, 32).toString('latin1'))
    }
    if (inode.inline !== undefined) { flags |= FLAG_INLINE; col.inline.bytes(inode.inline) }
    if (inode.target !== undefined) { flags |= FLAG_TARGET; col.targets.cstring(inode.target) }
    if (inode.payload !== undefined) {
      if (digest !== undefined && isObjectPathOf(inode.payload, digest)) flags |= PAYLOAD_DERIVED << PAYLOAD_SHIFT
      else if (OBJECT_PATH_RE.test(inode.payload)) {
        flags |= PAYLOAD_HASHED << PAYLOAD_SHIFT
        addObject(Buffer.from(inode.payload.slice(0, 2) + inode.payload.slice(3), 'hex').toString('latin1'))
      } else { flags |= PAYLOAD_LITERAL << PAYLOAD_SHIFT; col.payloads.cstring(inode.payload) }
    }
    col.flags.uint(flags)
  }

  const root = manifest.root
  const rootEntry: Entry = { node: root, parent: undefined, prev: '' }
  if ((root.inode.mode & S_IFMT) !== S_IFDIR) treeInvalid('the root is not a directory', rootEntry)
  if (root.name !== '') treeInvalid('the root has a name', rootEntry)
  // Depth-first pre-order (the composefs dump order) with an explicit stack: trees can be deep.
  const stack: Entry[] = [rootEntry]
  while (stack.length > 0) {
    const at = stack.pop()!
    const { node, prev } = at
    const inode = node.inode
    const isDir = (inode.mode & S_IFMT) === S_IFDIR
    nodes++
    const known = inodeIds.get(inode)
    if (node !== root) {
      // front coding: the prefix shared with the previous sibling, then the rest NUL-terminated
      const name = node.name
      let k = 0
      while (k < prev.length && k < name.length && prev.charCodeAt(k) === name.charCodeAt(k)) k++
      col.names.uint(k)
      col.names.cstring(k === 0 ? name : name.slice(k))
      if (known !== undefined && isDir) treeInvalid('a directory inode is shared (directory hardlink)', at)
      const latePrimary = known !== undefined && primaries !== undefined && !firstIsPrimary.has(inode) && primaries.get(inode) === node
      col.links.uint(known === undefined ? 0 : latePrimary ? inodeIds.size + known + 1 : known + 1)
    }
    let children: Node[] = []
    if (isDir) {
      if (node.children !== undefined) children = sortedChildren(node, at)
      col.dirs.uint(children.length)
    } else if (node.children !== undefined) treeInvalid('a non-directory has children', at)
    if (known === undefined) {
      if (primaries !== undefined && primaries.get(inode) === node) firstIsPrimary.add(inode)
      inodeIds.set(inode, inodeIds.size)
      let subdirs = 0
      for (const c of children) if ((c.inode.mode & S_IFMT) === S_IFDIR) subdirs++
      addInode(inode, at, subdirs)
    }
    for (let i = children.length - 1; i >= 0; i--) {
      stack.push({ node: children[i]!, parent: at, prev: i === 0 ? '' : children[i - 1]!.name })
    }
  }

  const t = col.tables
  t.uint(modes.size); for (const m of modes.keys()) t.uint(m)
  t.uint(owners.size)
  for (const [u, g] of ownerList) { t.uint(u); t.uint(g) }
  t.uint(keys.size); for (const k of keys.keys()) t.lstring(k)
  t.uint(values.size); for (const v of values.keys()) t.lstring(v)
  t.uint(setList.length)
  for (const pairs of setList) { t.uint(pairs.length); for (const [k, v] of pairs) { t.uint(k); t.uint(v) } }

  const items: Array<number | Buffer> = [nodes, inodeIds.size]
  for (const c of COLUMNS) {
    const raw = col[c].result()
    items.push(raw.length, compress(raw))
  }
  items.push(objectTable.result())
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
      let target: string | undefined
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
    const problem = inodeProblem(inode, false)
    if (problem !== undefined) invalid(`${problem} (inode ${i})`)
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
  interface OpenDir { children: Node[], filled: number, inode: Inode, delta: number, subdirs: number }
  const open: OpenDir[] = []
  const closeDir = (inode: Inode, subdirs: number, delta: number): void => {
    const nlink = 2 + subdirs + delta
    if (nlink < 0 || nlink > 0xffffffff) invalid(`directory nlink ${nlink} out of range`)
    inode.nlink = nlink
  }
  // children arrays get their final length up front; a directory is opened once its node is placed
  const childrenOf = (nodesLeft: number): Node[] => new Array<Node>(col.dirs.upTo(nodesLeft, 'child count'))
  const openDir = (children: Node[], inode: Inode, id: number): void => {
    if (children.length > 0) open.push({ children, filled: 0, inode, delta: nlinkDelta[id]!, subdirs: 0 })
    else closeDir(inode, 0, nlinkDelta[id]!)
  }
  const root: Node = { name: '', inode: rootInode, children: childrenOf(nodeCount - 1) }
  openDir(root.children!, rootInode, 0)
  let nextInode = 1
  const latePrimaries = new Map<Inode, Node>()
  // names are read from one latin1 string of the whole column: a name is a slice of it, not a Buffer decode
  const names = col.names
  const nameText = names.buf.toString('latin1')
  let pos = 0
  for (let k = 1; k < nodeCount; k++) {
    const top = open[open.length - 1]
    if (top === undefined) corrupt(`${nodeCount - k} nodes outside the tree`)
    const prevName = top.filled === 0 ? '' : top.children[top.filled - 1]!.name
    let shared = nameText.charCodeAt(pos)
    if (shared < 0x80 && shared <= prevName.length) pos++
    else { names.pos = pos; shared = names.upTo(prevName.length, 'shared name prefix'); pos = names.pos }
    const end = nameText.indexOf('\0', pos)
    if (end < 0 || end - pos > NAME_MAX) { names.pos = pos; names.cstring(NAME_MAX, 'name') }
    const suffix = nameText.slice(pos, end)
    pos = end + 1
    if (shared < prevName.length && suffix.charCodeAt(0) === prevName.charCodeAt(shared)) corrupt(`name prefix not maximal (node ${k})`)
    const name = shared === 0 ? suffix : prevName.slice(0, shared) + suffix
    const problem = nameProblem(name)
    if (problem !== undefined) invalid(`${problem} (node ${k})`)
    if (top.filled > 0 && !(prevName < name)) invalid(`names not sorted or repeated at ${JSON.stringify(name)} (node ${k})`)
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
      if ((inode.mode & S_IFMT) === S_IFDIR) invalid(`directory hardlink at ${JSON.stringify(name)} (node ${k})`)
    }
    const isDir = (inode.mode & S_IFMT) === S_IFDIR
    const children = isDir ? childrenOf(nodeCount - 1 - k) : undefined
    const node: Node = children === undefined ? { name, inode } : { name, inode, children }
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
