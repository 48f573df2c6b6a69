/**
 * The documented JSON form of a diff (schema `cfs.diff/1`, see README.md). Byte strings appear in the escaped
 * form of `escapeBytes`; `path` and `from` also carry `pathBase64`/`fromBase64` with the raw bytes whenever the
 * escaped form contains a backslash. Fields are only ever added to this schema; a breaking change bumps the name.
 */
import { fileKind, S_IFMT, S_IFREG, S_IFLNK, S_IFCHR, S_IFBLK, S_IFDIR, type Inode } from '@cfs/manifest'
import { contentOf, type AttributeChange, type Change, type Content, type DiffResult, type LinkGroup } from './diff-manifests.js'
import { escapeBytes } from '@cfs/manifest'
import { summarizeDiff, type DiffSummary } from './summarize-diff.js'

export const DIFF_JSON_SCHEMA = 'cfs.diff/1'

export type JsonContent = { digest: string } | { inline: string } | { payload: string | null }

export interface JsonEntry {
  type: string
  mode: string
  uid: number
  gid: number
  mtime: { sec: number, nsec: number }
  /** non-directories only */
  size?: number
  content?: JsonContent
  target?: string
  rdev?: { major: number, minor: number }
  nlink?: number
}

export interface JsonChange {
  status: 'added' | 'removed' | 'modified' | 'renamed'
  path: string
  pathBase64?: string
  from?: string
  fromBase64?: string
  /** type of the entry in B (in A for a removal) */
  type: string
  /** added and removed: the whole entry */
  entry?: JsonEntry
  /** modified and renamed: changed attributes by name, in the documented order */
  attributes?: Record<string, unknown>
}

export interface DiffJson {
  schema: typeof DIFF_JSON_SCHEMA
  identical: boolean
  summary: DiffSummary
  changes?: JsonChange[]
}

/** JSON-ready object of a diff; `changes` is left out when `withChanges` is false (the CLI's --stat). */
export function diffToJson (result: DiffResult, opts: { withChanges?: boolean } = {}): DiffJson {
  const summary = summarizeDiff(result)
  const s: DiffSummary = {
    ...summary,
    topDirectories: summary.topDirectories.map(d => ({ ...d, path: escapeBytes(d.path) })),
  }
  const out: DiffJson = { schema: DIFF_JSON_SCHEMA, identical: result.identical, summary: s }
  if (opts.withChanges !== false) out.changes = result.changes.map(changeToJson)
  return out
}

export function changeToJson (c: Change): JsonChange {
  const inode = (c.after ?? c.before)!
  const j: JsonChange = { status: c.kind, path: escapeBytes(c.path), type: fileKind(inode.mode) ?? 'unknown' }
  addBase64(j, 'path', c.path)
  if (c.from !== undefined) { j.from = escapeBytes(c.from); addBase64(j, 'from', c.from) }
  if (c.kind === 'added' || c.kind === 'removed') j.entry = entryToJson(inode)
  else {
    const attrs: Record<string, unknown> = {}
    for (const a of c.attributes) attrs[a.attribute] = attributeToJson(a)
    j.attributes = attrs
  }
  return j
}

function addBase64 (j: JsonChange, name: 'path' | 'from', raw: string): void {
  if (j[name]!.includes('\\')) j[`${name}Base64`] = Buffer.from(raw, 'latin1').toString('base64')
}

export function modeString (mode: number): string { return (mode & 0o7777).toString(8).padStart(4, '0') }

/** Linux new_encode_dev split: major in bits 8..19, minor in bits 0..7 and 20..31. */
export function splitDev (dev: number): { major: number, minor: number } {
  return { major: (dev >>> 8) & 0xfff, minor: (dev & 0xff) | ((dev >>> 12) & 0xfff00) }
}

export function contentToJson (c: Content | null): JsonContent | null {
  if (c === null) return null
  if ('digest' in c) return { digest: Buffer.from(c.digest).toString('hex') }
  if ('inline' in c) return { inline: Buffer.from(c.inline).toString('base64') }
  return { payload: c.payload === null ? null : escapeBytes(c.payload) }
}

function entryToJson (inode: Inode): JsonEntry {
  const t = inode.mode & S_IFMT
  const e: JsonEntry = {
    type: fileKind(inode.mode) ?? 'unknown',
    mode: modeString(inode.mode),
    uid: inode.uid,
    gid: inode.gid,
    mtime: { sec: inode.mtimeSec, nsec: inode.mtimeNsec },
  }
  if (t !== S_IFDIR) { e.size = inode.size; e.nlink = inode.nlink }
  if (t === S_IFREG) e.content = contentToJson(contentOf(inode))!
  if (t === S_IFLNK) e.target = escapeBytes(inode.target ?? '')
  if (t === S_IFCHR || t === S_IFBLK) e.rdev = splitDev(inode.rdev)
  return e
}

function attributeToJson (a: AttributeChange): unknown {
  switch (a.attribute) {
    case 'xattrs':
      return { added: a.added.map(escapeBytes), removed: a.removed.map(escapeBytes), changed: a.changed.map(escapeBytes) }
    case 'content': return { before: contentToJson(a.before), after: contentToJson(a.after) }
    case 'mode': return { before: modeString(a.before), after: modeString(a.after) }
    case 'target':
      return { before: a.before === null ? null : escapeBytes(a.before), after: a.after === null ? null : escapeBytes(a.after) }
    case 'rdev': return { before: splitDev(a.before), after: splitDev(a.after) }
    case 'hardlinks': return { before: linksToJson(a.before), after: linksToJson(a.after) }
    default: return { before: a.before, after: a.after }
  }
}

function linksToJson (g: LinkGroup): { nlink: number, paths: string[] } {
  return { nlink: g.nlink, paths: g.paths.map(escapeBytes) }
}
