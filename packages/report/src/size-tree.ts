/**
 * The trees a page draws: one node per directory or file, weighted by bytes. A real image has ~10^5 entries, more
 * than a page should carry, so `pruneTree` keeps the heaviest part: it opens directories largest first until a node
 * budget is spent, keeps at most `maxChildren` children per directory and folds the rest into one "(N more)" node.
 * Every byte stays accounted for: a node's bytes are always the sum of its shown children's.
 */
import { displayName } from './escape.js'

/** Change kinds, as the letters `cfs diff` prints. */
export type KindLetter = 'A' | 'D' | 'M' | 'R'

export interface SizeNode {
  /** byte string (a path component); '' for the root */
  name: string
  bytes: number
  /** image trees: regular files (each inode once); diff trees: changed paths, this one included */
  count: number
  /** directories: the entries below (may be empty) */
  children?: SizeNode[]
  /** diff trees: how this path itself changed */
  kind?: KindLetter
  /** diff trees: changed paths at or below this one, by kind (A, D, M, R) */
  kinds?: [number, number, number, number]
  /** diff trees, renames: the old path (byte string) */
  from?: string
}

/** What a page embeds: short keys keep a 5000-node tree small. Names are display text (`displayName`). */
export interface PageNode {
  n: string
  b: number
  f: number
  c?: PageNode[]
  k?: KindLetter
  x?: [number, number, number, number]
  /** entries below that are not shown (the budget ran out, or folded into this "(N more)" node) */
  h?: number
  /** this node stands for several folded siblings */
  o?: 1
  /** renamed from this path */
  r?: string
}

export interface PruneOptions {
  /** nodes in the output, roughly (default 5000) */
  maxNodes?: number
  /** children shown per directory before the rest fold (default 1000: /usr/lib of a distribution fits) */
  maxChildren?: number
}

export function newNode (name: string): SizeNode { return { name, bytes: 0, count: 0 } }

/** Entries at or below a node, itself excluded. */
function entriesBelow (node: SizeNode): number {
  let n = 0
  for (const c of node.children ?? []) n += 1 + entriesBelow(c)
  return n
}

function heavier (x: SizeNode, y: SizeNode): number {
  return y.bytes - x.bytes || y.count - x.count || (x.name < y.name ? -1 : x.name > y.name ? 1 : 0)
}

/** A page tree of at most about `maxNodes` nodes: the heaviest directories opened first. */
export function pruneTree (root: SizeNode, opts: PruneOptions = {}): PageNode {
  const maxNodes = opts.maxNodes ?? 5000
  const maxChildren = opts.maxChildren ?? 1000
  const out = toPage(root)
  let budget = maxNodes - 1
  // max-heap of directories not yet opened, by bytes then count
  const heap: Array<[SizeNode, PageNode]> = []
  const push = (e: [SizeNode, PageNode]): void => {
    heap.push(e)
    let i = heap.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (heavier(heap[p]![0], heap[i]![0]) <= 0) break
      ;[heap[p], heap[i]] = [heap[i]!, heap[p]!]
      i = p
    }
  }
  const pop = (): [SizeNode, PageNode] | undefined => {
    const top = heap[0]
    const last = heap.pop()
    if (heap.length > 0 && last !== undefined) {
      heap[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < heap.length && heavier(heap[l]![0], heap[m]![0]) < 0) m = l
        if (r < heap.length && heavier(heap[r]![0], heap[m]![0]) < 0) m = r
        if (m === i) break
        ;[heap[m], heap[i]] = [heap[i]!, heap[m]!]
        i = m
      }
    }
    return top
  }
  if (root.children !== undefined && root.children.length > 0) push([root, out])
  for (let e = pop(); e !== undefined; e = pop()) {
    const [node, page] = e
    const kids = [...node.children!].sort(heavier)
    if (budget <= 0) { page.h = entriesBelow(node); continue }
    const shown = kids.slice(0, Math.min(maxChildren, Math.max(1, budget)))
    const folded = kids.slice(shown.length)
    page.c = shown.map(toPage)
    budget -= shown.length
    if (folded.length > 0) {
      const other: PageNode = { n: `(${folded.length} more)`, b: 0, f: 0, h: 0, o: 1 }
      for (const k of folded) {
        other.b += k.bytes
        other.f += k.count
        other.h! += 1 + entriesBelow(k)
        if (k.kinds !== undefined) other.x = addKinds(other.x ?? [0, 0, 0, 0], k.kinds)
      }
      page.c.push(other)
      budget--
    }
    shown.forEach((k, i) => { if (k.children !== undefined && k.children.length > 0) push([k, page.c![i]!]) })
  }
  return out
}

function addKinds (a: [number, number, number, number], b: readonly number[]): [number, number, number, number] {
  return [a[0] + b[0]!, a[1] + b[1]!, a[2] + b[2]!, a[3] + b[3]!]
}

function toPage (node: SizeNode): PageNode {
  const p: PageNode = { n: node.name === '' ? '/' : displayName(node.name), b: node.bytes, f: node.count }
  if (node.kind !== undefined) p.k = node.kind
  if (node.kinds !== undefined) p.x = [...node.kinds]
  if (node.from !== undefined) p.r = displayName(node.from)
  return p
}
