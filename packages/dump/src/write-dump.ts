/**
 * Writes the canonical dump of a tree: byte for byte what `composefs-info dump` prints for the EROFS image that
 * `mkcomposefs` writes for the same tree (spec §1.12). That output is a view *through* the image, so this module
 * first derives each inode's on-disk xattrs (overlay escaping, metacopy/redirect, whiteout conversion, v1 opaque
 * markers, the root's opaque marker and 256 whiteouts; spec §3.3–3.6, §4.2 step B/C), decides which of them are
 * shared (§4.6.3, because composefs-info prints inline xattrs before shared ones), then replays composefs-info's
 * reading of those xattrs in on-disk order.
 */
import type { Writable } from 'node:stream'
import {
  directorySize, walkDepthFirst, ROOT_WHITEOUT_NAMES,
  S_IFBLK, S_IFCHR, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG,
  type Inode, type Manifest, type Node,
} from '@cfs/manifest'
import { escapeOptional, escapePath, escapeXattr } from './escape.js'

export interface WriteDumpOptions {
  /**
   * composefs format version of the image the dump describes (spec §3.6). Default: what mkcomposefs picks with
   * default options, 1 if the tree has a whiteout (char device with rdev 0), else 0.
   */
  version?: 0 | 1
  /**
   * Nodes that were `@` lines of the dump the tree came from (`ParseDumpOptions.hardlinkEntries`). mkcomposefs
   * marks the directory of a whiteout's non-`@` line as containing a whiteout; without this set, the first
   * depth-first Node of each inode is taken, which is the composefs-info convention.
   */
  hardlinkEntries?: ReadonlySet<Node>
}

const OVERLAY = 'trusted.overlay.'
const OVERLAY_ESCAPED = 'trusted.overlay.overlay.'
const METACOPY = 'trusted.overlay.metacopy'
const REDIRECT = 'trusted.overlay.redirect'
const OPAQUE = 'trusted.overlay.opaque'
const ESCAPED_WHITEOUT = 'trusted.overlay.overlay.whiteout'
const ESCAPED_WHITEOUTS = 'trusted.overlay.overlay.whiteouts'
const ESCAPED_OPAQUE = 'trusted.overlay.overlay.opaque'
const USER_WHITEOUT = 'user.overlay.whiteout'
const USER_WHITEOUTS = 'user.overlay.whiteouts'
const USER_OPAQUE = 'user.overlay.opaque'
const SELINUX = 'security.selinux'
/** An inode refers to at most this many shared xattrs; later shared ones are stored inline (§4.6.3). */
const MAX_SHARED_REFS = 128
const METACOPY_HEADER = '\x00\x24\x00\x01'
/** Output is handed out in pieces of about this many characters (= bytes, latin1). */
const CHUNK = 1 << 16

/** One distinct inode as the image holds it. */
interface ImageInode {
  node: Node
  /** parent of the first depth-first occurrence (whiteouts mark it) */
  parent: Node | undefined
  /** on-disk xattrs sorted by key: keys[i] = values[i], byte strings */
  keys: string[]
  values: string[]
  /** path of the first depth-first occurrence, set when its line is printed */
  firstPath?: string
  shown?: Shown
}

export function isWhiteout (inode: Inode): boolean {
  return (inode.mode & S_IFMT) === S_IFCHR && inode.rdev === 0
}

/** The format version mkcomposefs picks with default options: 1 iff the tree has a whiteout. */
export function defaultFormatVersion (manifest: Manifest): 0 | 1 {
  let found = false
  walkDepthFirst(manifest, (_p, node) => {
    if (found) return 'skip'
    if (isWhiteout(node.inode)) found = true
  })
  return found ? 1 : 0
}

function isExternalFile (inode: Inode): boolean {
  return (inode.mode & S_IFMT) === S_IFREG && inode.size > 0 && inode.inline === undefined
}

const latin1 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1')

/** Sets key = value in sorted parallel arrays (replacing an existing key). */
function setSorted (keys: string[], values: string[], key: string, value: string): void {
  let i = keys.length
  while (i > 0 && keys[i - 1]! > key) i--
  if (i > 0 && keys[i - 1] === key) { values[i - 1] = value; return }
  keys.splice(i, 0, key)
  values.splice(i, 0, value)
}

/**
 * Step B/C of the writer: the xattrs each distinct inode carries in the image. Escaping `trusted.overlay.` keys
 * keeps their order among the others (they all share the prefix), so the model's sorted order carries over.
 */
