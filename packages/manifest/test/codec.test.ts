import { unpack } from 'msgpackr'
import { CfsError } from '@cfs/errors'
import { COLUMNS, decodeManifest, encodeManifest, manifestDigest, MANIFEST_VERSION } from '../src/codec.js'
import { isDir, makeInode, objectPathOf, S_IFDIR, S_IFREG, S_IFLNK, type Inode, type Manifest, type Node } from '../src/model.js'
import { finalizeTree, lookupPath, directorySize, walkDepthFirst } from '../src/tree.js'
import { columnsOf, repack, type ColumnName } from './repack.js'
import { syntheticTree } from './synthetic-tree.js'

const PINNED_SYNTHETIC_2000_7 = 'sha256:3490ab66724bd52e89a3e0063b668043b6c0936c50c55df7dbad8df1f1ce08a2'
const PINNED_TINY = 'sha256:abf57de30d93016f1d5e8dbc4bcdc944435469164652cbc2fdea8301edb63a61'

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

/** Every path with every inode field, and hardlink groups as first-seen path: equal descriptions, equal trees. */
function describeTree (m: Manifest): string[] {
  const first = new Map<Inode, string>()
  const out: string[] = []
  walkDepthFirst(m, (path, node) => {
    const i = node.inode
    if (!first.has(i)) first.set(i, path)
    const hex = (b?: Uint8Array): string => b === undefined ? '-' : Buffer.from(b).toString('hex')
    out.push(JSON.stringify([path, first.get(i), i.mode, i.uid, i.gid, i.nlink, i.rdev, i.mtimeSec, i.mtimeNsec, i.size,
      i.target ?? null, hex(i.inline), hex(i.digest), i.payload ?? null, i.xattrs.map(x => [x.key, hex(x.value)]), node.children?.length ?? null]))
  })
  return out
}

function tinyTree (payloads: Array<string | undefined>): Manifest {
  const digest = Buffer.alloc(32, 0xab)
  const kids: Node[] = payloads.map((payload, i) => ({ name: `f${i}`, inode: makeInode(S_IFREG | 0o644, { size: 10, digest, ...(payload === undefined ? {} : { payload }) }) }))
  return finalizeTree({ root: { name: '', inode: makeInode(S_IFDIR | 0o755), children: kids } })
}

function codeOf (f: () => unknown): string | undefined {
  try { f(); return undefined } catch (err) {
    if (!(err instanceof CfsError)) throw err
    return err.code
  }
}

