import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { promisify } from 'node:util'
import { finalizeTree, makeInode, normalizeHardlinks, S_IFCHR, S_IFDIR, S_IFREG, type Manifest, type Node } from '@cfs/manifest'
import { erofsImageDigest, selectVersion, writeErofs } from '../src/index.js'
import { ex1, ex2 } from './examples.js'

const exec = promisify(execFile)
const BLOCK = 4096
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')

describe('writeErofs on the spec examples', () => {
  it('writes ex1 byte-identical to mkcomposefs, with and without version options', () => {
    for (const opts of [{}, { minVersion: 0, maxVersion: 0 }]) {
      const image = writeErofs(ex1(), opts)
      expect(image.length).toBe(16384)
      expect(sha256(image)).toBe('c9200a1e1496986ade4ad1d9c633fb2339ff8dd617f344dd3df5c66ee7d44775')
      expect(erofsImageDigest(image)).toBe('c886928e7bd1966bf83d3852360a1e50fcbd8d9ecd12884f81e3b6e49d85c064')
    }
  })

  it('writes ex2 as version 1 by default because it has a whiteout', () => {
    const { manifest } = ex2()
    const image = writeErofs(manifest)
    expect(image.length).toBe(24576)
    expect(Buffer.from(image).readUInt32LE(12)).toBe(1)
    expect(sha256(image)).toBe('98ca8df09d797b338bacc051286458f4543b2fe34ccb71a3975988aa361d594f')
    expect(erofsImageDigest(image)).toBe('dcf755909bcfc7489813f43451710c2202e0c7c07e51384b4328857e900081de')
  })

  it('writes ex2 as version 0 when the maximum version is 0', () => {
    const image = writeErofs(ex2().manifest, { minVersion: 0, maxVersion: 0 })
    expect(image.length).toBe(24576)
    expect(sha256(image)).toBe('eeec54af7b10a575ffb123323575301ed533f5ca358a3240130ea98215d23f91')
    expect(erofsImageDigest(image)).toBe('da06a3e5ecf6c5e18ba56603a1d67c9e77a9f2ba4757cdc68f02ab37be447d09')
  })

  it('does not modify the manifest it writes', () => {
    const { manifest } = ex2()
    const before = JSON.stringify(manifest, (_k, v: unknown) => v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v)
    writeErofs(manifest)
    expect(JSON.stringify(manifest, (_k, v: unknown) => v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v)).toBe(before)
  })
})

