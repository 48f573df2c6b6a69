/**
 * Reads a composefs text dump (spec §1) into the shared model. Lines are fed one at a time to a `DumpParser`, so
 * the whole-buffer `parseDump` and the streaming `readDump` share every rule. The parser is stricter than the C
 * tool (spec §1.4 "Recommended stricter TS behaviour", §1.9, §1.11): paths must start with `/` and have no empty
 * components, numbers are plain digits within their stored width, DIGEST is exactly 64 hex digits, and RDEV is 0
 * on anything but a device. Hardlink (`@`) entries are resolved after the last line, following chains, and keep
 * `Node.hardlink` (mkcomposefs places the inode at the non-`@` line).
 */
import { Readable, pipeline } from 'node:stream'
import { createGunzip, gunzipSync } from 'node:zlib'
import { CfsError } from '@cfs/errors'
import {
  finalizeTree, makeInode, XattrSets, INLINE_LIMIT, NAME_MAX, SYMLINK_MAX, XATTR_KEY_MAX,
  S_IFBLK, S_IFCHR, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, fileKind,
  type Inode, type Manifest, type Node, type Xattr,
} from '@cfs/manifest'
import { EscapeError, unescapeField } from './escape.js'

/** Largest xattr value the image format can store (u16 e_value_size). */
const XATTR_VALUE_MAX = 65535
/** Largest xattr text after the 11th field of a line (C: "Too many xattrs"). */
const XATTR_TEXT_MAX = 65535
/** Per-entry xattr budget of the C library: 12 + Σ(7 + key + value) (spec §1.8). */
const XATTR_BUDGET = 32767
const XATTR_HEADER_COST = 12
const XATTR_ENTRY_COST = 7
/** Longest line accepted; a valid line stays well below (64 KiB of xattrs, 4095-byte paths ×4 when escaped). */
export const DUMP_LINE_MAX = 1 << 20
const U32_MAX = 0xffffffff
const NSEC_MAX = 999_999_999
const MODE_MAX = 0o177777
const FIELD_NAMES = ['PATH', 'SIZE', 'MODE', 'NLINK', 'UID', 'GID', 'RDEV', 'MTIME', 'PAYLOAD', 'CONTENT', 'DIGEST']

export interface ParseDumpOptions {
  /** name of the input, used in error messages (default: none) */
  source?: string
}

interface PendingLink {
  node: Node
  path: string
  target: string
  line: number
}

/** Placeholder inode of a hardlink entry until `finish` resolves it. */
const LINK_PLACEHOLDER = Symbol('hardlink')
type LinkInode = Inode & { [LINK_PLACEHOLDER]?: PendingLink }

export class DumpParser {
  private root: Node | undefined
  private readonly byPath = new Map<string, Node>()
  private readonly links: PendingLink[] = []
  private lineNo = 0
  constructor (private readonly opts: ParseDumpOptions = {}) {}

  private fail (reason: string, line = this.lineNo): never {
    const where = this.opts.source === undefined ? `line ${line}` : `${this.opts.source}: line ${line}`
    throw new CfsError('ERR_CFS_DUMP_PARSE', `${where}: ${reason}`, { hint: 'see the composefs dump format in packages/dump/README.md' })
  }

  /** Reports that the next line is longer than DUMP_LINE_MAX, without holding it. */
  lineTooLong (): never {
    this.lineNo++
    this.fail(`line longer than ${DUMP_LINE_MAX} bytes`)
  }