describe('manifest format v4', () => {
  const big = syntheticTree(3000, 42)

  it('round-trips a synthetic OS tree: same tree, same bytes', () => {
    const bytes = encodeManifest(big)
    const back = decodeManifest(bytes)
    expect(describeTree(back)).toEqual(describeTree(big))
    expect(Buffer.from(encodeManifest(back)).equals(Buffer.from(bytes))).toBe(true)
  })

  it('encodes a tree built in another insertion order to the same bytes', () => {
    const shuffled = syntheticTree(3000, 42, 'shuffled')
    expect(describeTree(shuffled)).toEqual(describeTree(big))
    expect(Buffer.from(encodeManifest(shuffled)).equals(Buffer.from(encodeManifest(big)))).toBe(true)
  })

  it('sorts unsorted children and xattrs itself and refuses duplicate names', () => {
    const m = syntheticTree(500, 3, 'shuffled')
    const unsorted: Manifest = { root: { ...m.root, children: [...m.root.children!].reverse() } }
    expect(Buffer.from(encodeManifest(unsorted)).equals(Buffer.from(encodeManifest(m)))).toBe(true)
    const dup: Manifest = { root: { ...m.root, children: [...m.root.children!, m.root.children![0]!] } }
    expect(codeOf(() => encodeManifest(dup))).toBe('ERR_CFS_TREE_INVALID')
  })

  it('keeps pinned digests (a change to the bytes must bump MANIFEST_VERSION and these pins)', () => {
    expect(MANIFEST_VERSION).toBe(4)
    expect(manifestDigest(encodeManifest(syntheticTree(2000, 7)))).toBe(PINNED_SYNTHETIC_2000_7)
    expect(manifestDigest(encodeManifest(tinyTree([undefined])))).toBe(PINNED_TINY)
  })

  it('keeps hardlinks as one shared inode with its nlink', () => {
    const back = decodeManifest(encodeManifest(big))
    const seen = new Map<Inode, number>()
    walkDepthFirst(back, (_p, n) => { seen.set(n.inode, (seen.get(n.inode) ?? 0) + 1) })
    const groups = [...seen].filter(([, c]) => c > 1)
    expect(groups.length).toBeGreaterThan(5)
    for (const [inode] of groups) expect(isDir(inode)).toBe(false)
  })

  it('keeps a shared inode whose nlink says 1, and a group of three, as shared inodes', () => {
    // the encoder tracks inodes with nlink 1 apart from declared groups: a repeat among them must still be found
    const lone = makeInode(S_IFREG | 0o644, { size: 2, inline: Buffer.from('hi') })
    const three = makeInode(S_IFREG | 0o600, { nlink: 3, size: 3, inline: Buffer.from('abc') })
    const m = finalizeTree({
      root: {
        name: '',
        inode: makeInode(S_IFDIR | 0o755),
        children: [
          { name: 'a', inode: lone },
          { name: 'b', inode: three },
          { name: 'd', inode: makeInode(S_IFDIR | 0o755), children: [{ name: 'c', inode: three }, { name: 'e', inode: lone }] },
          { name: 'f', inode: three },
          { name: 'g', inode: makeInode(S_IFREG | 0o644) },
          { name: 'h', inode: lone },
        ],
      },
    })
    const back = decodeManifest(encodeManifest(m))
    const at = (p: string): Inode => lookupPath(back, p)!.inode
    expect(at('/a')).toBe(at('/d/e'))
    expect(at('/a')).toBe(at('/h'))
    expect(at('/a').nlink).toBe(1)
    expect(at('/b')).toBe(at('/d/c'))
    expect(at('/b')).toBe(at('/f'))
    expect(at('/g')).not.toBe(at('/a'))
    expect(Buffer.from(encodeManifest(back)).equals(Buffer.from(encodeManifest(m)))).toBe(true)
  })

  it('finds a repeated nlink-1 file among files that share its content, whichever placed the object first', () => {
    // files skip the identity set while their digest is new to the object table: a repeat must still be found
    // when the object was placed by the same inode, by another inode, or by another file's payload
    const d = Buffer.alloc(32, 0x5a)
    const file = (fields: Partial<Inode>): Inode => makeInode(S_IFREG | 0o644, { size: 9, digest: d, ...fields })
    const first = file({})
    const copy = file({ uid: 1 })
    const byPayload = file({ digest: Buffer.alloc(32, 7), payload: objectPathOf(d) })
    const cases: Array<[string, Array<[string, Inode]>, string[]]> = [
      ['the same inode', [['a', first], ['b', copy], ['c', first], ['e', file({ uid: 2 })]], ['/a', '/c']],
      ['another inode', [['a', first], ['b', copy], ['d', copy], ['e', file({ uid: 2 })]], ['/b', '/d']],
      ['a payload', [['0', byPayload], ['a', first], ['b', first], ['c', copy]], ['/a', '/b']],
    ]
    for (const [placedBy, entries, shared] of cases) {
      const m = finalizeTree({
        root: { name: '', inode: makeInode(S_IFDIR | 0o755), children: entries.map(([name, inode]) => ({ name, inode })) },
      })
      const back = decodeManifest(encodeManifest(m))
      const at = (p: string): Inode => lookupPath(back, p)!.inode
      expect([placedBy, at(shared[0]!) === at(shared[1]!)]).toEqual([placedBy, true])
      const distinct = new Set(entries.map(([name]) => at('/' + name)))
      expect([placedBy, distinct.size]).toEqual([placedBy, new Set(entries.map(([, inode]) => inode)).size])
      expect(Buffer.from(encodeManifest(back)).equals(Buffer.from(encodeManifest(m)))).toBe(true)
    }
  })

  it('stores payloads exactly: absent, derived from the digest, object-path shaped, or any other bytes', () => {
    const digest = Buffer.alloc(32, 0xab)
    const payloads = [undefined, objectPathOf(digest), objectPathOf(Buffer.alloc(32, 1)), 'AB/' + 'C'.repeat(62), '', 'x/y\xff z', '-']
    const m = tinyTree(payloads)
    const back = decodeManifest(encodeManifest(m))
    expect(back.root.children!.map(c => c.inode.payload)).toEqual(payloads)
  })

  it('stores a derived payload at no cost beyond its flag', () => {
    const derived = tinyTree(Array.from({ length: 50 }, () => objectPathOf(Buffer.alloc(32, 0xab))))
    const none = tinyTree(Array.from({ length: 50 }, () => undefined))
    expect(Math.abs(encodeManifest(derived).length - encodeManifest(none).length)).toBeLessThanOrEqual(2)
  })

  it('stores one copy of a digest shared by many files', () => {
    const many = tinyTree(Array.from({ length: 200 }, (_, i) => i % 2 === 0 ? undefined : objectPathOf(Buffer.alloc(32, 0xab))))
    const objectTable = columnsOf(encodeManifest(many)).items[2 + 2 * COLUMNS.length] as Uint8Array
    expect(Buffer.from(objectTable).equals(Buffer.alloc(32, 0xab))).toBe(true)
  })

  it('writes a body any MessagePack decoder reads: one array of numbers and bins', () => {
    const items = unpack(Buffer.from(encodeManifest(big)).subarray(5)) as unknown[]
    expect(Array.isArray(items)).toBe(true)
    expect(items.length).toBe(2 + 2 * COLUMNS.length + 1)
    for (const item of items) expect(typeof item === 'number' || item instanceof Uint8Array).toBe(true)
  })

  it('refuses trees composefs cannot hold when encoding', () => {
    const bad: Array<(m: Manifest) => void> = [
      m => { m.root.children!.push({ name: '..', inode: makeInode(S_IFREG | 0o644) }) },
      m => { m.root.children!.push({ name: 'a/b', inode: makeInode(S_IFREG | 0o644) }) },
      m => { m.root.children!.push({ name: 'x'.repeat(256), inode: makeInode(S_IFREG | 0o644) }) },
      m => { m.root.children!.push({ name: 'z', inode: makeInode(S_IFLNK | 0o777) }) },
      m => { m.root.children!.push({ name: 'z', inode: makeInode(S_IFREG | 0o644, { size: 5001, inline: Buffer.alloc(5001) }) }) },
      m => { m.root.children!.push({ name: 'z', inode: makeInode(S_IFREG | 0o644, { size: 3, inline: Buffer.alloc(2) }) }) },
      m => { m.root.children!.push({ name: 'z', inode: makeInode(S_IFREG | 0o644, { size: 3, digest: Buffer.alloc(31) }) }) },
      m => { m.root.children!.push({ name: 'z', inode: makeInode(S_IFDIR | 0o755, { target: 'x' }), children: [] }) },
      m => { m.root.children!.push({ name: 'z', inode: makeInode(0o644) }) },
      m => { m.root.children!.push({ name: 'z', inode: m.root.children![0]!.inode }) },
      m => { m.root.children!.push({ name: 'z', inode: makeInode(S_IFREG | 0o644, { xattrs: [{ key: '', value: Buffer.alloc(1) }] }) }) },
      m => { m.root.children!.push({ name: 'z\0', inode: makeInode(S_IFREG | 0o644) }) },
      m => { m.root.children!.push({ name: 'z\u0100', inode: makeInode(S_IFREG | 0o644) }) }, // not a byte string
      m => { // the same xattrs as the previous inode, but a value that is not bytes
        m.root.children!.push({ name: 'y', inode: makeInode(S_IFREG | 0o644, { xattrs: [{ key: 'user.a', value: Buffer.from([1]) }] }) })
        m.root.children!.push({ name: 'z', inode: makeInode(S_IFREG | 0o644, { xattrs: [{ key: 'user.a', value: [1] as unknown as Uint8Array }] }) })
      },
    ]
    for (const edit of bad) {
      const m = tinyTree([])
      m.root.children!.push({ name: 'd', inode: makeInode(S_IFDIR | 0o755), children: [] })
      edit(m)
      expect(codeOf(() => encodeManifest(m))).toBe('ERR_CFS_TREE_INVALID')
    }
  })

  it('rejects well-formed bytes describing an invalid tree with ERR_CFS_MANIFEST_INVALID', () => {
    const m = finalizeTree({
      root: {
        name: '',
        inode: makeInode(S_IFDIR | 0o755),
        children: [
          { name: 'aa', inode: makeInode(S_IFREG | 0o644, { size: 2, inline: Buffer.from('hi') }) },
          { name: 'ab', inode: makeInode(S_IFDIR | 0o755), children: [] },
          { name: 'ac', inode: makeInode(S_IFREG | 0o644) },
        ],
      },
    })
    const bytes = encodeManifest(m)
    expect(decodeManifest(bytes).root.children!.map(c => c.name)).toEqual(['aa', 'ab', 'ac'])
    const names = columnsOf(bytes).raw.get('names')!
    // names column: (shared prefix, suffix NUL) per node: 0 "aa" / 1 "b" / 1 "c"
    expect([...names]).toEqual([0, 0x61, 0x61, 0, 1, 0x62, 0, 1, 0x63, 0])
    const cases: Array<[string, Buffer, string]> = [
      ['dot name', repack(bytes, 'names', () => Buffer.from([0, 0x2e, 0, 1, 0x62, 0, 1, 0x63, 0])), 'ERR_CFS_MANIFEST_INVALID'],
      ['unsorted', repack(bytes, 'names', () => Buffer.from([0, 0x61, 0x63, 0, 1, 0x62, 0, 0, 0x63, 0])), 'ERR_CFS_MANIFEST_INVALID'],
      ['slash', repack(bytes, 'names', () => Buffer.from([0, 0x61, 0x2f, 0, 1, 0x62, 0, 1, 0x63, 0])), 'ERR_CFS_MANIFEST_INVALID'],
      ['prefix not maximal', repack(bytes, 'names', () => Buffer.from([0, 0x61, 0x61, 0, 0, 0x61, 0x62, 0, 1, 0x63, 0])), 'ERR_CFS_MANIFEST_CORRUPT'],
      ['dir hardlink', repack(bytes, 'links', () => Buffer.from([0, 0, 3])), 'ERR_CFS_MANIFEST_INVALID'],
      ['inline on a directory', repack(bytes, 'flags', raw => { raw[2] = 2; return raw }), 'ERR_CFS_MANIFEST_INVALID'],
      ['inline longer than its column', repack(bytes, 'sizes', raw => { raw[1] = 3; return raw }), 'ERR_CFS_MANIFEST_CORRUPT'],
      ['trailing column bytes', repack(bytes, 'modes', raw => Buffer.concat([raw, Buffer.from([0])])), 'ERR_CFS_MANIFEST_CORRUPT'],
      ['overlong varint', repack(bytes, 'nlinks', raw => Buffer.concat([Buffer.from([0x80, 0x00]), raw.subarray(1)])), 'ERR_CFS_MANIFEST_CORRUPT'],
    ]
    for (const [what, b, code] of cases) expect([what, codeOf(() => decodeManifest(b))]).toEqual([what, code])
  })

  it('refuses a column that claims more bytes than the file could expand to, before decompressing', () => {
    const bytes = encodeManifest(tinyTree([undefined]))
    const hostile = repack(bytes, 'names', raw => raw, items => { items[2] = 0xffffffff })
    expect(codeOf(() => decodeManifest(hostile))).toBe('ERR_CFS_MANIFEST_CORRUPT')
  })

  it('refuses every truncation of a manifest with ERR_CFS_MANIFEST_CORRUPT', () => {
    const bytes = Buffer.from(encodeManifest(syntheticTree(60, 5)))
    for (let n = 0; n < bytes.length; n++) expect(codeOf(() => decodeManifest(bytes.subarray(0, n)))).toBe('ERR_CFS_MANIFEST_CORRUPT')
  })
})

