import { execFileSync } from 'node:child_process'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import * as zlib from 'node:zlib'
import { fixturePath } from '@cfs/fixtures'
import { fsverityDigest } from '@cfs/digest'
import { decodeManifest, encodeManifest, INLINE_MAX, objectPathOf, walkDepthFirst, isRegular } from '@cfs/manifest'
import { Store } from '@cfs/store'
import { parsePlatform } from '@cfs/oci'
import { encodeTar } from '@cfs/tar'
import { buildImage } from '../src/build-image.js'
import { flatten, type Expected } from './flatten.js'

let tmp: string
beforeEach(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-')) })
afterEach(() => { fs.rmSync(tmp, { recursive: true, force: true }) })

const expected = (name: string): Expected => JSON.parse(fs.readFileSync(fixturePath(`images/${name}.expected.json`), 'utf8')) as Expected

const IMAGES = ['docker-archive.tar', 'oci-archive.tar', 'oci-layout', 'multi-platform.tar', 'layer.tar', 'layer.tar.gz', 'layer.tar.zst']

describe('buildImage on the fixture images', () => {
  it.each(IMAGES)('%s gives the expected tree, with every object stored under its fs-verity digest', async (name) => {
    const store = await Store.open(path.join(tmp, 'store'), { create: true })
    const r = await buildImage(fixturePath(`images/${name}`), { store, writer: { workers: 2 } })
    expect(flatten(r.manifest, store.objectsDir)).toEqual(expected(name))
    walkDepthFirst(r.manifest, (_p, node) => {
      const i = node.inode
      if (!isRegular(i)) return
      if (i.size === 0) expect(i.inline ?? i.digest).toBeUndefined()
      else if (i.size <= INLINE_MAX) expect(i.inline).toHaveLength(i.size)
      else {
        expect(i.inline).toBeUndefined()
        expect(i.payload).toBe(objectPathOf(i.digest!))
        expect(fsverityDigest(fs.readFileSync(path.join(store.objectsDir, i.payload!))).equals(Buffer.from(i.digest!))).toBe(true)
      }
    })
    expect(await store.listImages()).toEqual([r.digest])
    expect(Buffer.from(fs.readFileSync(store.imagePath(r.digest))).equals(Buffer.from(r.bytes))).toBe(true)
    expect(fs.readdirSync(store.tmpDir)).toEqual([])
    expect(fs.readdirSync(store.leasesDir)).toEqual([])
  })

  it('stores the same objects and manifest whether the workers or the calling thread hash the objects', async () => {
    // objects of several 1 MiB pieces too, one of them twice
    const big = crypto.randomBytes(2_500_000)
    fs.writeFileSync(path.join(tmp, 'big.tar'), encodeTar([
      { path: 'small', type: 'file', content: crypto.randomBytes(100) },
      { path: 'mid', type: 'file', content: crypto.randomBytes(200_000) },
      { path: 'big', type: 'file', content: big },
      { path: 'big-again', type: 'file', content: big },
      { path: 'exactly-1mib', type: 'file', content: crypto.randomBytes(1 << 20) },
    ]))
    for (const input of [fixturePath('images/docker-archive.tar'), fixturePath('images/layer.tar.gz'), path.join(tmp, 'big.tar')]) {
      const name = path.basename(input)
      const byWorkers = await Store.open(path.join(tmp, `w-${name}`), { create: true })
      const byCaller = await Store.open(path.join(tmp, `c-${name}`), { create: true })
      const a = await buildImage(input, { store: byWorkers, writer: { callerHashesAbove: Infinity } })
      const b = await buildImage(input, { store: byCaller, writer: { callerHashesAbove: 0 } })
      expect(b.digest).toBe(a.digest)
      expect(b.stats.objectsNew).toBe(a.stats.objectsNew)
      const objects = (store: Store): string[] => fs.readdirSync(store.objectsDir, { recursive: true }).map(String).filter(f => f.length > 2).sort()
      expect(objects(byCaller)).toEqual(objects(byWorkers))
      for (const f of objects(byCaller)) {
        expect(fsverityDigest(fs.readFileSync(path.join(byCaller.objectsDir, f))).toString('hex')).toBe(f.replace('/', ''))
      }
      // again into the same store: every object is found by the caller's digest, none written
      const again = await buildImage(input, { store: byCaller, writer: { callerHashesAbove: 0 } })
      expect([again.digest, again.stats.objectsNew, again.stats.objectsReused]).toEqual([a.digest, 0, a.stats.objectsNew + a.stats.objectsReused])
      expect(fs.readdirSync(byCaller.tmpDir)).toEqual([])
    }
  })

  it('gives the same manifest bytes whatever the format, store state, timezone or locale', async () => {
    const a = await buildImage(fixturePath('images/docker-archive.tar'), { store: await Store.open(path.join(tmp, 'a'), { create: true }) })
    const storeB = await Store.open(path.join(tmp, 'b'), { create: true })
    await buildImage(fixturePath('images/layer.tar'), { store: storeB })
    const tz = process.env.TZ
    process.env.TZ = 'Pacific/Kiritimati'
    try {
      const b = await buildImage(fixturePath('images/oci-archive.tar'), { store: storeB, writer: { workers: 1 } })
      const c = await buildImage(fixturePath('images/oci-layout'), { store: storeB, writer: { workers: 3 } })
      expect(Buffer.from(b.bytes).equals(Buffer.from(a.bytes))).toBe(true)
      expect(c.digest).toBe(a.digest)
      expect(Buffer.from(encodeManifest(decodeManifest(a.bytes))).equals(Buffer.from(a.bytes))).toBe(true)
    } finally { if (tz === undefined) delete process.env.TZ; else process.env.TZ = tz }
  })

  it('reuses objects already in the store and counts them', async () => {
    const store = await Store.open(path.join(tmp, 'store'), { create: true })
    const first = await buildImage(fixturePath('images/layer.tar'), { store })
    expect(first.stats.objectsNew).toBeGreaterThan(0)
    const mtimes = fs.readdirSync(store.objectsDir, { recursive: true }).map(String).sort()
      .map(f => [f, fs.statSync(path.join(store.objectsDir, f)).mtimeMs])
    const second = await buildImage(fixturePath('images/layer.tar.zst'), { store })
    expect(second.stats.objectsNew).toBe(0)
    expect(second.stats.objectsReused).toBe(first.stats.objectsNew + first.stats.objectsReused)
    expect(fs.readdirSync(store.objectsDir, { recursive: true }).map(String).sort()
      .map(f => [f, fs.statSync(path.join(store.objectsDir, f)).mtimeMs])).toEqual(mtimes)
  })

  it('picks the platform asked for from a multi-platform index', async () => {
    const store = await Store.open(path.join(tmp, 'store'), { create: true })
    const r = await buildImage(fixturePath('images/multi-platform.tar'), { store, platform: parsePlatform('linux/arm64') })
    expect(r.platform).toBe('linux/arm64/v8')
    expect(flatten(r.manifest, store.objectsDir)).toEqual(expected('multi-platform.tar.linux-arm64'))
    await expect(buildImage(fixturePath('images/multi-platform.tar'), { store, platform: parsePlatform('linux/s390x') }))
      .rejects.toMatchObject({ code: 'ERR_CFS_PLATFORM_NOT_FOUND' })
  })

  it('reads a layer from a stream', async () => {
    const store = await Store.open(path.join(tmp, 'store'), { create: true })
    const r = await buildImage(fs.createReadStream(fixturePath('images/layer.tar.gz'), { highWaterMark: 777 }), { store })
    expect(flatten(r.manifest, store.objectsDir)).toEqual(expected('layer.tar'))
  })

  it('spools an archive read from a stream', async () => {
    const store = await Store.open(path.join(tmp, 'store'), { create: true })
    const r = await buildImage(fs.createReadStream(fixturePath('images/docker-archive.tar')), { store })
    expect(r.format).toBe('docker-archive')
    expect(flatten(r.manifest, store.objectsDir)).toEqual(expected('docker-archive.tar'))
    expect(fs.readdirSync(store.tmpDir)).toEqual([])
  })

  it('spools a gzip-compressed archive read from a stream (docker save | gzip)', async () => {
    const store = await Store.open(path.join(tmp, 'store'), { create: true })
    const gz = zlib.gzipSync(fs.readFileSync(fixturePath('images/docker-archive.tar')))
    const r = await buildImage((async function * () { yield gz.subarray(0, 100); yield gz.subarray(100) })(), { store })
    expect(r.format).toBe('docker-archive')
    expect(flatten(r.manifest, store.objectsDir)).toEqual(expected('docker-archive.tar'))
  })

  it.each([
    ['bad-digest.tar', 'ERR_CFS_BLOB_DIGEST_MISMATCH'],
    ['escape.tar', 'ERR_CFS_BAD_PATH'],
    ['truncated.tar', 'ERR_CFS_TAR_TRUNCATED'],
    ['not-an-image.txt', 'ERR_CFS_IMAGE_UNKNOWN_FORMAT'],
  ])('rejects %s with %s and registers no image', async (name, code) => {
    const store = await Store.open(path.join(tmp, 'store'), { create: true })
    await expect(buildImage(fixturePath(`images/${name}`), { store })).rejects.toMatchObject({ code })
    expect(await store.listImages()).toEqual([])
    expect(fs.readdirSync(store.leasesDir)).toEqual([])
  })

  it('leaves no temp file in the store when a layer fails inside a large object', async () => {
    const store = await Store.open(path.join(tmp, 'store'), { create: true })
    const tar = encodeTar([{ path: 'big', type: 'file', content: Buffer.alloc(3 << 20, 7) }])
    // a stream that stops inside the object once a worker has started writing it
    async function * cut (): AsyncGenerator<Uint8Array> {
      for (let off = 0; off < (5 << 20) / 2; off += 1 << 16) yield tar.subarray(off, off + (1 << 16))
      for (let i = 0; i < 500 && fs.readdirSync(store.tmpDir).length === 0; i++) await new Promise(resolve => setTimeout(resolve, 10))
      expect(fs.readdirSync(store.tmpDir)).toHaveLength(1)
    }
    await expect(buildImage(cut(), { store })).rejects.toMatchObject({ code: 'ERR_CFS_TAR_TRUNCATED' })
    expect(fs.readdirSync(store.tmpDir)).toEqual([])
  })

  it('gives entries with the same xattrs one shared array', async () => {
    const store = await Store.open(path.join(tmp, 'store'), { create: true })
    const label = (t: string): Array<{ key: string, value: Buffer }> => [{ key: 'security.selinux', value: Buffer.from(`system_u:object_r:${t}_t:s0\0`) }]
    const tar = encodeTar([
      { path: 'etc/', type: 'dir', xattrs: label('etc') },
      { path: 'etc/a', type: 'file', content: Buffer.from('a'), xattrs: label('etc') },
      { path: 'etc/b', type: 'file', content: Buffer.from('b'), xattrs: [...label('etc'), { key: 'user.x', value: Buffer.from('1') }] },
      { path: 'etc/c', type: 'file', content: Buffer.from('c'), xattrs: label('bin') },
      { path: 'etc/d', type: 'file', content: Buffer.from('d'), xattrs: label('etc') },
    ])
    const { manifest } = await buildImage((async function * () { yield tar })(), { store })
    const xattrs = new Map<string, unknown>()
    walkDepthFirst(manifest, (p, n) => { xattrs.set(p, n.inode.xattrs) })
    expect(xattrs.get('/etc/a')).toBe(xattrs.get('/etc'))
    expect(xattrs.get('/etc/d')).toBe(xattrs.get('/etc'))
    expect(xattrs.get('/etc/b')).not.toBe(xattrs.get('/etc'))
    expect(xattrs.get('/etc/c')).not.toBe(xattrs.get('/etc'))
    expect(flatten(manifest, store.objectsDir).entries['/etc/b']!.xattrs).toEqual({ 'security.selinux': Buffer.from('system_u:object_r:etc_t:s0\0').toString('hex'), 'user.x': '31' })
  })

  it('names the blob whose digest does not match', async () => {
    const store = await Store.open(path.join(tmp, 'store'), { create: true })
    await expect(buildImage(fixturePath('images/bad-digest.tar'), { store })).rejects.toThrow(/blob sha256:[0-9a-f]{64} has digest/)
  })
})

describe('buildImage on a directory', () => {
  it('reads back the tree GNU tar extracted from layer.tar: hardlinks, devices, xattrs, odd names', async () => {
    const root = path.join(tmp, 'rootfs')
    fs.mkdirSync(root)
    execFileSync('tar', ['--xattrs', '--xattrs-include=*', '--numeric-owner', '-xpf', fixturePath('images/layer.tar'), '-C', root], { stdio: 'pipe' })
    const store = await Store.open(path.join(tmp, 'store'), { create: true })
    const r = await buildImage(root, { store })
    expect(r.format).toBe('directory')
    const got = flatten(r.manifest, store.objectsDir)
    const want = expected('layer.tar')
    delete (got.entries as Record<string, unknown>)['/']
    delete (want.entries as Record<string, unknown>)['/']
    // directories tar created implicitly get the time of extraction, GNU tar links bin/link after restoring the
    // time of bin/, and a kernel without SELinux drops that label
    for (const p of ['/implicit', '/implicit/parent', '/bin']) { got.entries[p]!.mtime = want.entries[p]!.mtime = '-' }
    for (const e of Object.values(want.entries)) {
      if (e.xattrs?.['security.selinux'] !== undefined && got.entries[Object.keys(want.entries).find(k => want.entries[k] === e)!]?.xattrs?.['security.selinux'] === undefined) {
        delete e.xattrs['security.selinux']
      }
    }
    expect(got).toEqual(want)
  })

  it('leaves out excluded paths', async () => {
    const root = path.join(tmp, 'rootfs')
    fs.mkdirSync(path.join(root, 'var/cache/apt'), { recursive: true })
    fs.writeFileSync(path.join(root, 'var/cache/apt/pkg'), 'x'.repeat(100))
    fs.writeFileSync(path.join(root, 'var/keep'), 'k')
    fs.writeFileSync(path.join(root, 'a.log'), 'log')
    const store = await Store.open(path.join(tmp, 'store'), { create: true })
    const r = await buildImage(root, { store, exclude: ['var/cache/*', '*.log'] })
    expect(Object.keys(flatten(r.manifest, store.objectsDir).entries)).toEqual(['/', '/var', '/var/cache', '/var/keep'])
    const all = await buildImage(root, { store, exclude: ['var/cache/**'] })
    expect(Object.keys(flatten(all.manifest, store.objectsDir).entries)).toEqual(['/', '/a.log', '/var', '/var/keep'])
  })
})
