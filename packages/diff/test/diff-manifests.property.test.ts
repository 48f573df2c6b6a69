/**
 * Random trees, random mutations: the reported changes must explain every difference between the two sides, and
 * nothing else. The expected differences come from an independent flat description of each path.
 */
import fc from 'fast-check'
import {
  finalizeTree, makeInode, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG,
  type Inode, type Manifest, type Node,
} from '@cfs/manifest'
import { ATTRIBUTES, diffManifests, type AttributeChange, type Change, type Content } from '../src/diff-manifests.js'

type Rand = () => number
function mulberry32 (seed: number): Rand {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!

const NAMES = ['a', 'b', 'c', 'a-b', 'a.b', '\xff', 'z\xe9', 'lib', 'bin', 'x1']
const TARGETS = ['a', '../b', '/etc/x', 't\xff']
const XKEYS = ['user.a', 'user.b', 'security.capability', 'trusted.\xfe']

function randomInode (r: Rand, filesSoFar: Inode[]): Inode {
  const roll = r()
  const common = { uid: r() < 0.8 ? 0 : 1000, gid: r() < 0.8 ? 0 : 100, mtimeSec: r() < 0.7 ? 1000 : 2000, xattrs: randomXattrs(r) }
  if (roll < 0.1 && filesSoFar.length > 0) {
    const shared = pick(r, filesSoFar)
    shared.nlink++
    return shared
  }
  if (roll < 0.55) {
    const k = r()
    const f = k < 0.5
      ? makeInode(S_IFREG | 0o644, { ...common, size: 4096, digest: Buffer.alloc(32, Math.floor(r() * 8)) })
      : k < 0.85 ? makeInode(S_IFREG | 0o644, { ...common, size: 2, inline: Buffer.from(pick(r, ['hi', 'yo', 'ok'])) })
        : makeInode(S_IFREG | 0o600, { ...common, size: 0 })
    filesSoFar.push(f)
    return f
  }
  if (roll < 0.7) { const t = pick(r, TARGETS); return makeInode(S_IFLNK | 0o777, { ...common, target: t, size: t.length }) }
  if (roll < 0.75) return makeInode(pick(r, [S_IFCHR, S_IFBLK]) | 0o600, { ...common, rdev: pick(r, [0x103, 0x801, 0x10000005]) })
  if (roll < 0.78) return makeInode(S_IFIFO | 0o644, common)
  return makeInode(S_IFDIR | 0o755, common)
}

function randomXattrs (r: Rand): Inode['xattrs'] {
  if (r() < 0.8) return []
  const keys = XKEYS.filter(() => r() < 0.4)
  return keys.map(key => ({ key, value: Buffer.from([Math.floor(r() * 3)]) }))
}

function randomTree (r: Rand): Manifest {
  const files: Inode[] = []
  const fill = (node: Node, depth: number): void => {
    const n = Math.floor(r() * (depth === 0 ? 7 : 4))
    for (const name of NAMES.filter(() => r() < n / NAMES.length)) {
      const inode = depth >= 3 && r() < 0.9 ? makeInode(S_IFREG | 0o644, { size: 0 }) : randomInode(r, files)
      const child: Node = { name, inode }
      if ((inode.mode & S_IFMT) === S_IFDIR) { child.children = []; fill(child, depth + 1) }
      node.children!.push(child)
    }
  }
  const root: Node = { name: '', inode: makeInode(S_IFDIR | 0o755), children: [] }
  fill(root, 0)
  return finalizeTree({ root })
}

/** Deep copy that keeps hardlink sharing. */
function cloneTree (m: Manifest): Manifest {
  const copies = new Map<Inode, Inode>()
  const copyInode = (i: Inode): Inode => {
    let c = copies.get(i)
    if (c === undefined) { c = { ...i, xattrs: i.xattrs.map(x => ({ ...x })) }; copies.set(i, c) }
    return c
  }
  const rec = (n: Node): Node => {
    const c: Node = { name: n.name, inode: copyInode(n.inode) }
    if (n.children !== undefined) c.children = n.children.map(rec)
    return c
  }
  return { root: rec(m.root) }
}

function allNodes (m: Manifest): Array<{ node: Node, parent: Node | undefined }> {
  const out: Array<{ node: Node, parent: Node | undefined }> = []
  const rec = (node: Node, parent: Node | undefined): void => {
    out.push({ node, parent })
    for (const c of node.children ?? []) rec(c, node)
  }
  rec(m.root, undefined)
  return out
}

function mutate (m: Manifest, r: Rand, count: number): Manifest {
  for (let k = 0; k < count; k++) {
    const all = allNodes(m)
    const { node, parent } = pick(r, all)
    const i = node.inode
    const dirs = all.filter(e => e.node.children !== undefined).map(e => e.node)
    const fresh = (): string => pick(r, NAMES) + (r() < 0.5 ? '' : String(Math.floor(r() * 3)))
    switch (Math.floor(r() * 14)) {
      case 0: if (i.digest !== undefined) i.digest = Buffer.alloc(32, Math.floor(r() * 8)); else if (i.inline !== undefined) i.inline = Buffer.from('zz'); break
      case 1: i.mode = (i.mode & S_IFMT) | pick(r, [0o644, 0o600, 0o4755, 0o1777]); break
      case 2: i.uid = pick(r, [0, 1, 1000]); break
      case 3: i.gid = pick(r, [0, 5]); break
      case 4: if (r() < 0.5) i.mtimeSec++; else i.mtimeNsec = 7; break
      case 5: i.xattrs = randomXattrs(r); break
      case 6: if (i.target !== undefined) { i.target = pick(r, TARGETS); i.size = i.target.length } break
      case 7: if (i.rdev !== 0) i.rdev = pick(r, [0x103, 0x104, 0x900]); break
      case 8: if (i.digest !== undefined) i.size += 1; break
      case 9: if (parent !== undefined) parent.children = parent.children!.filter(c => c !== node); break
      case 10: { // move (maybe rename) a leaf to another directory
        if (parent === undefined || node.children !== undefined) break
        parent.children = parent.children!.filter(c => c !== node)
        const to = pick(r, dirs.filter(d => d !== node))
        const name = fresh()
        to.children = to.children!.filter(c => c.name !== name)
        to.children.push({ name, inode: i })
        break
      }
      case 11: { // hardlink: point this leaf at another regular file's inode, or split it from its group
        if (node.children !== undefined) break
        const files = all.filter(e => e.node.children === undefined && (e.node.inode.mode & S_IFMT) === S_IFREG)
        if (r() < 0.5 && files.length > 0) { node.inode = pick(r, files).node.inode; node.inode.nlink++ } else node.inode = { ...i, nlink: 1 }
        break
      }
      case 12: { // type change, possibly to a directory with a subtree
        if (parent === undefined) break
        if (node.children === undefined) {
          node.inode = makeInode(S_IFDIR | 0o755)
          node.children = [{ name: 'sub', inode: makeInode(S_IFREG | 0o644, { size: 2, inline: Buffer.from('hi') }) }]
        } else {
          delete node.children
          node.inode = makeInode(S_IFLNK | 0o777, { target: 'a', size: 1 })
        }
        break
      }
      default: { // add a new leaf
        const to = pick(r, dirs)
        const name = fresh()
        to.children = to.children!.filter(c => c.name !== name)
        to.children.push({ name, inode: randomInode(r, []) })
      }
    }
  }
  return finalizeTree(m)
}

/** Everything diff compares, per path, computed without the library. */
interface Desc {
  type: number
  perm: number
  uid: number
  gid: number
  mtime: string
  size: number | null
  content: string | null
  xattrs: string
  target: string | null
  rdev: number
  nlink: number | null
  links: string[] | null
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
function contentKey (c: Content | null): string | null {
  if (c === null) return null
  if ('digest' in c) return 'd' + hex(c.digest)
  if ('inline' in c) return 'i' + hex(c.inline)
  return 'p' + String(c.payload)
}

function describe_ (m: Manifest): Map<string, Desc> {
  const paths = new Map<Inode, string[]>()
  const order: Array<[string, Inode]> = []
  const rec = (n: Node, path: string): void => {
    order.push([path, n.inode])
    if (n.children === undefined) { const g = paths.get(n.inode) ?? []; g.push(path); paths.set(n.inode, g) }
    for (const c of n.children ?? []) rec(c, (path === '/' ? '' : path) + '/' + c.name)
  }
  rec(m.root, '/')
  const out = new Map<string, Desc>()
  for (const [path, i] of order) {
    const t = i.mode & S_IFMT
    const dir = t === S_IFDIR
    out.set(path, {
      type: t,
      perm: i.mode & 0o7777,
      uid: i.uid,
      gid: i.gid,
      mtime: `${i.mtimeSec}.${i.mtimeNsec}`,
      size: dir ? null : i.size,
      content: t !== S_IFREG ? null : i.digest !== undefined ? 'd' + hex(i.digest) : 'i' + hex(i.inline ?? Buffer.alloc(0)),
      xattrs: JSON.stringify(i.xattrs.map(x => [x.key, hex(x.value)])),
      target: t === S_IFLNK ? i.target! : null,
      rdev: i.rdev,
      nlink: dir ? null : i.nlink,
      links: dir ? null : paths.get(i)!.filter(p => p !== path),
    })
  }
  return out
}

function expectedAttributes (a: Desc, b: Desc): string[] {
  const differs: Record<string, boolean> = {
    type: a.type !== b.type,
    content: (a.content !== null || b.content !== null) && a.content !== b.content,
    size: a.size !== null && b.size !== null && a.size !== b.size,
    mode: a.perm !== b.perm,
    uid: a.uid !== b.uid,
    gid: a.gid !== b.gid,
    mtime: a.mtime !== b.mtime,
    xattrs: a.xattrs !== b.xattrs,
    target: a.target !== b.target,
    rdev: a.rdev !== b.rdev,
    hardlinks: a.links !== null && b.links !== null && (a.nlink !== b.nlink || a.links.join('\0') !== b.links.join('\0')),
  }
  return ATTRIBUTES.filter(x => differs[x])
}

/** The side of one attribute change as the flat description would hold it. */
function sideValue (x: AttributeChange, side: 'before' | 'after'): unknown {
  switch (x.attribute) {
    case 'type': return x[side]
    case 'content': return contentKey(x[side])
    case 'mtime': return `${x[side].sec}.${x[side].nsec}`
    case 'hardlinks': return { nlink: x[side].nlink, links: x[side].paths }
    case 'xattrs': return undefined
    default: return x[side]
  }
}
const KIND: Record<number, string> = { [S_IFREG]: 'file', [S_IFDIR]: 'dir', [S_IFLNK]: 'symlink', [S_IFCHR]: 'chardev', [S_IFBLK]: 'blockdev', [S_IFIFO]: 'fifo' }
function descValue (d: Desc, attribute: string): unknown {
  switch (attribute) {
    case 'type': return KIND[d.type]
    case 'mode': return d.perm
    case 'hardlinks': return { nlink: d.nlink, links: d.links }
    default: return d[attribute as keyof Desc]
  }
}

function renameKey (d: Desc): string | undefined {
  if (d.type === S_IFLNK) return 'l' + d.target!
  if (d.type === S_IFREG && d.size !== 0) return d.content!
  return undefined
}

function checkDiff (a: Manifest, b: Manifest): void {
  const da = describe_(a)
  const db = describe_(b)
  const { changes, identical } = diffManifests(a, b)
  expect(identical).toBe(changes.length === 0)
  const seen = new Set<string>()
  const once = (key: string): void => { expect(seen.has(key)).toBe(false); seen.add(key) }
  for (const c of changes) {
    if (c.kind === 'added') { expect(da.has(c.path)).toBe(false); expect(db.has(c.path)).toBe(true); once('+' + c.path) }
    if (c.kind === 'removed') { expect(da.has(c.path)).toBe(true); expect(db.has(c.path)).toBe(false); once('-' + c.path) }
    if (c.kind === 'renamed') {
      expect(da.has(c.from!) && !db.has(c.from!) && db.has(c.path) && !da.has(c.path)).toBe(true)
      once('-' + c.from!)
      once('+' + c.path)
    }
    if (c.kind === 'modified') { expect(da.has(c.path) && db.has(c.path)).toBe(true); once('~' + c.path) }
    if (c.kind === 'modified' || c.kind === 'renamed') {
      const before = da.get(c.from ?? c.path)!
      const after = db.get(c.path)!
      expect(c.attributes.map(x => x.attribute)).toEqual(expectedAttributes(before, after))
      for (const x of c.attributes) {
        if (x.attribute === 'xattrs') continue
        expect([sideValue(x, 'before'), sideValue(x, 'after')]).toEqual([descValue(before, x.attribute), descValue(after, x.attribute)])
      }
    }
  }
  // every difference is explained
  for (const [path, d] of da) {
    if (!db.has(path)) expect(seen.has('-' + path)).toBe(true)
    else expect(seen.has('~' + path)).toBe(expectedAttributes(d, db.get(path)!).length > 0)
  }
  for (const path of db.keys()) if (!da.has(path)) expect(seen.has('+' + path)).toBe(true)
  // exactly the unambiguous pairs are renames
  const onlyA = new Map<string, string[]>()
  const onlyB = new Map<string, string[]>()
  for (const [path, d] of da) { const k = renameKey(d); if (k !== undefined && !db.has(path)) onlyA.set(k, [...(onlyA.get(k) ?? []), path]) }
  for (const [path, d] of db) { const k = renameKey(d); if (k !== undefined && !da.has(path)) onlyB.set(k, [...(onlyB.get(k) ?? []), path]) }
  const expected = [...onlyA].filter(([k, ps]) => ps.length === 1 && onlyB.get(k)?.length === 1).map(([k, ps]) => `${ps[0]!}>${onlyB.get(k)![0]!}`)
  expect(changes.filter(c => c.kind === 'renamed').map(c => `${c.from!}>${c.path}`).sort()).toEqual(expected.sort())
}

/** diff(A, B) seen from B: kinds, rename ends, before/after and xattr added/removed swapped. */
function mirror (c: Change): Change {
  const kind = c.kind === 'added' ? 'removed' : c.kind === 'removed' ? 'added' : c.kind
  const m: Change = { kind, path: c.from ?? c.path, attributes: c.attributes.map(x => x.attribute === 'xattrs'
    ? { ...x, added: x.removed, removed: x.added }
    : { ...x, before: x.after, after: x.before } as AttributeChange) }
  if (c.from !== undefined) m.from = c.path
  if (c.after !== undefined) m.before = c.after
  if (c.before !== undefined) m.after = c.before
  return m
}
const keyed = (cs: Change[]): Map<string, Change> => new Map(cs.map(c => [`${c.kind} ${c.path}`, c]))

describe('diffManifests on random trees', () => {
  it('reports exactly the differences a mutation made, with their values, and mirrors when the sides swap', () => {
    fc.assert(fc.property(fc.integer(), fc.integer({ min: 1, max: 12 }), (seed, mutations) => {
      const r = mulberry32(seed)
      const a = randomTree(r)
      const b = mutate(cloneTree(a), r, mutations)
      checkDiff(a, b)
      checkDiff(b, a)
      expect(keyed(diffManifests(b, a).changes)).toEqual(keyed(diffManifests(a, b).changes.map(mirror)))
      expect(diffManifests(a, cloneTree(a)).identical).toBe(true)
    }), { numRuns: 300 })
  })
})