  /** Feeds one line (without its LF) as a byte string. */
  line (text: string): void {
    this.lineNo++
    if (text.length === 0) this.fail('empty line')
    if (text.length > DUMP_LINE_MAX) this.fail(`line longer than ${DUMP_LINE_MAX} bytes`)
    const nul = text.indexOf('\0')
    if (nul >= 0) this.fail(`embedded NUL byte at column ${nul + 1}`)

    // Fields 1..11 are split at single spaces; everything after the 11th separator is the xattr text (§1.2).
    const fields: string[] = []
    let pos = 0
    while (fields.length < 11) {
      const sp = text.indexOf(' ', pos)
      if (sp < 0) { fields.push(text.slice(pos)); pos = text.length + 1; break }
      fields.push(text.slice(pos, sp))
      pos = sp + 1
    }
    const xattrText = pos <= text.length ? text.slice(pos) : ''
    const field = (i: number): string => {
      const f = fields[i]
      if (f === undefined) this.fail(`missing ${FIELD_NAMES[i]!} field: expected 11 fields, found ${fields.length}`)
      return f
    }
    const rawPath = field(0)
    const path = this.decode(rawPath, 'PATH')
    if (path.length === 0) this.fail('empty path')
    if (path.charCodeAt(0) !== 0x2f) this.fail(`path ${show(rawPath)} does not start with /`)
    if (path.includes('\0')) this.fail(`NUL byte in path ${show(rawPath)}`)

    const rawMode = field(2)
    const hardlink = rawMode.startsWith('@')
    const mode = this.number(hardlink ? rawMode.slice(1) : rawMode, 'MODE', MODE_MAX, 8)
    const type = mode & S_IFMT
    if (fileKind(mode) === undefined) this.fail(`invalid mode ${show(rawMode)}: no valid file type`)

    if (path === '/') {
      if (this.root !== undefined) this.fail('a second root entry /')
      if (hardlink || type !== S_IFDIR) this.fail('the root / must be a directory')
    } else if (this.root === undefined) {
      this.fail('the root / must be the first entry')
    }

    if (hardlink) {
      if (type === S_IFDIR) this.fail(`directories can't be hardlinked: ${show(rawPath)}`)
      const rawPayload = field(8)
      if (rawPayload === '-') this.fail(`hardlink ${show(rawPath)} has no target path`)
      const target = this.decode(rawPayload, 'PAYLOAD')
      if (target.charCodeAt(0) !== 0x2f) this.fail(`hardlink target ${show(rawPayload)} does not start with /`)
      field(10) // the other fields are ignored, as in C, but must be there
      const inode: LinkInode = makeInode(mode)
      const node = this.attach(path, rawPath, inode)
      const pending = { node, path, target, line: this.lineNo }
      inode[LINK_PLACEHOLDER] = pending
      this.links.push(pending)
      return
    }

    const inode = makeInode(mode, {
      size: this.number(field(1), 'SIZE', Number.MAX_SAFE_INTEGER),
      nlink: this.number(field(3), 'NLINK', U32_MAX),
      uid: this.number(field(4), 'UID', U32_MAX),
      gid: this.number(field(5), 'GID', U32_MAX),
    })
    const rawRdev = field(6)
    const rdev = this.number(rawRdev, 'RDEV', U32_MAX)
    if (type === S_IFCHR || type === S_IFBLK) inode.rdev = rdev
    else if (rdev !== 0) this.fail(`RDEV ${rawRdev} on an entry that is not a device`)
    this.mtime(field(7), inode)
    const rawPayload = field(8)
    const rawContent = field(9)

    const content = rawContent === '-' ? undefined : this.decode(rawContent, 'CONTENT')
    if (content !== undefined && content.length > 0) {
      if (type !== S_IFREG) this.fail('CONTENT on an entry that is not a regular file')
      if (content.length > INLINE_LIMIT) this.fail(`inline content of ${content.length} bytes exceeds the maximum ${INLINE_LIMIT}`)
      if (content.length !== inode.size) this.fail(`content is ${content.length} bytes but SIZE is ${inode.size}`)
    }
    if (type === S_IFREG) {
      if (content !== undefined && content.length > 0) {
        inode.inline = Buffer.from(content, 'latin1')
      } else if (inode.size > 0) {
        if (rawPayload !== '-') {
          const payload = this.decode(rawPayload, 'PAYLOAD')
          if (payload.length > SYMLINK_MAX) this.fail(`payload of ${payload.length} bytes exceeds the maximum ${SYMLINK_MAX}`)
          if (payload.includes('\0')) this.fail('NUL byte in PAYLOAD')
          inode.payload = payload
        }
        const rawDigest = field(10)
        if (rawDigest !== '-') inode.digest = this.digest(rawDigest)
      }
    } else if (type === S_IFLNK) {
      const target = rawPayload === '-' ? '' : this.decode(rawPayload, 'PAYLOAD')
      if (target.length === 0) this.fail(`symlink ${show(rawPath)} has no target`)
      if (target.length > SYMLINK_MAX) this.fail(`symlink target of ${target.length} bytes exceeds the maximum ${SYMLINK_MAX}`)
      if (target.includes('\0')) this.fail('NUL byte in symlink target')
      // C ignores a symlink's SIZE outside its strict mode, and upstream's longlink.dump relies on that
      inode.size = target.length
      inode.target = target
    } else if (type === S_IFDIR) {
      inode.size = 0
    }
    field(10)
    inode.xattrs = this.xattrs(xattrText)
    if (path === '/') {
      this.root = { name: '', inode, children: [] }
      this.byPath.set('/', this.root)
    } else {
      this.attach(path, rawPath, inode)
    }
  }