describe('writeErofs limits and errors', () => {
  const t = { mtimeSec: 1000 }
  const withFile = (size: number, digest?: Uint8Array): Manifest => finalizeTree({
    root: {
      name: '',
      inode: makeInode(S_IFDIR | 0o755, t),
      children: [{ name: 'f', inode: makeInode(S_IFREG | 0o644, digest === undefined ? { ...t, size } : { ...t, size, digest }) }],
    },
  })
  const whiteoutIn = (opaqueLength: number): Manifest => finalizeTree({
    root: {
      name: '',
      inode: makeInode(S_IFDIR | 0o755, t),
      children: [{
        name: 'd',
        inode: makeInode(S_IFDIR | 0o755, { ...t, xattrs: [{ key: 'user.overlay.opaque', value: new Uint8Array(opaqueLength).fill(0x61) }] }),
        children: [{ name: 'w', inode: makeInode(S_IFCHR | 0o644, t) }],
      }],
    },
  })

  it('rejects format versions above 1', () => {
    expect(() => writeErofs(ex1(), { version: 2 })).toThrow(expect.objectContaining({ code: 'ERR_CFS_EROFS_UNSUPPORTED' }))
    expect(() => writeErofs(ex1(), { maxVersion: 3 })).toThrow(expect.objectContaining({ code: 'ERR_CFS_EROFS_UNSUPPORTED' }))
  })

  it('refuses a file that needs more than 1024 chunks (EFBIG)', () => {
    expect(() => writeErofs(withFile(2 ** 53 + 2))).toThrow(expect.objectContaining({ code: 'ERR_CFS_EROFS_UNSUPPORTED' }))
  })

  it('keeps a 1024-entry chunk table inline only when it can start on a block boundary; fsck.erofs accepts both', async () => {
    // no digest: inode + xattrs = 64 bytes, so padding can put the 4096-byte table exactly on a block
    const inline = Buffer.from(writeErofs(withFile(2 ** 53 - 1)))
    expect(inline.subarray(inline.length - BLOCK).every(b => b === 0xFF)).toBe(false)
    // with a digest the 36-byte metacopy value leaves the table 4 bytes off a boundary: it moves to a data block
    // of 0xff (the last block: the root's directory block comes first)
    const moved = Buffer.from(writeErofs(withFile(2 ** 53 - 1, new Uint8Array(32).fill(7))))
    expect(moved.subarray(moved.length - BLOCK).every(b => b === 0xFF)).toBe(true)
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-'))
    try {
      for (const [name, image] of [['inline.erofs', inline], ['moved.erofs', moved]] as const) {
        fs.writeFileSync(path.join(dir, name), image)
        await expect(exec('fsck.erofs', [path.join(dir, name)])).resolves.toBeDefined()
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it('applies mkcomposefs\' budget to the xattrs it adds: a long user.overlay.opaque fails only under version 1', () => {
    expect(() => writeErofs(whiteoutIn(200), { version: 1 })).toThrow(expect.objectContaining({ code: 'ERR_CFS_EROFS_UNSUPPORTED' }))
    expect(writeErofs(whiteoutIn(200), { version: 0 }).length).toBeGreaterThan(0)
    expect(writeErofs(whiteoutIn(100), { version: 1 }).length).toBeGreaterThan(0)
  })

  it('selects version 1 only when a whiteout exists and the maximum allows it', () => {
    expect(selectVersion({}, false)).toBe(0)
    expect(selectVersion({}, true)).toBe(1)
    expect(selectVersion({ minVersion: 0 }, true)).toBe(0)
    expect(selectVersion({ maxVersion: 1 }, true)).toBe(1)
    expect(selectVersion({ minVersion: 1, maxVersion: 0 }, false)).toBe(1)
  })
})

describe('writeErofs hardlink placement', () => {
  it('places a shared inode at its primary Node, the one without the hardlink flag', () => {
    const t = { mtimeSec: 1000 }
    const shared = makeInode(S_IFREG | 0o644, { ...t, nlink: 2, size: 3, inline: Buffer.from('abc') })
    const first: Node = { name: 'a', inode: shared }
    const last: Node = { name: 'c', inode: shared }
    const manifest = finalizeTree({
      root: { name: '', inode: makeInode(S_IFDIR | 0o755, t), children: [first, { name: 'b', inode: makeInode(S_IFREG | 0o600, t) }, last] },
    })
    const byDefault = Buffer.from(writeErofs(manifest))
    last.hardlink = true
    expect(Buffer.from(writeErofs(manifest))).toEqual(byDefault)
    // with /c as the primary the inode comes after /b in breadth-first order
    delete last.hardlink
    first.hardlink = true
    const cFirst = Buffer.from(writeErofs(manifest))
    expect(cFirst).not.toEqual(byDefault)
    // normalizing keeps that primary (and the image), and clears the flags when the primary is the first Node
    expect(Buffer.from(writeErofs(normalizeHardlinks(manifest)))).toEqual(cFirst)
    expect([first.hardlink, last.hardlink]).toEqual([true, undefined])
    delete first.hardlink
    last.hardlink = true
    expect(Buffer.from(writeErofs(normalizeHardlinks(manifest)))).toEqual(byDefault)
    expect([first.hardlink, last.hardlink]).toEqual([undefined, undefined])
  })

  it('refuses an inode whose every Node is flagged as a hardlink', () => {
    const { manifest, link } = ex2()
    const big = manifest.root.children![1]!.children!.find(n => n.name === 'big')!
    link.hardlink = true
    big.hardlink = true
    expect(() => writeErofs(manifest)).toThrow(expect.objectContaining({ code: 'ERR_CFS_TREE_INVALID' }))
  })
})