function imageInodes (root: Node, version: 0 | 1, links: ReadonlySet<Node> | undefined): Map<Inode, ImageInode> {
  const out = new Map<Inode, ImageInode>()
  const stack: Array<[Node, Node | undefined]> = [[root, undefined]]
  while (stack.length > 0) {
    const [node, parent] = stack.pop()!
    const inode = node.inode
    const seen = out.get(inode)
    if (seen !== undefined) {
      // a later Node holds the inode when the earlier one was an `@` line
      if (links !== undefined && links.has(seen.node) && !links.has(node)) { seen.node = node; seen.parent = parent }
      continue
    }
    const keys: string[] = []
    const values: string[] = []
    for (const { key, value } of inode.xattrs) {
      keys.push(key.startsWith(OVERLAY) ? OVERLAY_ESCAPED + key.slice(OVERLAY.length) : key)
      values.push(latin1(value))
    }
    if (isExternalFile(inode)) {
      setSorted(keys, values, METACOPY, inode.digest === undefined ? '' : METACOPY_HEADER + latin1(inode.digest))
      if (inode.payload !== undefined && inode.payload !== '') setSorted(keys, values, REDIRECT, '/' + inode.payload)
    }
    if (isWhiteout(inode)) {
      setSorted(keys, values, ESCAPED_WHITEOUT, '')
      setSorted(keys, values, USER_WHITEOUT, '')
    }
    out.set(inode, { node, parent, keys, values })
    const children = node.children
    if (children !== undefined) for (let i = children.length - 1; i >= 0; i--) stack.push([children[i]!, node])
  }
  for (const img of out.values()) {
    if (img.parent === undefined || !isWhiteout(img.node.inode)) continue
    const p = out.get(img.parent.inode)!
    setSorted(p.keys, p.values, ESCAPED_WHITEOUTS, '')
    setSorted(p.keys, p.values, USER_WHITEOUTS, '')
    if (version >= 1) {
      setSorted(p.keys, p.values, ESCAPED_OPAQUE, 'x')
      setSorted(p.keys, p.values, USER_OPAQUE, 'x')
    }
  }
  const r = out.get(root.inode)!
  setSorted(r.keys, r.values, OPAQUE, 'y')
  return out
}

/** key → value → number of inodes carrying that pair */
type PairCounts = Map<string, Map<string, number>>

/** How often each (key, value) occurs over the image's inodes, the root's added whiteouts included (§4.6.3). */
function countPairs (inodes: Map<Inode, ImageInode>, root: Node): PairCounts {
  const count: PairCounts = new Map()
  const add = (k: string, v: string, n: number): void => {
    let byValue = count.get(k)
    if (byValue === undefined) { byValue = new Map(); count.set(k, byValue) }
    byValue.set(v, (byValue.get(v) ?? 0) + n)
  }
  for (const { keys, values } of inodes.values()) for (let i = 0; i < keys.length; i++) add(keys[i]!, values[i]!, 1)
  const selinux = root.inode.xattrs.find(x => x.key === SELINUX)
  if (selinux !== undefined) {
    const names = new Set((root.children ?? []).map(c => c.name))
    const added = ROOT_WHITEOUT_NAMES.filter(n => !names.has(n)).length
    if (added > 0) add(SELINUX, latin1(selinux.value), added)
  }
  return count
}

/** What composefs-info shows of one inode: every field of a dump line but the path and nlink. */
interface Shown {
  mode: number
  size: number
  rdev: number
  payload: string | undefined
  content: string | undefined
  digest: string | undefined
  xattrs: string
}

const escapedKeys = new Map<string, string>()
function escapeKey (k: string): string {
  let e = escapedKeys.get(k)
  if (e === undefined) {
    e = escapeXattr(k)
    if (escapedKeys.size < 4096) escapedKeys.set(k, e)
  }
  return e
}

/** EROFS xattr name prefixes and their indices, tried in this order (spec §4.6.2). */
const PREFIXES: ReadonlyArray<[string, number]> = [
  ['user.', 1], ['system.posix_acl_access', 2], ['system.posix_acl_default', 3], ['trusted.', 4], ['security.', 6],
]
/** The first two bytes of a stored xattr entry: e_name_len (suffix length) and e_name_index. */
function entryHeader (key: string): [number, number] {
  for (const [prefix, index] of PREFIXES) if (key.startsWith(prefix)) return [key.length - prefix.length, index]
  return [key.length, 0]
}
/** Size of a stored xattr entry before padding: 4-byte header, name suffix, value. */
function entrySize (key: string, value: string): number { return 4 + entryHeader(key)[0] + value.length }

