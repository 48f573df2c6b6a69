import { S_IFMT, S_IFREG, type Inode } from '@cfs/manifest'
import { ATTRIBUTES, type Attribute, type Change, type ChangeKind, type DiffResult } from './diff-manifests.js'

export interface KindSummary {
  paths: number
  /** content bytes (regular-file sizes) that left the image: removed files, old side of content changes */
  bytesRemoved: number
  /** content bytes that entered the image: added files, new side of content changes */
  bytesAdded: number
}

export interface DirectoryChurn {
  /** byte string: the parent directory of the changed paths */
  path: string
  changedBytes: number
  changes: number
}

export interface DiffSummary {
  byKind: Record<ChangeKind, KindSummary>
  /** number of modified or renamed paths whose attribute changed, per attribute */
  byAttribute: Record<Attribute, number>
  /** bytesRemoved + bytesAdded over every change */
  changedBytes: number
  /** directories ranked by the changed bytes of their direct entries, most first, ties in path order */
  topDirectories: DirectoryChurn[]
}

/** Counts and content bytes of a diff by change kind and attribute, and its `top` busiest directories. */
export function summarizeDiff (result: DiffResult, top = 10): DiffSummary {
  const byKind = {} as Record<ChangeKind, KindSummary>
  for (const k of ['added', 'removed', 'modified', 'renamed'] as const) byKind[k] = { paths: 0, bytesRemoved: 0, bytesAdded: 0 }
  const byAttribute = {} as Record<Attribute, number>
  for (const a of ATTRIBUTES) byAttribute[a] = 0
  const dirs = new Map<string, DirectoryChurn>()
  let changedBytes = 0
  for (const c of result.changes) {
    const [removed, added] = churnOf(c)
    const s = byKind[c.kind]
    s.paths++
    s.bytesRemoved += removed
    s.bytesAdded += added
    changedBytes += removed + added
    for (const a of c.attributes) byAttribute[a.attribute]++
    const parent = parentOf(c.path)
    let d = dirs.get(parent)
    if (d === undefined) { d = { path: parent, changedBytes: 0, changes: 0 }; dirs.set(parent, d) }
    d.changedBytes += removed + added
    d.changes++
  }
  const topDirectories = [...dirs.values()]
    .filter(d => d.changedBytes > 0)
    .sort((x, y) => y.changedBytes - x.changedBytes || (x.path < y.path ? -1 : x.path > y.path ? 1 : 0))
    .slice(0, top)
  return { byKind, byAttribute, changedBytes, topDirectories }
}

function fileBytes (inode: Inode | undefined): number {
  return inode !== undefined && (inode.mode & S_IFMT) === S_IFREG ? inode.size : 0
}

/** [bytes removed, bytes added] by one change; attribute-only changes move no content. */
function churnOf (c: Change): [number, number] {
  if (c.kind === 'added') return [0, fileBytes(c.after)]
  if (c.kind === 'removed') return [fileBytes(c.before), 0]
  if (c.attributes.some(a => a.attribute === 'content')) return [fileBytes(c.before), fileBytes(c.after)]
  return [0, 0]
}

function parentOf (path: string): string {
  const i = path.lastIndexOf('/')
  return i <= 0 ? '/' : path.slice(0, i)
}
