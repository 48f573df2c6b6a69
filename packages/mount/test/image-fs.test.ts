import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { Errno, ROOT_ID, type FuseAttr } from '@cfs/fuse'
import { makeInode, S_IFDIR, S_IFREG, type Node } from '@cfs/manifest'
import { ImageFs } from '../src/image-fs.js'
import { bytesOf, makeSampleImage, type SampleImage } from './sample-image.js'

const newAttr = (): FuseAttr => ({ ino: 0, size: 0, blocks: 0, mtimeSec: 0, mtimeNsec: 0, mode: 0, nlink: 0, uid: 0, gid: 0, rdev: 0 })

describe('ImageFs', () => {
  let dir: string
  let image: SampleImage
  let fsys: ImageFs
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-'))
    image = await makeSampleImage(dir, async (root, store) => {
      root.push({ name: 'escape', inode: makeInode(S_IFREG | 0o644, { size: 6, payload: '../../../etc/hostname' }) })
      const objects: Node[] = []
      for (let i = 0; i < 300; i++) {
        const content = bytesOf(1000 + i, 100)
        objects.push({ name: `o${i}`, inode: makeInode(S_IFREG | 0o644, { size: 100, digest: (await store.writeObject(content)).digest }) })
      }
      root.push({ name: 'objects', inode: makeInode(S_IFDIR | 0o755), children: objects })
    })
    fsys = new ImageFs(image.manifest, { objectsDir: fs.realpathSync(image.store.objectsDir) })
  })
  afterAll(() => { fs.rmSync(dir, { recursive: true, force: true }) })

  const lookupPath = (p: string): number => p.split('/').filter(Boolean).reduce((node, name) => fsys.lookup(node, name), ROOT_ID)

  it('gives hardlinks one node id and absent names 0', () => {
    expect(lookupPath('link-a')).toBe(lookupPath('sticky/link-b'))
    expect(lookupPath('nothing')).toBe(0)
    expect(fsys.lookup(lookupPath('big.bin'), 'x')).toBe(-Errno.ENOTDIR)
  })

  it('lists a directory in name order with its parent', () => {
    const sticky = lookupPath('sticky')
    const listing = fsys.readdir(sticky)
    if (typeof listing === 'number') throw new Error('not a directory')
    expect(listing.names).toEqual(['deep', 'link-b'])
    expect(listing.parent).toBe(ROOT_ID)
    expect(fsys.readdir(lookupPath('big.bin'))).toBe(Errno.ENOTDIR)
  })

  it('reads ranges of external and inline files, short at the end', () => {
    const big = image.contents.get('/big.bin')!
    const node = lookupPath('big.bin')
    const buf = Buffer.alloc(10000)
    expect(fsys.read(node, buf, 100, 5000, big.length - 3000)).toBe(3000)
    expect(buf.subarray(100, 3100).equals(big.subarray(big.length - 3000))).toBe(true)
    expect(fsys.read(node, buf, 0, 10, big.length + 5)).toBe(0)
    expect(fsys.read(lookupPath('inline.txt'), buf, 0, 100, 2)).toBe(4)
    expect(buf.subarray(0, 4).toString()).toBe('all\n')
  })

  it('keeps reading correctly when more objects are read than descriptors are kept', () => {
    const buf = Buffer.alloc(2)
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 300; i++) {
        const p = `/objects/o${i}`
        expect(fsys.read(lookupPath(p), buf, 0, 2, 98)).toBe(2)
        expect(buf.equals(image.contents.get(p)!.subarray(98))).toBe(true)
      }
    }
  })

  it('refuses a payload that leaves the store, and reading a directory', () => {
    expect(fsys.read(lookupPath('escape'), Buffer.alloc(10), 0, 6, 0)).toBe(-Errno.EIO)
    expect(fsys.read(ROOT_ID, Buffer.alloc(10), 0, 6, 0)).toBe(-Errno.EISDIR)
  })

  it('answers xattrs by name, ENODATA for a used namespace and EOPNOTSUPP for an unused one', () => {
    const node = lookupPath('xattrs')
    expect(fsys.listxattr(node).split('\0').filter(Boolean)).toEqual(['security.cfs-test', 'trusted.overlay.test', 'user.binary', 'user.empty', 'user.plain'])
    expect(Buffer.from(fsys.getxattr(node, 'user.binary') as Uint8Array)).toEqual(Buffer.from([0, 1, 2, 255]))
    expect(fsys.getxattr(node, 'user.nope')).toBe(Errno.ENODATA)
    expect(fsys.getxattr(node, 'system.posix_acl_access')).toBe(Errno.EOPNOTSUPP)
  })

  it('reports the symlink target length as size and the composefs directory size', () => {
    const attr = newAttr()
    expect(fsys.getattr(lookupPath('symlink'), attr)).toBe(0)
    expect(attr.size).toBe('big.bin'.length)
    expect(fsys.getattr(lookupPath('many'), attr)).toBe(0)
    expect(attr.mode).toBe(S_IFDIR | 0o755)
    expect(attr.size).toBeGreaterThan(4096)
    expect(attr.nlink).toBe(2)
  })
})