/** The shared xattr table in on-disk order: key descending, then value length descending, then value descending. */
class SharedTable {
  private sorted: Array<[string, string]> | undefined
  constructor (private readonly counts: PairCounts) {}
  /** The pair stored right after (key, value), or undefined at the end of the table. */
  after (key: string, value: string): [string, string] | undefined {
    if (this.sorted === undefined) {
      const all: Array<[string, string]> = []
      for (const [k, byValue] of this.counts) for (const [v, n] of byValue) if (n > 1) all.push([k, v])
      all.sort(([ka, va], [kb, vb]) => ka !== kb ? (ka < kb ? 1 : -1) : va.length !== vb.length ? vb.length - va.length : va < vb ? 1 : va > vb ? -1 : 0)
      this.sorted = all
    }
    const i = this.sorted.findIndex(([k, v]) => k === key && v === value)
    return this.sorted[i + 1]
  }
}

/**
 * The payload composefs-info derives from a redirect value (§4.14): it drops the leading '/' but copies one
 * value's length from there, so it runs two bytes past the value (up to a NUL). They are padding (NUL) unless
 * the entry ends on a 4-byte boundary; then they are the next entry's header, or the 0xff chunk table that
 * follows an external file's inline xattrs. The end of the shared table is taken as zeros.
 */
function redirectPayload (v: string, next: () => [number, number] | 'chunks' | undefined): string {
  if (v.length <= 1 || v[0] !== '/') return v
  if (entrySize(REDIRECT, v) % 4 !== 0) return v.slice(1)
  const after = next()
  const extra = after === 'chunks' ? [0xff, 0xff] : after ?? [0, 0]
  let out = v.slice(1)
  for (const b of extra) { if (b === 0) break; out += String.fromCharCode(b) }
  return out
}

/** Bytes of an inode's xattr area (§4.6.1): header, shared ids, inline entries padded to 4. */
function xattrAreaSize (keys: string[], values: string[], inline: number[], nShared: number): number {
  let size = 12 + 4 * nShared
  for (const i of inline) size += (entrySize(keys[i]!, values[i]!) + 3) & ~3
  return size
}

/**
 * Whether an external file's chunk table (4 bytes per chunk, §4.8) stays right after its xattrs. The writer pads
 * the inode so the table starts (xattr area mod 32) bytes into a block; a table too long for the rest of that block
 * is dropped, and zero padding follows the xattrs instead (§4.10).
 */
function chunkTableIsInline (size: number, xattrArea: number): boolean {
  // chunkbits = bitlength(size - 1), clamped to 12..43; exact in doubles since size < 2^53
  const chunkbits = Math.min(43, Math.max(12, size <= 1 ? 0 : (size - 1).toString(2).length))
  const chunks = Math.ceil(size / 2 ** chunkbits)
  return 4 * chunks <= 4096 - (xattrArea % 32)
}

/** Replays composefs-info reading an inode: inline xattrs (key order) first, then shared ones (key order). */
function showInode (img: ImageInode, isRoot: boolean, counts: PairCounts, shared: SharedTable): Shown {
  const { node, keys, values } = img
  const inode = node.inode
  const type = inode.mode & S_IFMT
  const whiteout = isWhiteout(inode)
  let mode = whiteout ? S_IFREG | (inode.mode & ~S_IFMT & 0xffff) : inode.mode & 0xffff
  let size = 0
  let rdev = 0
  let payload: string | undefined
  let content: string | undefined
  if (type === S_IFDIR) size = directorySize(node, isRoot)
  else if (type === S_IFLNK) { payload = inode.target; size = inode.target?.length ?? 0 } else if (type === S_IFREG) {
    size = inode.inline !== undefined ? inode.inline.length : inode.size
    if (inode.inline !== undefined && size > 0) content = latin1(inode.inline)
  } else if ((type === S_IFCHR || type === S_IFBLK) && !whiteout) rdev = inode.rdev

  // inline entries first, then at most MAX_SHARED_REFS shared references, both in key order
  const inline: number[] = []
  const refs: number[] = []
  for (let i = 0; i < keys.length; i++) {
    if (refs.length < MAX_SHARED_REFS && counts.get(keys[i]!)!.get(values[i]!)! > 1) refs.push(i); else inline.push(i)
  }
  // the reader stops when 4 bytes or less are left, so a last inline entry of exactly 4 bytes (a bare prefix such
  // as `system.posix_acl_access` with an empty value) is never seen
  const last = inline[inline.length - 1]
  const readInline = last !== undefined && entrySize(keys[last]!, values[last]!) === 4 ? inline.length - 1 : inline.length

  let digest: string | undefined
  let text = ''
  const count = readInline + refs.length
  for (let n = 0; n < count; n++) {
    const isShared = n >= readInline
    const i = isShared ? refs[n - readInline]! : inline[n]!
    const k = keys[i]!
    const v = values[i]!
    const isReg = (mode & S_IFMT) === S_IFREG
    if (k.startsWith(OVERLAY)) {
      if (k === REDIRECT) {
        if (isReg) {
          payload = redirectPayload(v, () => {
            if (isShared) {
              const after = shared.after(k, v)
              return after === undefined ? undefined : entryHeader(after[0])
            }
            const following = inline[n + 1]
            if (following !== undefined) return entryHeader(keys[following]!)
            return isExternalFile(inode) && chunkTableIsInline(inode.size, xattrAreaSize(keys, values, inline, refs.length)) ? 'chunks' : undefined
          })
        }
        continue
      }
      if (k === METACOPY) {
        if (isReg && v.length === 36) digest = Buffer.from(v.slice(4), 'latin1').toString('hex')
        continue
      }
      if (k === ESCAPED_WHITEOUT && isReg) {
        mode = (mode & ~S_IFMT) | S_IFCHR
        rdev = 0
        size = 0
        continue
      }
      if (k === ESCAPED_WHITEOUTS || !k.startsWith(OVERLAY_ESCAPED)) continue
      text += ' ' + escapeKey(OVERLAY + k.slice(OVERLAY_ESCAPED.length)) + '=' + escapeXattr(v)
      continue
    }
    if (k === USER_WHITEOUT || k === USER_WHITEOUTS) continue
    text += ' ' + escapeKey(k) + '=' + escapeXattr(v)
  }
  if (content !== undefined && content.length > size) content = content.slice(0, size)
  return { mode, size, rdev, payload, content, digest, xattrs: text }
}