  /** Resolves hardlinks, sorts the tree and returns it. Call once, after the last line. */
  finish (): Manifest {
    if (this.root === undefined) this.fail('no entries in dump', 0)
    const resolved = new Map<PendingLink, Inode>()
    const resolve = (link: PendingLink): Inode => {
      const done = resolved.get(link)
      if (done !== undefined) return done
      const seen = new Set<PendingLink>([link])
      let cur = link
      for (;;) {
        const target = this.byPath.get(cur.target)
        if (target === undefined) this.fail(`hardlink target ${show(cur.target)} not found`, cur.line)
        if (target === cur.node) this.fail(`self-referential hardlink ${show(cur.path)}`, cur.line)
        const next = (target.inode as LinkInode)[LINK_PLACEHOLDER]
        if (next === undefined) {
          if (target.children !== undefined) this.fail(`hardlink ${show(cur.path)} points to directory ${show(cur.target)}`, cur.line)
          for (const l of seen) resolved.set(l, target.inode)
          return target.inode
        }
        const early = resolved.get(next)
        if (early !== undefined) {
          for (const l of seen) resolved.set(l, early)
          return early
        }
        if (seen.has(next)) this.fail(`hardlink cycle through ${show(cur.path)}`, link.line)
        seen.add(next)
        cur = next
      }
    }
    for (const link of this.links) {
      link.node.inode = resolve(link)
      link.node.hardlink = true
    }
    return finalizeTree({ root: this.root })
  }

  private attach (path: string, rawPath: string, inode: Inode): Node {
    const slash = path.lastIndexOf('/')
    const name = path.slice(slash + 1)
    const parentPath = slash === 0 ? '/' : path.slice(0, slash)
    if (name === '') this.fail(`empty name in path ${show(rawPath)}`)
    if (name === '.' || name === '..') this.fail(`invalid . or .. in path ${show(rawPath)}`)
    if (name.length > NAME_MAX) this.fail(`name of ${name.length} bytes exceeds the maximum ${NAME_MAX}`)
    const parent = this.byPath.get(parentPath)
    if (parent === undefined) {
      if (parentPath.split('/').slice(1).some(c => c === '' || c === '.' || c === '..')) {
        this.fail(`empty, . or .. component in path ${show(rawPath)}`)
      }
      this.fail(`parent directory of ${show(rawPath)} missing (parents must come before their children)`)
    }
    if (parent.children === undefined) this.fail(`parent of ${show(rawPath)} is not a directory`)
    if (this.byPath.has(path)) this.fail(`duplicate entry ${show(rawPath)}`)
    const node: Node = (inode.mode & S_IFMT) === S_IFDIR ? { name, inode, children: [] } : { name, inode }
    parent.children.push(node)
    this.byPath.set(path, node)
    return node
  }

  private decode (raw: string, what: string): string {
    try {
      return unescapeField(raw)
    } catch (err) {
      if (err instanceof EscapeError) this.fail(`${what}: ${err.message}`)
      throw err
    }
  }

