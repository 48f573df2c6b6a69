/**
 * Random trees at the edges of every field (all name bytes, extreme numbers, binary xattrs, every payload kind,
 * hardlinks, empty directories) survive encode → decode exactly, and encode again to the same bytes.
 */
import { decodeManifest, encodeManifest } from '../src/codec.js'
import { finalizeTree, walkDepthFirst } from '../src/tree.js'
import { makeInode, objectPathOf, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFREG, S_IFSOCK, type Inode, type Manifest, type Node } from '../src/model.js'
import { prng } from './synthetic-tree.js'

function randomTree (seed: number): Manifest {
  const rnd = prng(seed)
  const int = (n: number): number => Math.floor(rnd() * n)
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!
  const bytes = (min: number, max: number, avoid: number[] = []): string => {
    let s = ''
    const n = min + int(max - min + 1)
    while (s.length < n) { const c = 1 + int(255); if (!avoid.includes(c)) s += String.fromCharCode(c) }
    return s
  }
  const u32 = (): number => pick([0, 1, 1000, 65534, 0xffffffff, int(0x100000000)])
  const digest = (): Buffer => Buffer.from(Array.from({ length: 32 }, () => int(4)))
  const inodes: Inode[] = []
  const newInode = (mode: number): Inode => {
    const inode = makeInode(mode | int(0o10000), {
      uid: u32(), gid: u32(), nlink: u32(), rdev: (mode === S_IFCHR || mode === S_IFBLK) ? u32() : 0,
      mtimeSec: pick([0, -1, 1700000000, -(2 ** 50), 2 ** 50, int(2 ** 40) - 2 ** 39]), mtimeNsec: u32(),
    })
    const keys = new Set<string>()
    for (let k = int(4); k > 0; k--) keys.add(pick(['security.selinux', 'user.a', 'trusted.overlay.x', bytes(1, 20, [0])]))
    inode.xattrs = [...keys].map(key => ({ key, value: Buffer.from(Array.from({ length: pick([0, 1, 5, 300]) }, () => int(256))) }))
    if (mode === S_IFLNK) { inode.target = bytes(1, pick([3, 100, 4095]), [0]); inode.size = inode.target.length }
    if (mode === S_IFREG) {
      const kind = int(4)
      if (kind === 0) { inode.size = int(5001); inode.inline = Buffer.from(Array.from({ length: inode.size }, () => int(256))) }
      if (kind === 1) { inode.size = pick([1, 4096, 2 ** 53 - 1]); inode.digest = digest() }
      if (kind >= 2) inode.size = int(1e6)
      const p = int(5)
      if (p === 1 && inode.digest !== undefined) inode.payload = objectPathOf(inode.digest)
      if (p === 2) inode.payload = objectPathOf(digest())
      if (p === 3) inode.payload = pick(['', '-', '../x', 'AB/' + 'c'.repeat(62), bytes(1, 200, [0])])
    }
    inodes.push(inode)
    return inode
  }
  const grow = (dir: Node, depth: number): void => {
    const names = new Set<string>()
    for (let k = int(depth === 0 ? 12 : 6); k > 0; k--) {
      const name = pick(['a', 'b', '..a', 'a.', bytes(1, pick([1, 8, 255]), [0, 0x2f])])
      if (names.has(name) || name === '.' || name === '..') continue
      names.add(name)
      const r = rnd()
      if (r < 0.25 && depth < 5) {
        const child: Node = { name, inode: newInode(S_IFDIR), children: [] }
        dir.children!.push(child)
        grow(child, depth + 1)
      } else if (r < 0.35 && inodes.some(i => (i.mode & 0o170000) !== S_IFDIR)) {
        dir.children!.push({ name, inode: pick(inodes.filter(i => (i.mode & 0o170000) !== S_IFDIR)) })
      } else {
        dir.children!.push({ name, inode: newInode(pick([S_IFREG, S_IFREG, S_IFLNK, S_IFCHR, S_IFBLK, S_IFIFO, S_IFSOCK])) })
      }
    }
  }
  const root: Node = { name: '', inode: newInode(S_IFDIR), children: [] }
  grow(root, 0)
  return finalizeTree({ root })
}

function describe2 (m: Manifest): unknown[] {
  const ids = new Map<Inode, number>()
  const out: unknown[] = []
  walkDepthFirst(m, (path, node) => {
    if (!ids.has(node.inode)) ids.set(node.inode, ids.size)
    const { xattrs, inline, digest, ...rest } = node.inode
    out.push([path, ids.get(node.inode), rest, xattrs.map(x => [x.key, Buffer.from(x.value).toString('hex')]),
      inline === undefined ? null : Buffer.from(inline).toString('hex'), digest === undefined ? null : Buffer.from(digest).toString('hex'), node.children?.length])
  })
  return out
}

describe('random edge-case trees', () => {
  it('round-trip exactly for 300 seeds', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const m = randomTree(seed)
      const bytes = encodeManifest(m)
      const back = decodeManifest(bytes)
      expect([seed, describe2(back)]).toEqual([seed, describe2(m)])
      expect([seed, Buffer.from(encodeManifest(back)).equals(Buffer.from(bytes))]).toEqual([seed, true])
    }
  })
})
