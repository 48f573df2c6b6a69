import { hardlinkPrimaries, normalizeHardlinks } from '../src/hardlinks.js'
import { makeInode, S_IFDIR, S_IFREG, type Inode, type Manifest, type Node } from '../src/model.js'
import { finalizeTree, lookupPath } from '../src/tree.js'

/** /a, /d/b, /d/c and /e share one inode (depth-first order a, d/b, d/c, e); `flags` names the flagged ones. */
function group (flags: string[]): { manifest: Manifest, shared: Inode, at: (p: string) => Node } {
  const shared = makeInode(S_IFREG | 0o644, { nlink: 4, size: 1, inline: Buffer.from('x') })
  const leaf = (name: string): Node => ({ name, inode: shared })
  const manifest: Manifest = {
    root: {
      name: '',
      inode: makeInode(S_IFDIR | 0o755),
      children: [leaf('a'), { name: 'd', inode: makeInode(S_IFDIR | 0o755), children: [leaf('b'), leaf('c')] }, leaf('e')],
    },
  }
  const at = (p: string): Node => lookupPath(manifest, p)!
  for (const p of flags) at(p).hardlink = true
  return { manifest, shared, at }
}

const flagged = (at: (p: string) => Node): string[] => ['/a', '/d/b', '/d/c', '/e'].filter(p => at(p).hardlink === true)

describe('hardlink primaries', () => {
  it('is the one unflagged Node of a group, else the first in depth-first order', () => {
    for (const [flags, primary] of [
      [[], '/a'],
      [['/a', '/d/b', '/e'], '/d/c'],
      [['/a', '/d/b', '/d/c', '/e'], '/a'],
      [['/a', '/e'], '/a'], // two unflagged Nodes: ambiguous, the first one wins
    ] as const) {
      const { manifest, shared, at } = group([...flags])
      expect(hardlinkPrimaries(manifest).get(shared)).toBe(at(primary))
    }
  })

  it('normalizes to flags on every Node but a primary that is not the first, and to no flags otherwise', () => {
    const kept = group(['/a', '/d/b', '/e'])
    normalizeHardlinks(kept.manifest)
    expect(flagged(kept.at)).toEqual(['/a', '/d/b', '/e'])

    const partial = group(['/a', '/e']) // /d/b and /d/c unflagged: /a becomes the primary
    normalizeHardlinks(partial.manifest)
    expect(flagged(partial.at)).toEqual([])

    const firstIsPrimary = group(['/d/c']) // /a, /d/b and /e unflagged: /a
    normalizeHardlinks(firstIsPrimary.manifest)
    expect(flagged(firstIsPrimary.at)).toEqual([])

    const oneUnflagged = group(['/a', '/d/b', '/d/c'])
    normalizeHardlinks(oneUnflagged.manifest)
    expect(flagged(oneUnflagged.at)).toEqual(['/a', '/d/b', '/d/c'])
    expect(hardlinkPrimaries(oneUnflagged.manifest).get(oneUnflagged.shared)).toBe(oneUnflagged.at('/e'))

    const lone: Manifest = { root: { name: '', inode: makeInode(S_IFDIR | 0o755), children: [{ name: 'f', inode: makeInode(S_IFREG), hardlink: true }] } }
    normalizeHardlinks(lone)
    expect(lone.root.children![0]!.hardlink).toBeUndefined()
  })

  it('runs in finalizeTree after the children are sorted', () => {
    const shared = makeInode(S_IFREG | 0o644, { nlink: 2 })
    const tree = (flag: 'z' | 'a'): Manifest => ({
      root: {
        name: '',
        inode: makeInode(S_IFDIR | 0o755),
        children: [{ name: 'z', inode: shared, ...(flag === 'z' ? { hardlink: true } : {}) }, { name: 'a', inode: shared, ...(flag === 'a' ? { hardlink: true } : {}) }],
      },
    })
    // /a sorts first; the primary /z is not first, so /a keeps its flag
    expect(lookupPath(finalizeTree(tree('a')), '/a')!.hardlink).toBe(true)
    // the primary /a is first: no flags remain
    const m = finalizeTree(tree('z'))
    expect([lookupPath(m, '/a')!.hardlink, lookupPath(m, '/z')!.hardlink]).toEqual([undefined, undefined])
  })
})

describe('hardlink primaries in the manifest bytes', () => {
  it('keep a primary that is not the first link through encode and decode', async () => {
    const { encodeManifest, decodeManifest } = await import('../src/codec.js')
    const { finalizeTree, lookupPath } = await import('../src/tree.js')
    const { makeInode, S_IFDIR, S_IFREG } = await import('../src/model.js')
    const shared = makeInode(S_IFREG | 0o644, { size: 3, inline: Buffer.from('abc'), nlink: 3 })
    const tree = (primary: string) => finalizeTree({
      root: {
        name: '', inode: makeInode(S_IFDIR | 0o755), children: ['a', 'b', 'c'].map(name =>
          ({ name, inode: shared, ...(name === primary ? {} : { hardlink: true as const }) })),
      },
    })
    const first = encodeManifest(tree('a'))
    const late = encodeManifest(tree('c'))
    expect(Buffer.from(first).equals(Buffer.from(late))).toBe(false)
    const back = decodeManifest(late)
    expect(['/a', '/b', '/c'].map(p => lookupPath(back, p)!.hardlink)).toEqual([true, true, undefined])
    expect(Buffer.from(encodeManifest(back)).equals(Buffer.from(late))).toBe(true)
    // a primary that is the first link needs no marks, so that tree encodes as one without flags
    const plain = decodeManifest(first)
    expect(['/a', '/b', '/c'].map(p => lookupPath(plain, p)!.hardlink)).toEqual([undefined, undefined, undefined])
  })
})
