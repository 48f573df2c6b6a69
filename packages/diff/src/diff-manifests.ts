/**
 * Compares two image trees by walking them side by side: children are sorted by name in byte order (model.ts), so
 * one merge step per directory pairs the entries without building a path index. Content is compared by digest or
 * inline bytes only; objects are never read.
 */
import { CfsError } from '@cfs/errors'
import {
  fileKind, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG,
  type FileKind, type Inode, type Manifest, type Node, type Xattr,
} from '@cfs/manifest'

/** Attribute groups that `ignore` can leave out (diffoci's --semantic idea: drop build noise). */
export const IGNORABLE = ['mtime', 'owner', 'xattrs', 'mode', 'hardlinks'] as const
export type Ignorable = typeof IGNORABLE[number]

export interface DiffOptions {
  /** attribute groups not compared: `owner` is uid and gid, the others are the attributes of the same name */
  ignore?: readonly Ignorable[]
  /**
   * Absolute byte-string path prefixes; when given, only changes at or below one of them are kept (a rename is kept
   * when either of its paths is). The whole trees are still compared, so renames and hardlink groups that cross
   * the prefix are seen.
   */
  paths?: readonly string[]
}

export type ChangeKind = 'added' | 'removed' | 'modified' | 'renamed'

/** What a regular file holds: an object digest, inline bytes (empty for a size-0 file), or only a backing path. */
export type Content = { digest: Uint8Array } | { inline: Uint8Array } | { payload: string | null }

export interface Mtime { sec: number, nsec: number }
export interface LinkGroup {
  nlink: number
  /** the other paths that share this entry's inode, depth-first order */
  paths: string[]
}

/** One changed attribute. Values are the attribute as seen on each side; `null` means "not applicable to the type". */
export type AttributeChange =
  | { attribute: 'type', before: FileKind | 'unknown', after: FileKind | 'unknown' }
  | { attribute: 'content', before: Content | null, after: Content | null }
  | { attribute: 'size', before: number, after: number }
  /** permission bits and setuid/setgid/sticky: `mode & 0o7777` */
  | { attribute: 'mode', before: number, after: number }
  | { attribute: 'uid', before: number, after: number }
  | { attribute: 'gid', before: number, after: number }
  | { attribute: 'mtime', before: Mtime, after: Mtime }
  /** keys as byte strings, each list sorted in byte order */
  | { attribute: 'xattrs', added: string[], removed: string[], changed: string[] }
  | { attribute: 'target', before: string | null, after: string | null }
  /** raw Linux dev_t (see model.ts) */
  | { attribute: 'rdev', before: number, after: number }
  | { attribute: 'hardlinks', before: LinkGroup, after: LinkGroup }

export type Attribute = AttributeChange['attribute']
/** The order attributes appear in within a change. */
export const ATTRIBUTES: readonly Attribute[] =
  ['type', 'content', 'size', 'mode', 'uid', 'gid', 'mtime', 'xattrs', 'target', 'rdev', 'hardlinks']

export interface Change {
  kind: ChangeKind
  /** byte string, absolute: the path in B, or in A for a removal */
  path: string
  /** renames only: the path in A */
  from?: string
  /** the inode in A (removed, modified, renamed) */
  before?: Inode
  /** the inode in B (added, modified, renamed) */
  after?: Inode
  /** modified and renamed: what differs, in `ATTRIBUTES` order; empty for added and removed */
  attributes: AttributeChange[]
}

export interface DiffResult {
  /** depth-first order of the merged tree (a directory before its children, siblings in byte order); a rename sits
   *  where its new path is */
  changes: Change[]
  identical: boolean
}

const EMPTY: readonly Node[] = []

/**
 * Every difference between A and B, path by path. A path present on both sides is `modified` when any compared
 * attribute differs; a directory's size is never compared. A regular file or symlink removed from one path and
 * added at another is a `renamed` change when exactly one removed and one added path share its type and content
 * (digest, inline bytes or symlink target); empty files are never paired, since they carry no identity.
 * Pure: reads only the given trees. Throws ERR_CFS_USAGE for an unknown `ignore` name or a relative `paths` entry.
 */