describe('the worked example of docs/manifest-format.md', () => {
  it('has the documented columns and digest', () => {
    const m = finalizeTree({
      root: {
        name: '',
        inode: makeInode(S_IFDIR | 0o755, { mtimeSec: 1700000000 }),
        children: [
          { name: 'hello.txt', inode: makeInode(S_IFREG | 0o644, { size: 3, inline: Buffer.from('hi\n'), mtimeSec: 1700000000, xattrs: [{ key: 'security.selinux', value: Buffer.from('system_u:object_r:etc_t:s0\0') }] }) },
          { name: 'help', inode: makeInode(S_IFLNK | 0o777, { target: 'hello.txt', size: 9, mtimeSec: 1700000000 }) },
          { name: 'lib.so', inode: makeInode(S_IFREG | 0o755, { size: 123456, digest: Buffer.alloc(32, 0x11), payload: '11/' + '11'.repeat(31), mtimeSec: 1700000001, mtimeNsec: 5 }) },
        ],
      },
    })
    const bytes = encodeManifest(m)
    const hex = (c: ColumnName): string => columnsOf(bytes).raw.get(c)!.toString('hex')
    expect(hex('names')).toBe('0068656c6c6f2e74787400037000006c69622e736f00')
    expect(hex('mtimes')).toBe('80c49fd50c000002')
    expect(hex('sizes')).toBe('000309c0c407')
    expect(hex('flags')).toBe('00020409')
    expect(hex('tables')).toBe('04ed8301a48302ffc302ed83020100000110' + Buffer.from('security.selinux').toString('hex') + '011b' + Buffer.from('system_u:object_r:etc_t:s0\0').toString('hex') + '01010000')
    expect(hex('objects')).toBe('00')
    expect(bytes.length).toBe(308)
    expect(Buffer.from(bytes).subarray(0, 16).toString('hex')).toBe('4346534d04dc0025040416c41a8b0a80')
    expect(manifestDigest(bytes)).toBe('sha256:fe03be2c3c2c1d22ab100f782f7da13b44c6abb8df7fc5e454035d6a05620e79')
  })
})

describe('deep trees', () => {
  it('encodes and decodes a 20,000-level directory chain without recursion', () => {
    const root: Node = { name: '', inode: makeInode(S_IFDIR | 0o755), children: [] }
    let dir = root
    for (let i = 0; i < 20000; i++) {
      const next: Node = { name: 'd', inode: makeInode(S_IFDIR | 0o755, { nlink: 3 }), children: [] }
      dir.children!.push(next)
      dir = next
    }
    dir.inode.nlink = 2
    root.inode.nlink = 3
    const bytes = encodeManifest({ root })
    const back = decodeManifest(bytes)
    let depth = 0
    for (let n: Node | undefined = back.root; n !== undefined; n = n.children?.[0]) depth++
    expect(depth).toBe(20001)
    expect(lookupPath(back, '/d/d/d')!.inode.nlink).toBe(3)
  })
})