/**
 * The canonical dump as latin1 string pieces of about 64 KiB, in order (depth-first, children in byte order). The
 * first occurrence of a hardlinked inode is a normal line; later ones are `@` lines whose PAYLOAD is the first
 * path and whose other fields copy the target. Requires a finalized tree (sorted children, see `finalizeTree`).
 */
export function * dumpChunks (manifest: Manifest, opts: WriteDumpOptions = {}): Generator<string> {
  const version = opts.version ?? defaultFormatVersion(manifest)
  const root = manifest.root
  const inodes = imageInodes(root, version, opts.hardlinkEntries)
  const counts = countPairs(inodes, root)
  const shared = new SharedTable(counts)

  let out = ''
  // explicit stack instead of recursion: deep trees must not overflow, and a generator cannot yield from a callback
  const stack: Array<{ node: Node, path: string }> = [{ node: root, path: '/' }]
  while (stack.length > 0) {
    const { node, path } = stack.pop()!
    const inode = node.inode
    const img = inodes.get(inode)!
    const link = img.firstPath !== undefined
    if (!link) img.firstPath = path
    const s = img.shown ?? (img.shown = showInode(img, node === root, counts, shared))
    let nlink = inode.nlink
    if (node.children !== undefined) {
      nlink = 2
      const prefix = path === '/' ? '/' : path + '/'
      for (let i = node.children.length - 1; i >= 0; i--) {
        const c = node.children[i]!
        if (c.children !== undefined) nlink++
        stack.push({ node: c, path: prefix + c.name })
      }
    }
    out += escapePath(path) + ' ' + s.size + ' ' + (link ? '@' : '') + s.mode.toString(8) + ' ' + nlink + ' ' +
      inode.uid + ' ' + inode.gid + ' ' + s.rdev + ' ' + inode.mtimeSec + '.' + inode.mtimeNsec + ' ' +
      escapeOptional(link ? img.firstPath : s.payload) + ' ' + escapeOptional(s.content) + ' ' + (s.digest ?? '-') + s.xattrs + '\n'
    if (out.length >= CHUNK) { yield out; out = '' }
  }
  if (out.length > 0) yield out
}

/** The whole canonical dump as bytes (see `dumpChunks`). */
export function encodeDump (manifest: Manifest, opts: WriteDumpOptions = {}): Buffer {
  const parts: Buffer[] = []
  for (const piece of dumpChunks(manifest, opts)) parts.push(Buffer.from(piece, 'latin1'))
  return Buffer.concat(parts)
}

/**
 * Streams the canonical dump to `out`, waiting for 'drain' when it asks to. Rejects with the stream's error (e.g.
 * EPIPE when a reader went away). Does not end `out`.
 */
export async function writeDump (manifest: Manifest, out: Writable | NodeJS.WritableStream, opts: WriteDumpOptions = {}): Promise<void> {
  let failed: Error | undefined
  let wake: (() => void) | undefined
  const onError = (err: Error): void => { failed ??= err; wake?.() }
  const onDrain = (): void => { wake?.() }
  out.on('error', onError)
  out.on('drain', onDrain)
  try {
    for (const piece of dumpChunks(manifest, opts)) {
      if (failed !== undefined) throw failed
      if (!out.write(Buffer.from(piece, 'latin1'))) {
        await new Promise<void>(resolve => { wake = resolve })
        wake = undefined
      }
    }
    if (failed !== undefined) throw failed
  } finally {
    out.off('error', onError)
    out.off('drain', onDrain)
  }
}