export function diffManifests (a: Manifest, b: Manifest, opts: DiffOptions = {}): DiffResult {
  const ignore = new Set<Ignorable>()
  for (const name of opts.ignore ?? []) {
    if (!(IGNORABLE as readonly string[]).includes(name)) {
      throw new CfsError('ERR_CFS_USAGE', `unknown attribute group to ignore: '${name}'`, { hint: `choose from ${IGNORABLE.join(', ')}` })
    }
    ignore.add(name)
  }
  const prefixes = (opts.paths ?? []).map(normalizePrefix)
  const ctx: Walk = {
    ignore,
    linksA: ignore.has('hardlinks') ? new Map() : hardlinkGroups(a),
    linksB: ignore.has('hardlinks') ? new Map() : hardlinkGroups(b),
    out: [],
  }
  visitPair(ctx, a.root, b.root, '/')
  let changes = pairRenames(ctx)
  if (prefixes.length > 0) {
    changes = changes.filter(c => prefixes.some(p => under(c.path, p) || (c.from !== undefined && under(c.from, p))))
  }
  return { changes, identical: changes.length === 0 }
}

interface Walk {
  ignore: Set<Ignorable>
  linksA: Map<Inode, string[]>
  linksB: Map<Inode, string[]>
  out: Change[]
}

function visitPair (ctx: Walk, na: Node, nb: Node, path: string): void {
  const attributes = compareInodes(ctx, na.inode, nb.inode, path, path)
  if (attributes !== undefined) ctx.out.push({ kind: 'modified', path, before: na.inode, after: nb.inode, attributes })
  const ca = na.children ?? EMPTY
  const cb = nb.children ?? EMPTY
  if (ca.length === 0 && cb.length === 0) return
  const prefix = path === '/' ? '/' : path + '/'
  let i = 0
  let j = 0
  while (i < ca.length || j < cb.length) {
    const x = ca[i]
    const y = cb[j]
    if (y === undefined || (x !== undefined && x.name < y.name)) {
      addSubtree(ctx.out, 'removed', x!, prefix + x!.name)
      i++
    } else if (x === undefined || y.name < x.name) {
      addSubtree(ctx.out, 'added', y, prefix + y.name)
      j++
    } else {
      if (x.children === undefined && y.children === undefined) {
        // leaves are most of a tree: build the path only when it is needed
        const needPath = ctx.linksA.has(x.inode) || ctx.linksB.has(y.inode)
        const leafPath = needPath ? prefix + x.name : ''
        const attrs = compareInodes(ctx, x.inode, y.inode, leafPath, leafPath)
        if (attrs !== undefined) ctx.out.push({ kind: 'modified', path: needPath ? leafPath : prefix + x.name, before: x.inode, after: y.inode, attributes: attrs })
      } else {
        visitPair(ctx, x, y, prefix + x.name)
      }
      i++
      j++
    }
  }
}

function addSubtree (out: Change[], kind: 'added' | 'removed', node: Node, path: string): void {
  out.push(kind === 'added'
    ? { kind, path, after: node.inode, attributes: [] }
    : { kind, path, before: node.inode, attributes: [] })
  if (node.children === undefined) return
  for (const child of node.children) addSubtree(out, kind, child, path + '/' + child.name)
}

