/**
 * Writes the canonical dump of a tree: byte for byte what `composefs-info dump` prints for the EROFS image that
 * `mkcomposefs` writes for the same tree (spec §1.12). That output is a view *through* the image, so this module
 * takes each inode as @cfs/erofs `planImage` stores it (escaped overlay xattrs, metacopy/redirect, whiteouts as
 * regular files, opaque markers, which xattrs are shared; spec §3.3–3.6, §4.2, §4.6.3) and replays how
 * composefs-info reads it back: inline xattrs before shared ones, the writer's xattrs hidden, and its quirks.
 */
import type { Writable } from 'node:stream'
import {
  planImage, selectVersion, isWhiteout, xattrEntryLength, xattrNameIndex,
  OVERLAY_PREFIX, OVERLAY_ESCAPED_PREFIX, METACOPY_XATTR, REDIRECT_XATTR, ESCAPED_WHITEOUT_XATTR,
  ESCAPED_WHITEOUTS_XATTR, USER_WHITEOUT_XATTR, USER_WHITEOUTS_XATTR,
  type PlannedInode, type SharedXattr,
} from '@cfs/erofs'
import {
  walkDepthFirst, S_IFBLK, S_IFCHR, S_IFMT, S_IFREG, type Manifest, type Node,
} from '@cfs/manifest'
import { escapeOptional, escapePath, escapeXattr } from './escape.js'

export interface WriteDumpOptions {
  /**
   * composefs format version of the image the dump describes (spec §3.6). Default: what mkcomposefs picks with
   * default options, 1 if the tree has a whiteout (char device with rdev 0), else 0.
   */
  version?: 0 | 1
}

/** Output is handed out in pieces of about this many characters (= bytes, latin1). */
const CHUNK = 1 << 16

/** The format version mkcomposefs picks with default options: 1 iff the tree has a whiteout. */
export function defaultFormatVersion (manifest: Manifest): 0 | 1 {
  let found = false
  walkDepthFirst(manifest, (_p, node) => {
    if (found) return 'skip'
    if (isWhiteout(node.inode)) found = true
  })
  return selectVersion({}, found) as 0 | 1
}

const latin1 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1')

/** What composefs-info shows of one inode: every field of a dump line but the path. */
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

/** The first two bytes of a stored xattr entry: e_name_len (suffix length) and e_name_index. */
function entryHeader (key: string): [number, number] {
  const [index, suffix] = xattrNameIndex(key)
  return [suffix.length, index]
}

/**
 * The payload composefs-info derives from a redirect value (§4.14): it drops the leading '/' but copies one
 * value's length from there, so it runs two bytes past the value (up to a NUL). They are padding (NUL) unless
 * the entry ends on a 4-byte boundary; then they are the next entry's header, or the 0xff chunk table that
 * follows an external file's inline xattrs. The end of the shared table is taken as zeros.
 */
function redirectPayload (v: string, next: () => [number, number] | 'chunks' | undefined): string {
  if (v.length <= 1 || v[0] !== '/') return v
  if (xattrEntryLength(REDIRECT_XATTR, v) % 4 !== 0) return v.slice(1)
  const after = next()
  const extra = after === 'chunks' ? [0xff, 0xff] : after ?? [0, 0]
  let out = v.slice(1)
  for (const b of extra) { if (b === 0) break; out += String.fromCharCode(b) }
  return out
}

/**
 * Replays composefs-info reading a planned inode: inline xattrs (key order) first, then shared ones (key order),
 * each as stored by the image writer.
 */
