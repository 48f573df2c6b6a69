/**
 * Mounts a tree holding every entry kind with the real kernel (erofs + overlayfs) and compares what lstat,
 * readdir, readlink, getfattr and read see with the model, attribute for attribute. Needs root and a kernel with
 * erofs and overlay; skips with the reason otherwise.
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { encodeManifest, finalizeTree, makeInode, manifestDigest, S_IFDIR, S_IFREG } from '@cfs/manifest'
import { Store } from '@cfs/store'
import { isKernelMount, mountKernel, unmountKernel, type KernelMount } from '../src/index.js'
import { cleanDir, expectCleanAndRemove, kernelSkipReason, loopsUnder, mountsUnder, sweep } from './kernel-env.js'
import { richTree, type RichTree } from './rich-tree.js'
import { compareWithModel, xattrsOfPaths } from './compare-mount.js'

const reason = kernelSkipReason()
const maybe = reason === undefined ? describe : describe.skip
if (reason !== undefined) console.log(`kernel mount tests skipped: ${reason}`)

maybe('mountKernel on a tree with every entry kind', () => {
  let dir: string
  let store: Store
  let tree: RichTree
  let mnt: string
  let km: KernelMount | undefined
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-'))
    store = await Store.open(path.join(dir, 'store'), { create: true })
    tree = await richTree(store)
    mnt = path.join(dir, 'mnt')
    fs.mkdirSync(mnt)
    km = await mountKernel({ manifest: tree.manifest, mountpoint: mnt, storeDir: store.root, runDir: path.join(dir, 'run') })
  })
  afterAll(async () => {
    try {
      if (km !== undefined && isKernelMount(mnt)) await unmountKernel(mnt)
      expect(isKernelMount(mnt)).toBe(false)
      expect(loopsUnder(dir)).toEqual([])
      expect(mountsUnder(dir)).toEqual([])
      expect(fs.readdirSync(path.join(dir, 'run'))).toEqual([])
    } finally {
      await sweep(dir)
      cleanDir(dir)
    }
  })

  it('is a composefs overlay over the store objects, with the EROFS layer detached', () => {
    expect(isKernelMount(mnt)).toBe(true)
    expect(km!.imageReused).toBe(false)
    expect(km!.image).toBe(path.join(store.root, 'erofs-cache', `${manifestDigest(encodeManifest(tree.manifest)).slice(7)}.v1.img`))
    const line = fs.readFileSync('/proc/self/mountinfo', 'latin1').split('\n').find(l => l.split(' ')[4] === mnt)!
    expect(line).toMatch(/ - overlay composefs ro,lowerdir=[^,]*::[^,]*\/store\/objects,redirect_dir=on,metacopy=on$/)
    expect(loopsUnder(dir)).toEqual([expect.stringContaining(`${km!.loopDevice}: `)])
    expect(mountsUnder(dir)).toEqual([mnt]) // the private EROFS mount is gone from the table
  })

  it('shows every entry with the attributes, xattrs and content of the model', async () => {
    expect(await compareWithModel(mnt, tree.manifest, tree.content)).toEqual([])
  })

  it('would notice a model that differs from the mount', async () => {
    const hosts = tree.manifest.root.children!.find(c => c.name === 'etc')!.children!.find(c => c.name === 'hosts')!
    hosts.inode.uid += 1
    try {
      expect(await compareWithModel(mnt, tree.manifest, tree.content)).toEqual(['"/etc/hosts": uid 0, model 1'])
    } finally {
      hosts.inode.uid -= 1
    }
  })

  it('reuses the cached image for a second mount of the same manifest', async () => {
    const mnt2 = path.join(dir, 'mnt2')
    fs.mkdirSync(mnt2)
    const second = await mountKernel({ manifest: tree.manifest, mountpoint: mnt2, storeDir: store.root, runDir: path.join(dir, 'run') })
    try {
      expect(second.imageReused).toBe(true)
      expect(second.image).toBe(km!.image)
      expect(fs.readdirSync(path.dirname(km!.image))).toEqual([path.basename(km!.image)]) // no temp files left
      expect(fs.readFileSync(path.join(mnt2, 'etc/hosts'), 'latin1')).toBe('127.0.0.1 localhost\n')
    } finally {
      await unmountKernel(mnt2)
    }
    expect(isKernelMount(mnt2)).toBe(false)
    expect(isKernelMount(mnt)).toBe(true)
    expect(loopsUnder(dir)).toEqual([expect.stringContaining(`${km!.loopDevice}: `)])
    expect(fs.readFileSync(path.join(mnt, 'etc/hosts'), 'latin1')).toBe('127.0.0.1 localhost\n')
  })
})

maybe('mountKernel with verity', () => {
  let dir: string
  afterAll(async () => { await expectCleanAndRemove(dir) })

  it('mounts, but refuses to read an external file whose object has no fs-verity (EIO)', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-'))
    const store = await Store.open(path.join(dir, 'store'), { create: true })
    const tree = await richTree(store)
    const mnt = path.join(dir, 'mnt')
    fs.mkdirSync(mnt)
    const km = await mountKernel({ manifest: tree.manifest, mountpoint: mnt, storeDir: store.root, runDir: path.join(dir, 'run'), verity: true })
    try {
      expect(km.verity).toBe(true)
      const line = fs.readFileSync('/proc/self/mountinfo', 'latin1').split('\n').find(l => l.split(' ')[4] === mnt)!
      expect(line).toContain('verity=require')
      expect(fs.lstatSync(path.join(mnt, 'etc/big')).size).toBe(100000)
      expect(() => fs.readFileSync(path.join(mnt, 'etc/big'))).toThrow(expect.objectContaining({ code: 'EIO' }))
      // inline content lives in the image itself, so verity does not apply
      expect(fs.readFileSync(path.join(mnt, 'etc/hosts'), 'latin1')).toBe('127.0.0.1 localhost\n')
    } finally {
      await unmountKernel(mnt)
    }
  })
})

maybe('mountKernel on an image with POSIX ACLs', () => {
  let dir: string
  afterAll(async () => { await expectCleanAndRemove(dir) })

  it('mounts the EROFS layer with ACLs on, so they show through the overlay', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-'))
    const store = await Store.open(path.join(dir, 'store'), { create: true })
    // user::rwx user:1234:r-x group::r-x mask::rwx other::r-- (ACL xattr v2: tag u16, perm u16, id u32)
    const acl = Buffer.from('02000000' + '01000700ffffffff' + '02000500d2040000' + '04000500ffffffff' + '10000700ffffffff' + '20000400ffffffff', 'hex')
    const dflt = Buffer.from('02000000' + '01000700ffffffff' + '04000500ffffffff' + '20000000ffffffff', 'hex')
    const manifest = finalizeTree({
      root: {
        name: '', inode: makeInode(S_IFDIR | 0o755),
        children: [{
          name: 'shared', inode: makeInode(S_IFDIR | 0o775, { xattrs: [{ key: 'system.posix_acl_default', value: dflt }] }),
          children: [{ name: 'f', inode: makeInode(S_IFREG | 0o674, { size: 2, inline: Buffer.from('hi'), xattrs: [{ key: 'system.posix_acl_access', value: acl }] }) }],
        }],
      },
    })
    const manifestPath = path.join(dir, 'acl.cfsm')
    fs.writeFileSync(manifestPath, encodeManifest(manifest))
    const mnt = path.join(dir, 'mnt')
    fs.mkdirSync(mnt)
    await mountKernel({ manifestPath, mountpoint: mnt, storeDir: store.root, runDir: path.join(dir, 'run') })
    try {
      const seen = await xattrsOfPaths([path.join(mnt, 'shared'), path.join(mnt, 'shared/f')])
      expect(seen.get(path.join(mnt, 'shared'))).toEqual({ 'system.posix_acl_default': dflt.toString('hex') })
      expect(seen.get(path.join(mnt, 'shared/f'))).toEqual({ 'system.posix_acl_access': acl.toString('hex') })
    } finally {
      await unmountKernel(mnt)
    }
  })
})