  private number (raw: string, what: string, max: number, radix: 8 | 10 = 10): number {
    const top = radix === 8 ? 0x37 : 0x39
    if (raw.length === 0) this.fail(`empty ${what}`)
    for (let i = 0; i < raw.length; i++) {
      const c = raw.charCodeAt(i)
      if (c < 0x30 || c > top) this.fail(`invalid ${what} ${show(raw)}: expected ${radix === 8 ? 'octal' : 'decimal'} digits`)
    }
    let digits = raw
    if (digits.length > 1 && digits.charCodeAt(0) === 0x30) digits = digits.replace(/^0+(?=.)/, '')
    // beyond 16 digits a double is inexact, and every limit here is below 10^16
    const v = radix === 8 ? parseInt(digits, 8) : (digits.length > 16 ? Infinity : Number(digits))
    if (!(v <= max)) {
      const limit = max === Number.MAX_SAFE_INTEGER ? '2^53-1 (the largest size cfs supports)' : String(max)
      this.fail(`${what} ${raw.length > 30 ? raw.slice(0, 30) + '…' : raw} is larger than ${limit}`)
    }
    return v
  }

  private mtime (raw: string, inode: Inode): void {
    const dot = raw.indexOf('.')
    if (dot < 0) this.fail(`invalid MTIME ${show(raw)}: expected SECONDS.NANOSECONDS`)
    const negative = raw.charCodeAt(0) === 0x2d
    const sec = this.number(raw.slice(negative ? 1 : 0, dot), 'MTIME seconds', Number.MAX_SAFE_INTEGER)
    inode.mtimeSec = negative && sec !== 0 ? -sec : sec
    inode.mtimeNsec = this.number(raw.slice(dot + 1), 'MTIME nanoseconds', NSEC_MAX)
  }

  private digest (raw: string): Uint8Array {
    const hex = this.decode(raw, 'DIGEST')
    if (!/^[0-9a-fA-F]{64}$/.test(hex)) this.fail(`invalid DIGEST ${show(raw)}: expected 64 hex digits`)
    return Buffer.from(hex, 'hex')
  }

  /** inodes with the same xattr text share one parsed array (see XattrSets) */
  private readonly xattrSets = new XattrSets()

  private xattrs (text: string): Xattr[] {
    if (text.length === 0) return []
    return this.xattrSets.intern(text, () => this.parseXattrs(text))
  }

  private parseXattrs (text: string): Xattr[] {
    if (text.length > XATTR_TEXT_MAX) this.fail(`xattr text of ${text.length} bytes exceeds the maximum ${XATTR_TEXT_MAX}`)
    const pieces = text.split(' ')
    if (pieces[pieces.length - 1] === '') pieces.pop()
    const byKey = new Map<string, Uint8Array>()
    for (const piece of pieces) {
      if (piece === '') this.fail('empty xattr (two spaces in a row)')
      const eq = piece.indexOf('=')
      if (eq < 0) this.fail(`missing = in xattr ${show(piece)}`)
      const key = this.decode(piece.slice(0, eq), 'xattr key')
      if (key.length === 0) this.fail('empty xattr key')
      if (key.length > XATTR_KEY_MAX) this.fail(`xattr key of ${key.length} bytes exceeds the maximum ${XATTR_KEY_MAX}`)
      if (key.includes('\0')) this.fail('NUL byte in xattr key')
      const value = this.decode(piece.slice(eq + 1), 'xattr value')
      if (value.length > XATTR_VALUE_MAX) this.fail(`xattr value of ${value.length} bytes exceeds the maximum ${XATTR_VALUE_MAX}`)
      byKey.delete(key)
      byKey.set(key, Buffer.from(value, 'latin1'))
    }
    let cost = XATTR_HEADER_COST
    const out: Xattr[] = []
    for (const [key, value] of byKey) {
      cost += XATTR_ENTRY_COST + key.length + value.length
      out.push({ key, value })
    }
    if (cost > XATTR_BUDGET) this.fail(`xattrs need ${cost} bytes, more than the ${XATTR_BUDGET}-byte budget of one entry`)
    return out
  }
}