function showInode (e: PlannedInode, shared: readonly SharedXattr[]): Shown {
  const { xkeys: keys, xvalues: values, sharedRefs } = e
  const type = e.mode & S_IFMT
  let mode = e.mode & 0xffff
  let size = e.isize
  let rdev = type === S_IFCHR || type === S_IFBLK ? e.rdev : 0
  let payload = e.target === undefined ? undefined : latin1(e.target)
  const content = e.inline === undefined ? undefined : latin1(e.inline)

  const inline: number[] = []
  const refs: number[] = []
  for (let i = 0; i < keys.length; i++) (sharedRefs[i]! >= 0 ? refs : inline).push(i)
  // the reader stops when 4 bytes or less are left, so a last inline entry of exactly 4 bytes (a bare prefix such
  // as `system.posix_acl_access` with an empty value) is never seen
  const last = inline[inline.length - 1]
  const readInline = last !== undefined && xattrEntryLength(keys[last]!, values[last]!) === 4 ? inline.length - 1 : inline.length

  let digest: string | undefined
  let text = ''
  const count = readInline + refs.length
  for (let n = 0; n < count; n++) {
    const isShared = n >= readInline
    const i = isShared ? refs[n - readInline]! : inline[n]!
    const k = keys[i]!
    const v = values[i]!
    const isReg = (mode & S_IFMT) === S_IFREG
    if (k.startsWith(OVERLAY_PREFIX)) {
      if (k === REDIRECT_XATTR) {
        if (isReg) {
          payload = redirectPayload(v, () => {
            if (isShared) {
              const after = shared[sharedRefs[i]! + 1]
              return after === undefined ? undefined : entryHeader(after.key)
            }
            const following = inline[n + 1]
            if (following !== undefined) return entryHeader(keys[following]!)
            return e.external && e.tail > 0 ? 'chunks' : undefined
          })
        }
        continue
      }
      if (k === METACOPY_XATTR) {
        if (isReg && v.length === 36) digest = Buffer.from(v.slice(4), 'latin1').toString('hex')
        continue
      }
      if (k === ESCAPED_WHITEOUT_XATTR && isReg) {
        mode = (mode & ~S_IFMT) | S_IFCHR
        rdev = 0
        size = 0
        continue
      }
      if (k === ESCAPED_WHITEOUTS_XATTR || !k.startsWith(OVERLAY_ESCAPED_PREFIX)) continue
      text += ' ' + escapeKey(OVERLAY_PREFIX + k.slice(OVERLAY_ESCAPED_PREFIX.length)) + '=' + escapeXattr(v)
      continue
    }
    if (k === USER_WHITEOUT_XATTR || k === USER_WHITEOUTS_XATTR) continue
    text += ' ' + escapeKey(k) + '=' + escapeXattr(v)
  }
  return { mode, size, rdev, payload, content, digest, xattrs: text }
}

/**
 * The canonical dump as latin1 string pieces of about 64 KiB, in order (depth-first, children in byte order). The
 * first occurrence of a hardlinked inode is a normal line; later ones are `@` lines whose PAYLOAD is the first
 * path and whose other fields copy the target. Requires a finalized tree (sorted children, see `finalizeTree`).
 * The primary of each hardlink group (`Node.hardlink`) matters: mkcomposefs marks the directory of a whiteout's
 * primary as containing a whiteout. Trees mkcomposefs refuses for its xattr budget still get a dump.
 */
export function * dumpChunks (manifest: Manifest, opts: WriteDumpOptions = {}): Generator<string> {
  const plan = planImage(manifest, { version: opts.version, ignoreXattrBudget: true })
  /** by inode number: the path of its first line and what that line shows */
  const firstPaths: Array<string | undefined> = new Array(plan.inodes.length)
  const shownInodes: Shown[] = new Array(plan.inodes.length)

  let out = ''
  // explicit stack instead of recursion: deep trees must not overflow, and a generator cannot yield from a callback
  const stack: Array<{ node: Node, path: string }> = [{ node: manifest.root, path: '/' }]
  while (stack.length > 0) {
    const { node, path } = stack.pop()!
    const e = plan.byInode.get(node.inode)!
    const firstPath = firstPaths[e.ino]
    const link = firstPath !== undefined
    if (!link) {
      firstPaths[e.ino] = path
      shownInodes[e.ino] = showInode(e, plan.shared)
    }
    const s = shownInodes[e.ino]!
    if (node.children !== undefined) {
      const prefix = path === '/' ? '/' : path + '/'
      for (let i = node.children.length - 1; i >= 0; i--) {
        const c = node.children[i]!
        stack.push({ node: c, path: prefix + c.name })
      }
    }
    out += escapePath(path) + ' ' + s.size + ' ' + (link ? '@' : '') + s.mode.toString(8) + ' ' + e.nlink + ' ' +
      e.uid + ' ' + e.gid + ' ' + s.rdev + ' ' + e.mtimeSec + '.' + e.mtimeNsec + ' ' +
      escapeOptional(link ? firstPath : s.payload) + ' ' + escapeOptional(s.content) + ' ' + (s.digest ?? '-') + s.xattrs + '\n'
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
