import { execFile, execFileSync } from 'node:child_process'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { promisify } from 'node:util'
import { unmountFuse, findMount } from '@cfs/fuse'
import { directorySize, walkDepthFirst, S_IFMT, S_IFREG, S_IFLNK, makeInode, type Inode } from '@cfs/manifest'
import { mountImage, type MountedImage } from '../src/index.js'
import { bytesOf, fuseSkipReason, makeSampleImage, type SampleImage } from './sample-image.js'

const skip = fuseSkipReason()
if (skip !== undefined) console.log(`skipping FUSE mount tests: ${skip}`)
const describeFuse = skip === undefined ? describe : describe.skip
const run = promisify(execFile)

const at = (mnt: string, p: string): Buffer => Buffer.concat([Buffer.from(mnt), Buffer.from(p, 'latin1')])

/** every xattr of `file` as key → hex, read with getfattr (Node has no xattr API) */
function getfattr (file: string): Map<string, string> {
  const out = execFileSync('getfattr', ['-d', '-m', '-', '-e', 'hex', '--absolute-names', file], { encoding: 'latin1' })
  const map = new Map<string, string>()
  for (const line of out.split('\n')) {
    const m = /^([^#=][^=]*)=(?:0x([0-9a-f]*))?$/.exec(line)
    if (m !== null) map.set(m[1]!, m[2] ?? '')
  }
  return map
}

describeFuse('mountImage', () => {
  let dir: string
  let image: SampleImage
  let mounted: MountedImage | undefined
  let mnt: string

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-'))
    image = await makeSampleImage(dir, async (root) => {
      // an object that was never written: only this file fails
      root.push({ name: 'missing.bin', inode: makeInode(S_IFREG | 0o644, { size: 100, digest: Buffer.alloc(32, 0xab) }) })
    })
    mnt = path.join(dir, 'mnt')
    fs.mkdirSync(mnt)
    mounted = await mountImage({ manifestPath: image.manifestPath, mountpoint: mnt, storeDir: image.storeDir })
  })

  afterAll(async () => {
    try {
      await mounted?.unmount()
    } finally {
      if (findMount(mnt) !== undefined) unmountFuse(mnt)
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it('shows every entry with the metadata of the manifest', () => {
    const inoOf = new Map<Inode, bigint>()
    const seen = new Set<bigint>()
    walkDepthFirst(image.manifest, (p, node) => {
      const inode = node.inode
      const st = fs.lstatSync(at(mnt, p === '/' ? '' : p), { bigint: true })
      const want = (inode.mode & S_IFMT) === 0o040000 ? directorySize(node, p === '/')
        : (inode.mode & S_IFMT) === S_IFLNK ? inode.target!.length : inode.size
      expect({ p, mode: Number(st.mode), uid: Number(st.uid), gid: Number(st.gid), size: Number(st.size), nlink: Number(st.nlink), rdev: Number(st.rdev) })
        .toEqual({ p, mode: inode.mode, uid: inode.uid, gid: inode.gid, size: want, nlink: inode.nlink, rdev: inode.rdev })
      expect(st.mtimeNs).toBe(BigInt(inode.mtimeSec) * 1000000000n + BigInt(inode.mtimeNsec))
      const ino = inoOf.get(inode)
      if (ino === undefined) {
        expect(seen.has(st.ino)).toBe(false)
        seen.add(st.ino)
        inoOf.set(inode, st.ino)
      } else {
        expect(st.ino).toBe(ino) // a hardlink group shares one inode number
      }
      if (node.children !== undefined) {
        const names = fs.readdirSync(at(mnt, p === '/' ? '' : p), { encoding: 'buffer' }).map(b => b.toString('latin1')).sort()
        expect(names).toEqual(node.children.map(c => c.name))
      }
      if ((inode.mode & S_IFMT) === S_IFLNK) expect(fs.readlinkSync(at(mnt, p), { encoding: 'buffer' }).toString('latin1')).toBe(inode.target)
    })
    expect(inoOf.size).toBeGreaterThan(300)
  })

  it('serves every xattr, trusted.* and security.* included', () => {
    walkDepthFirst(image.manifest, (p, node) => {
      if (/[^\x20-\x7e]/.test(p) || node.inode.xattrs.length === 0) return
      const want = new Map(node.inode.xattrs.map(x => [x.key, Buffer.from(x.value).toString('hex')]))
      expect(getfattr(path.join(mnt, p))).toEqual(want)
    })
    expect(getfattr(path.join(mnt, 'xattrs')).get('trusted.overlay.test')).toBe(Buffer.from('y').toString('hex'))
  })

  it('reads every file with the content of its object or inline bytes', () => {
    for (const [p, content] of image.contents) {
      if (p === '/missing.bin') continue
      const got = fs.readFileSync(at(mnt, p))
      expect(crypto.createHash('sha256').update(got).digest('hex')).toBe(crypto.createHash('sha256').update(content).digest('hex'))
    }
  })

  it('reads at random offsets and sizes', () => {
    const content = image.contents.get('/big.bin')!
    const fd = fs.openSync(path.join(mnt, 'big.bin'), 'r')
    try {
      const rnd = bytesOf(9, 400)
      for (let i = 0; i < 100; i++) {
        const pos = rnd.readUInt32LE(i * 4 % 396) % (content.length + 100)
        const len = [1, 4095, 4096, 4097, 65536, 200000, 1 << 20][i % 7]!
        const buf = Buffer.alloc(len)
        const n = fs.readSync(fd, buf, 0, len, pos)
        expect(n).toBe(Math.max(0, Math.min(len, content.length - pos)))
        expect(buf.subarray(0, n).equals(content.subarray(pos, pos + n))).toBe(true)
      }
    } finally { fs.closeSync(fd) }
  })

  it('serves concurrent readers', async () => {
    const files = ['big.bin', 'medium.bin', 'link-a', 'sticky/deep/deeper/leaf.bin', 'inline.txt']
    const jobs = []
    for (let i = 0; i < 4; i++) {
      for (const f of files) {
        jobs.push(run('sha256sum', [path.join(mnt, f)]).then(r => ({ f, hex: r.stdout.split(' ')[0] })))
        jobs.push(fs.promises.readFile(path.join(mnt, f)).then(b => ({ f, hex: crypto.createHash('sha256').update(b).digest('hex') })))
      }
    }
    for (const { f, hex } of await Promise.all(jobs)) {
      expect(hex).toBe(crypto.createHash('sha256').update(image.contents.get('/' + f)!).digest('hex'))
    }
  })

  it('fails only the file whose object is missing, with EIO', () => {
    expect(() => fs.readFileSync(path.join(mnt, 'missing.bin'))).toThrow(expect.objectContaining({ code: 'EIO' }))
    expect(fs.statSync(path.join(mnt, 'missing.bin')).size).toBe(100)
    expect(fs.readFileSync(path.join(mnt, 'medium.bin')).length).toBe(70000)
  })

  it('is read-only', () => {
    expect(() => fs.writeFileSync(path.join(mnt, 'new'), 'x')).toThrow(expect.objectContaining({ code: 'EROFS' }))
    expect(() => fs.unlinkSync(path.join(mnt, 'empty'))).toThrow(expect.objectContaining({ code: 'EROFS' }))
  })

  it('refuses a second mount on the same mount point', async () => {
    await expect(mountImage({ manifestPath: image.manifestPath, mountpoint: mnt, storeDir: image.storeDir }))
      .rejects.toMatchObject({ code: 'ERR_CFS_MOUNT_FAILED' })
  })
})

describeFuse('mountImage --verify', () => {
  it('answers EIO for an object whose bytes no longer match its digest, and serves intact ones', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-'))
    const mnt = path.join(dir, 'mnt')
    fs.mkdirSync(mnt)
    let mounted: MountedImage | undefined
    try {
      const image = await makeSampleImage(dir)
      const tampered = image.store.objectPath((image.manifest.root.children!.find(c => c.name === 'medium.bin')!.inode).digest!)
      const bytes = fs.readFileSync(tampered)
      bytes[40000] = bytes[40000]! ^ 1
      fs.writeFileSync(tampered, bytes)
      mounted = await mountImage({ manifestPath: image.manifestPath, mountpoint: mnt, storeDir: image.storeDir, verify: true })
      expect(() => fs.readFileSync(path.join(mnt, 'medium.bin'))).toThrow(expect.objectContaining({ code: 'EIO' }))
      expect(() => fs.readFileSync(path.join(mnt, 'medium.bin'))).toThrow(expect.objectContaining({ code: 'EIO' }))
      expect(fs.readFileSync(path.join(mnt, 'big.bin')).equals(image.contents.get('/big.bin')!)).toBe(true)
      await mounted.unmount()
      mounted = undefined
      // without --verify the same object is served as it is
      mounted = await mountImage({ manifestPath: image.manifestPath, mountpoint: mnt, storeDir: image.storeDir })
      expect(fs.readFileSync(path.join(mnt, 'medium.bin')).equals(bytes)).toBe(true)
    } finally {
      try { await mounted?.unmount() } finally {
        if (findMount(mnt) !== undefined) unmountFuse(mnt)
        fs.rmSync(dir, { recursive: true, force: true })
      }
    }
  })
})

describe('mountImage preflight', () => {
  let dir: string
  beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-')) })
  afterAll(() => { fs.rmSync(dir, { recursive: true, force: true }) })

  const opts = (over: Record<string, string>): { manifestPath: string, mountpoint: string, storeDir: string } =>
    ({ manifestPath: path.join(dir, 'image.cfsm'), mountpoint: path.join(dir, 'mnt'), storeDir: path.join(dir, 'store'), ...over })

  it('rejects a missing mount point, a file as mount point, a missing store and a bad manifest', async () => {
    if (skip !== undefined) return
    await makeSampleImage(dir)
    fs.mkdirSync(path.join(dir, 'mnt'))
    fs.writeFileSync(path.join(dir, 'file'), '')
    fs.writeFileSync(path.join(dir, 'garbage.cfsm'), 'not a manifest')
    await expect(mountImage(opts({ mountpoint: path.join(dir, 'nope') }))).rejects.toMatchObject({ code: 'ERR_CFS_FILE_NOT_FOUND' })
    await expect(mountImage(opts({ mountpoint: path.join(dir, 'file') }))).rejects.toMatchObject({ code: 'ERR_CFS_MOUNT_FAILED' })
    await expect(mountImage(opts({ storeDir: path.join(dir, 'nostore') }))).rejects.toMatchObject({ code: 'ERR_CFS_FILE_NOT_FOUND' })
    await expect(mountImage(opts({ manifestPath: path.join(dir, 'garbage.cfsm') }))).rejects.toMatchObject({ code: 'ERR_CFS_MANIFEST_CORRUPT' })
    await expect(mountImage(opts({ manifestPath: path.join(dir, 'none.cfsm') }))).rejects.toMatchObject({ code: 'ERR_CFS_FILE_NOT_FOUND' })
    expect(findMount(path.join(dir, 'mnt'))).toBeUndefined()
  })
})