/** The attributes that differ, or undefined when none does. `pathA`/`pathB` matter only for hardlinked inodes. */
function compareInodes (ctx: Walk, a: Inode, b: Inode, pathA: string, pathB: string): AttributeChange[] | undefined {
  let out: AttributeChange[] | undefined
  const ta = a.mode & S_IFMT
  const tb = b.mode & S_IFMT
  if (ta !== tb) (out ??= []).push({ attribute: 'type', before: kindOf(a), after: kindOf(b) })
  if ((ta === S_IFREG || tb === S_IFREG) && !(ta === tb && sameContent(a, b))) {
    (out ??= []).push({ attribute: 'content', before: contentOf(a), after: contentOf(b) })
  }
  if (ta !== S_IFDIR && tb !== S_IFDIR && a.size !== b.size) (out ??= []).push({ attribute: 'size', before: a.size, after: b.size })
  const ignore = ctx.ignore
  if (!ignore.has('mode') && (a.mode & 0o7777) !== (b.mode & 0o7777)) {
    (out ??= []).push({ attribute: 'mode', before: a.mode & 0o7777, after: b.mode & 0o7777 })
  }
  if (!ignore.has('owner')) {
    if (a.uid !== b.uid) (out ??= []).push({ attribute: 'uid', before: a.uid, after: b.uid })
    if (a.gid !== b.gid) (out ??= []).push({ attribute: 'gid', before: a.gid, after: b.gid })
  }
  if (!ignore.has('mtime') && (a.mtimeSec !== b.mtimeSec || a.mtimeNsec !== b.mtimeNsec)) {
    (out ??= []).push({ attribute: 'mtime', before: { sec: a.mtimeSec, nsec: a.mtimeNsec }, after: { sec: b.mtimeSec, nsec: b.mtimeNsec } })
  }
  if (!ignore.has('xattrs') && (a.xattrs.length > 0 || b.xattrs.length > 0)) {
    const x = compareXattrs(a.xattrs, b.xattrs)
    if (x !== undefined) (out ??= []).push(x)
  }
  const targetA = ta === S_IFLNK ? a.target ?? '' : null
  const targetB = tb === S_IFLNK ? b.target ?? '' : null
  if (targetA !== targetB) (out ??= []).push({ attribute: 'target', before: targetA, after: targetB })
  if (a.rdev !== b.rdev) (out ??= []).push({ attribute: 'rdev', before: a.rdev, after: b.rdev })
  if (!ignore.has('hardlinks') && ta !== S_IFDIR && tb !== S_IFDIR) {
    const la = otherLinks(ctx.linksA, a, pathA)
    const lb = otherLinks(ctx.linksB, b, pathB)
    if (a.nlink !== b.nlink || (la !== lb && !sameList(la, lb))) {
      (out ??= []).push({ attribute: 'hardlinks', before: { nlink: a.nlink, paths: la }, after: { nlink: b.nlink, paths: lb } })
    }
  }
  return out
}

function kindOf (inode: Inode): FileKind | 'unknown' { return fileKind(inode.mode) ?? 'unknown' }

/** Content of a regular file, or null for any other type. */
export function contentOf (inode: Inode): Content | null {
  if ((inode.mode & S_IFMT) !== S_IFREG) return null
  if (inode.digest !== undefined) return { digest: inode.digest }
  if (inode.inline !== undefined) return { inline: inode.inline }
  if (inode.size === 0) return { inline: new Uint8Array(0) }
  return { payload: inode.payload ?? null }
}

function sameContent (a: Inode, b: Inode): boolean {
  if (a.digest !== undefined || b.digest !== undefined) {
    return a.digest !== undefined && b.digest !== undefined && sameBytes(a.digest, b.digest)
  }
  const ia = a.inline ?? (a.size === 0 ? EMPTY_BYTES : undefined)
  const ib = b.inline ?? (b.size === 0 ? EMPTY_BYTES : undefined)
  if (ia !== undefined || ib !== undefined) return ia !== undefined && ib !== undefined && sameBytes(ia, ib)
  return a.payload === b.payload
}

const EMPTY_BYTES = new Uint8Array(0)

function sameBytes (x: Uint8Array, y: Uint8Array): boolean {
  if (x.length !== y.length) return false
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false
  return true
}