/** A raw field for an error message: short, printable. */
function show (raw: string): string {
  const clipped = raw.length > 80 ? raw.slice(0, 80) + '…' : raw
  return `'${clipped.replace(/[^\x20-\x7e]/g, c => '\\x' + c.charCodeAt(0).toString(16).padStart(2, '0'))}'`
}

const LF = 0x0a

function isGzip (b: Uint8Array): boolean { return b[0] === 0x1f && b[1] === 0x8b }

/**
 * Parses a whole dump (plain or gzip, detected by its magic `1f 8b`) into a finalized Manifest: children and
 * xattrs sorted, hardlinks sharing one Inode (`Node.hardlink` from the `@` lines, normalized), directory nlink
 * computed. Throws ERR_CFS_DUMP_PARSE naming the line and the reason, or ERR_CFS_DECOMPRESS for a broken gzip
 * stream.
 */
export function parseDump (bytes: Uint8Array, opts: ParseDumpOptions = {}): Manifest {
  let buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (isGzip(buf)) {
    try {
      buf = gunzipSync(buf)
    } catch (err) {
      throw new CfsError('ERR_CFS_DECOMPRESS', `corrupt gzip dump${opts.source === undefined ? '' : ' ' + opts.source}: ${(err as Error).message}`, { cause: err })
    }
  }
  const parser = new DumpParser(opts)
  let start = 0
  while (start < buf.length) {
    let end = buf.indexOf(LF, start)
    if (end < 0) end = buf.length
    if (end - start > DUMP_LINE_MAX) parser.lineTooLong()
    parser.line(buf.toString('latin1', start, end))
    start = end + 1
  }
  return parser.finish()
}

/**
 * Streaming variant of `parseDump`: reads chunks as they come (plain or gzip), holding at most one line plus one
 * chunk besides the tree being built.
 */
export async function readDump (source: AsyncIterable<Uint8Array>, opts: ParseDumpOptions = {}): Promise<Manifest> {
  const parser = new DumpParser(opts)
  let carry: Buffer = Buffer.alloc(0)
  for await (const chunk of maybeGunzip(source, opts)) {
    let buf = carry.length === 0 ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength) : Buffer.concat([carry, chunk])
    let start = 0
    for (;;) {
      const end = buf.indexOf(LF, start)
      if (end < 0) break
      parser.line(buf.toString('latin1', start, end))
      start = end + 1
    }
    buf = buf.subarray(start)
    if (buf.length > DUMP_LINE_MAX) parser.lineTooLong()
    carry = Buffer.from(buf)
  }
  if (carry.length > 0) parser.line(carry.toString('latin1'))
  return parser.finish()
}

async function * maybeGunzip (source: AsyncIterable<Uint8Array>, opts: ParseDumpOptions): AsyncGenerator<Uint8Array> {
  const it = source[Symbol.asyncIterator]()
  let head = Buffer.alloc(0)
  while (head.length < 2) {
    const r = await it.next()
    if (r.done === true) { if (head.length > 0) yield head; return }
    head = Buffer.concat([head, r.value])
  }
  if (!isGzip(head)) {
    yield head
    for (let r = await it.next(); r.done !== true; r = await it.next()) yield r.value
    return
  }
  const rest = async function * (): AsyncGenerator<Uint8Array> {
    yield head
    for (let r = await it.next(); r.done !== true; r = await it.next()) yield r.value
  }
  const out = pipeline(Readable.from(rest()), createGunzip(), () => {})
  try {
    for await (const chunk of out) yield chunk as Buffer
  } catch (err) {
    if (err instanceof CfsError) throw err
    const code = (err as { code?: string }).code
    if (code !== undefined && code.startsWith('Z_')) {
      throw new CfsError('ERR_CFS_DECOMPRESS', `corrupt gzip dump${opts.source === undefined ? '' : ' ' + opts.source}: ${(err as Error).message}`, { cause: err })
    }
    throw err
  }
}
