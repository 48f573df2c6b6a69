/**
 * The failures of mountKernel and unmountKernel, each triggered for real: bad mountpoints, a store path overlay
 * options cannot carry, a corrupt cached image, a busy mount, not being root. After each, nothing of ours stays
 * mounted or attached.
 */
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { finalizeTree, makeInode, S_IFDIR, S_IFREG, type Manifest } from '@cfs/manifest'
import { Store } from '@cfs/store'
import { checkKernelSupport, ensureImage, isKernelMount, mountKernel, unmountKernel } from '../src/index.js'
import { cleanDir, exec, kernelSkipReason, loopsUnder, mountsUnder, sweep } from './kernel-env.js'

const reason = kernelSkipReason()
const maybe = reason === undefined ? describe : describe.skip
if (reason !== undefined) console.log(`kernel mount error tests skipped: ${reason}`)

const small = (): Manifest => finalizeTree({
  root: { name: '', inode: makeInode(S_IFDIR | 0o755), children: [{ name: 'a', inode: makeInode(S_IFREG | 0o644, { size: 2, inline: Buffer.from('hi') }) }] },
})

maybe('mountKernel and unmountKernel failures', () => {
  let dir: string
  let store: Store
  let run: string
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-'))
    store = await Store.open(path.join(dir, 'store'), { create: true })
    run = path.join(dir, 'run')
  })
  afterEach(() => {
    expect(loopsUnder(dir)).toEqual([])
    expect(mountsUnder(dir)).toEqual([])
  })
  afterAll(async () => {
    await sweep(dir)
    cleanDir(dir)
  })
  const mountAt = async (mountpoint: string, extra: { storeDir?: string } = {}): Promise<unknown> =>
    await mountKernel({ manifest: small(), mountpoint, storeDir: store.root, runDir: run, ...extra })

  it('refuses a missing mountpoint', async () => {
    await expect(mountAt(path.join(dir, 'nope'))).rejects.toMatchObject({ code: 'ERR_CFS_FILE_NOT_FOUND' })
  })

  it('refuses a mountpoint that is not a directory', async () => {
    fs.writeFileSync(path.join(dir, 'file'), '')
    await expect(mountAt(path.join(dir, 'file'))).rejects.toMatchObject({ code: 'ERR_CFS_USAGE' })
  })

  it('refuses a mountpoint that is already mounted, and leaves that mount alone', async () => {
    const mp = fs.mkdtempSync(path.join(dir, 'busy-'))
    await exec('mount', ['-t', 'tmpfs', 'cfs-test', mp])
    try {
      await expect(mountAt(mp)).rejects.toMatchObject({ code: 'ERR_CFS_MOUNTPOINT_BUSY' })
      await expect(unmountKernel(mp)).rejects.toMatchObject({ code: 'ERR_CFS_NOT_MOUNTED' })
      expect(mountsUnder(dir)).toEqual([mp])
    } finally {
      await exec('umount', [mp])
    }
  })

  it('refuses a store whose path has a comma or colon', async () => {
    for (const name of ['st,ore', 'st:ore']) {
      const odd = await Store.open(path.join(dir, name), { create: true })
      const mp = fs.mkdtempSync(path.join(dir, 'mnt-'))
      await expect(mountAt(mp, { storeDir: odd.root })).rejects.toMatchObject({ code: 'ERR_CFS_USAGE' })
    }
  })

  it('refuses a directory that is not a store', async () => {
    await expect(mountAt(fs.mkdtempSync(path.join(dir, 'mnt-')), { storeDir: path.join(dir, 'run') }))
      .rejects.toMatchObject({ code: 'ERR_CFS_FILE_NOT_FOUND' })
  })

  it("reports mount(8)'s message on one line when the kernel rejects the image, and cleans up", async () => {
    const cacheDir = path.join(dir, 'bad-cache')
    const manifest = small()
    const img = ensureImage({ manifest }, cacheDir)
    const bytes = fs.readFileSync(img.path)
    bytes.fill(0xAB, 1024, 1024 + 128) // keep the composefs header, break the EROFS superblock
    fs.writeFileSync(img.path, bytes)
    const mp = fs.mkdtempSync(path.join(dir, 'mnt-'))
    const err = await mountKernel({ manifest, mountpoint: mp, storeDir: store.root, runDir: run, cacheDir }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'ERR_CFS_MOUNT_FAILED' })
    expect((err as Error).message).toMatch(/^cannot mount EROFS image .*: mount: /)
    expect((err as Error).message).not.toContain('\n')
    expect(fs.readdirSync(run)).toEqual([])
  })

  it('refuses to unmount while a file is open, then unmounts once it is closed', async () => {
    const mp = fs.mkdtempSync(path.join(dir, 'mnt-'))
    await mountAt(mp)
    const fd = fs.openSync(path.join(mp, 'a'), 'r')
    try {
      await expect(unmountKernel(mp)).rejects.toMatchObject({ code: 'ERR_CFS_MOUNTPOINT_BUSY' })
      expect(isKernelMount(mp)).toBe(true)
    } finally {
      fs.closeSync(fd)
    }
    await unmountKernel(mp)
    await expect(unmountKernel(mp)).rejects.toMatchObject({ code: 'ERR_CFS_NOT_MOUNTED' })
  })

  it('detaches at once with lazy, and releases the loop device when the last open file closes', async () => {
    const mp = fs.mkdtempSync(path.join(dir, 'mnt-'))
    await mountAt(mp)
    const fd = fs.openSync(path.join(mp, 'a'), 'r')
    try {
      await unmountKernel(mp, { lazy: true })
      expect(mountsUnder(dir)).toEqual([])
      expect(loopsUnder(dir)).toHaveLength(1)
      expect(fs.readSync(fd, Buffer.alloc(2))).toBe(2)
    } finally {
      fs.closeSync(fd)
    }
    for (let i = 0; i < 100 && loopsUnder(dir).length > 0; i++) await new Promise(resolve => setTimeout(resolve, 20))
    expect(loopsUnder(dir)).toEqual([])
  })

  it('releases the loop device on a plain umount, and the next mount sweeps the state it left', async () => {
    const mp = fs.mkdtempSync(path.join(dir, 'mnt-'))
    await mountAt(mp)
    expect(loopsUnder(dir)).toHaveLength(1)
    await exec('umount', [mp])
    expect(loopsUnder(dir)).toEqual([])
    expect(fs.readdirSync(run)).toHaveLength(1) // the state file of the mount just removed
    const mp2 = fs.mkdtempSync(path.join(dir, 'mnt-'))
    await mountAt(mp2)
    await unmountKernel(mp2)
    expect(fs.readdirSync(run)).toEqual([])
  })

  it('says the kernel lacks erofs when the filesystem table does not list it', () => {
    const table = path.join(dir, 'filesystems')
    fs.writeFileSync(table, 'nodev\tsysfs\nnodev\toverlay\n\text4\n')
    expect(() => checkKernelSupport(table)).toThrow(expect.objectContaining({
      code: 'ERR_CFS_KERNEL_UNSUPPORTED', hint: expect.stringContaining('--backend fuse'),
    }))
  })

  /** Runs `call` (an expression over the module `m`) in a node process as user nobody; returns the error's code and hint. */
  const asNobody = (call: string, env: Record<string, string> = {}): unknown => {
    const entry = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist/index.js')
    const script = `const m = await import(process.env.ENTRY);
      try { await ${call}; console.log('{}') } catch (e) { console.log(JSON.stringify({ code: e.code, hint: e.hint })) }`
    return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script],
      { uid: 65534, gid: 65534, env: { ENTRY: entry, ...env }, cwd: '/', encoding: 'utf8' }))
  }

  it('refuses a user who is not root, pointing at the FUSE backend', () => {
    expect(asNobody("m.mountKernel({ manifestPath: '/none', mountpoint: '/none', storeDir: '/none' })"))
      .toEqual({ code: 'ERR_CFS_PERMISSION', hint: expect.stringContaining('--backend fuse') })
  })

  it('reports a permission error when umount(8) refuses a user who is not root', async () => {
    const mp = fs.mkdtempSync(path.join(dir, 'mnt-'))
    fs.chmodSync(dir, 0o755)
    fs.chmodSync(mp, 0o755)
    await mountAt(mp)
    try {
      expect(asNobody('m.unmountKernel(process.env.MP)', { MP: mp })).toEqual({ code: 'ERR_CFS_PERMISSION', hint: expect.any(String) })
      expect(isKernelMount(mp)).toBe(true)
    } finally {
      await unmountKernel(mp)
      fs.chmodSync(dir, 0o700)
    }
  })
})