function compareXattrs (xa: readonly Xattr[], xb: readonly Xattr[]): AttributeChange | undefined {
  const added: string[] = []
  const removed: string[] = []
  const changed: string[] = []
  let i = 0
  let j = 0
  while (i < xa.length || j < xb.length) {
    const p = xa[i]
    const q = xb[j]
    if (q === undefined || (p !== undefined && p.key < q.key)) { removed.push(p!.key); i++ } else if (p === undefined || q.key < p.key) { added.push(q.key); j++ } else {
      if (!sameBytes(p.value, q.value)) changed.push(p.key)
      i++
      j++
    }
  }
  if (added.length + removed.length + changed.length === 0) return undefined
  return { attribute: 'xattrs', added, removed, changed }
}

/** Inode → every path naming it, for the inodes named more than once (non-directories only). */
function hardlinkGroups (m: Manifest): Map<Inode, string[]> {
  const seen = new Set<Inode>()
  const groups = new Map<Inode, string[]>()
  const find = (node: Node): void => {
    for (const child of node.children ?? EMPTY) {
      if (child.children !== undefined) find(child)
      else if (seen.has(child.inode)) groups.set(child.inode, [])
      else seen.add(child.inode)
    }
  }
  find(m.root)
  if (groups.size === 0) return groups
  const collect = (node: Node, prefix: string): void => {
    for (const child of node.children ?? EMPTY) {
      if (child.children !== undefined) collect(child, prefix + child.name + '/')
      else groups.get(child.inode)?.push(prefix + child.name)
    }
  }
  collect(m.root, '/')
  return groups
}

const NO_LINKS: string[] = []

function otherLinks (groups: Map<Inode, string[]>, inode: Inode, path: string): string[] {
  const g = groups.get(inode)
  return g === undefined ? NO_LINKS : g.filter(p => p !== path)
}

function sameList (x: readonly string[], y: readonly string[]): boolean {
  if (x.length !== y.length) return false
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false
  return true
}

/** Identity used to pair a removal with an addition; undefined for entries that are never paired. */
function renameKey (inode: Inode): string | undefined {
  const t = inode.mode & S_IFMT
  if (t === S_IFLNK) return 'l' + (inode.target ?? '')
  if (t !== S_IFREG || inode.size === 0) return undefined
  if (inode.digest !== undefined) return 'd' + latin1(inode.digest)
  if (inode.inline !== undefined) return 'i' + latin1(inode.inline)
  return undefined
}

function latin1 (b: Uint8Array): string { return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1') }

function pairRenames (ctx: Walk): Change[] {
  const out = ctx.out
  const candidates = new Map<string, { removed: number[], added: number[] }>()
  for (let i = 0; i < out.length; i++) {
    const c = out[i]!
    if (c.kind !== 'added' && c.kind !== 'removed') continue
    const key = renameKey((c.kind === 'added' ? c.after : c.before)!)
    if (key === undefined) continue
    let slot = candidates.get(key)
    if (slot === undefined) { slot = { removed: [], added: [] }; candidates.set(key, slot) }
    slot[c.kind].push(i)
  }
  const drop = new Set<number>()
  for (const slot of candidates.values()) {
    if (slot.removed.length !== 1 || slot.added.length !== 1) continue
    const del = out[slot.removed[0]!]!
    const add = out[slot.added[0]!]!
    out[slot.added[0]!] = {
      kind: 'renamed',
      path: add.path,
      from: del.path,
      before: del.before!,
      after: add.after!,
      attributes: compareInodes(ctx, del.before!, add.after!, del.path, add.path) ?? [],
    }
    drop.add(slot.removed[0]!)
  }
  return drop.size === 0 ? out : out.filter((_c, i) => !drop.has(i))
}

function normalizePrefix (p: string): string {
  if (!p.startsWith('/')) {
    throw new CfsError('ERR_CFS_USAGE', `path prefix must be absolute: '${p}'`, { hint: 'write it as it appears in the image, e.g. /usr/lib' })
  }
  const trimmed = p.replace(/\/+$/, '')
  return trimmed === '' ? '/' : trimmed
}

function under (path: string, prefix: string): boolean {
  return prefix === '/' || path === prefix || (path.startsWith(prefix) && path.charCodeAt(prefix.length) === 0x2f)
}
