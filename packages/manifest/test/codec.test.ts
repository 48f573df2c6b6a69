import { decodeManifest, encodeManifest, manifestDigest } from '../src/codec.js'
import { makeInode, S_IFDIR, S_IFREG, S_IFLNK, type Manifest, type Node } from '../src/model.js'
import { finalizeTree, lookupPath, directorySize } from '../src/tree.js'

function sample (order: 'asc' | 'desc'): Manifest {
  const shared = makeInode(S_IFREG | 0o644, { size: 100, digest: Buffer.alloc(32, 7), payload: '07/07', nlink: 2 })
  const kids: Node[] = [
    { name: 'a', inode: shared },
    { name: 'b', inode: shared },
    { name: 'l', inode: makeInode(S_IFLNK | 0o777, { target: 'a', size: 1 }) },
    { name: '\xff\xfe', inode: makeInode(S_IFREG | 0o600, { size: 3, inline: Buffer.from('abc') }) },
    { name: 'd', inode: makeInode(S_IFDIR | 0o755), children: [] },
  ]
  if (order === 'desc') kids.reverse()
  return finalizeTree({ root: { name: '', inode: makeInode(S_IFDIR | 0o755), children: kids } })
}

describe('manifest codec', () => {
  it('encodes the same tree to the same bytes whatever the insertion order', () => {
    expect(Buffer.from(encodeManifest(sample('asc'))).equals(Buffer.from(encodeManifest(sample('desc'))))).toBe(true)
  })

  it('round-trips byte for byte and keeps hardlinks as one inode', () => {
    const bytes = encodeManifest(sample('asc'))
    const back = decodeManifest(bytes)
    expect(Buffer.from(encodeManifest(back)).equals(Buffer.from(bytes))).toBe(true)
    expect(lookupPath(back, '/a')!.inode).toBe(lookupPath(back, '/b')!.inode)
    expect(lookupPath(back, '/\xff\xfe')!.inode.inline).toEqual(Buffer.from('abc'))
    expect(manifestDigest(bytes)).toMatch(/^sha256:[0-9a-f]{64}$/)
  })

  it('refuses bytes that are not a manifest', () => {
    expect(() => decodeManifest(Buffer.from('nope'))).toThrow(expect.objectContaining({ code: 'ERR_CFS_MANIFEST_CORRUPT' }))
    expect(() => decodeManifest(Buffer.from('CFSM\x09', 'latin1'))).toThrow(expect.objectContaining({ code: 'ERR_CFS_MANIFEST_VERSION' }))
  })
})

describe('directorySize', () => {
  it('gives the composefs sizes of an empty root and an empty directory', () => {
    const m = sample('asc')
    // root: 256 whiteouts + '.', '..' + 5 children: a full block, as in mkcomposefs images
    expect(directorySize(m.root, true)).toBe(4096)
    expect(directorySize(lookupPath(m, '/d')!, false)).toBe(27) // '.' + '..' = 12+1 + 12+2
  })
})
