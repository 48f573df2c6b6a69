import { isRegular, type Inode } from '@cfs/manifest'
import { newNode, type KindLetter, type SizeNode } from './size-tree.js'

/**
 * One change, in the shape of @cfs/diff's `Change` (which is assignable to it): the report reads only these
 * fields, so it needs no dependency on @cfs/diff.
 */
export interface ReportChange {
  kind: 'added' | 'removed' | 'modified' | 'renamed'
  /** byte string, absolute: the path in B, or in A for a removal */
  path: string
  /** renames: the path in A */
  from?: string
  before?: Inode
  after?: Inode
  attributes: ReadonlyArray<{ attribute: string }>
}

export const LETTER: Record<ReportChange['kind'], KindLetter> = { added: 'A', removed: 'D', modified: 'M', renamed: 'R' }
const KIND_INDEX: Record<KindLetter, number> = { A: 0, D: 1, M: 2, R: 3 }

function fileBytes (inode: Inode | undefined): number {
  return inode !== undefined && isRegular(inode) ? inode.size : 0
}

/** [content bytes that left, content bytes that entered]: attribute-only changes move none (as `cfs diff --stat`). */
export function churnOf (c: ReportChange): [number, number] {
  if (c.kind === 'added') return [0, fileBytes(c.after)]
  if (c.kind === 'removed') return [fileBytes(c.before), 0]
  if (c.attributes.some(a => a.attribute === 'content')) return [fileBytes(c.before), fileBytes(c.after)]
  return [0, 0]
}

export interface ChangeSummary {
  /** tree of the changed paths, weighted by changed content bytes (removed + added) */
  tree: SizeNode
  byKind: Record<ReportChange['kind'], { paths: number, bytesRemoved: number, bytesAdded: number }>
  /** modified and renamed paths per changed attribute */
  byAttribute: Map<string, number>
  changedBytes: number
  /** the changes that moved the most content bytes, most first */
  largest: Array<{ change: ReportChange, removed: number, added: number }>
}

/** Tree, totals and largest changes of a diff. Pure. */
export function summarizeChanges (changes: readonly ReportChange[], largest = 50): ChangeSummary {
  const tree = newNode('')
  tree.kinds = [0, 0, 0, 0]
  const byKind = {} as ChangeSummary['byKind']
  for (const k of ['added', 'removed', 'modified', 'renamed'] as const) byKind[k] = { paths: 0, bytesRemoved: 0, bytesAdded: 0 }
  const byAttribute = new Map<string, number>()
  let changedBytes = 0
  const ranked: ChangeSummary['largest'] = []
  const index = new Map<SizeNode, Map<string, SizeNode>>()
  for (const c of changes) {
    const [removed, added] = churnOf(c)
    const k = byKind[c.kind]
    k.paths++
    k.bytesRemoved += removed
    k.bytesAdded += added
    changedBytes += removed + added
    for (const a of c.attributes) byAttribute.set(a.attribute, (byAttribute.get(a.attribute) ?? 0) + 1)
    if (removed + added > 0) ranked.push({ change: c, removed, added })
    const letter = LETTER[c.kind]
    const ki = KIND_INDEX[letter]
    let node = tree
    const bump = (n: SizeNode): void => { n.bytes += removed + added; n.count++; n.kinds![ki]!++ }
    bump(node)
    if (c.path !== '/') {
      for (const part of c.path.slice(1).split('/')) {
        let byName = index.get(node)
        if (byName === undefined) { byName = new Map(); index.set(node, byName); node.children = [] }
        let next = byName.get(part)
        if (next === undefined) { next = newNode(part); next.kinds = [0, 0, 0, 0]; byName.set(part, next); node.children!.push(next) }
        node = next
        bump(node)
      }
    }
    node.kind = letter
    if (c.from !== undefined) node.from = c.from
  }
  ranked.sort((x, y) => (y.removed + y.added) - (x.removed + x.added) || (x.change.path < y.change.path ? -1 : x.change.path > y.change.path ? 1 : 0))
  return { tree, byKind, byAttribute, changedBytes, largest: ranked.slice(0, largest) }
}
