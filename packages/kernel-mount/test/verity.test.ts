/**
 * `verity: true` on a kernel with fs-verity: the store lives on an ext4 image made with `-O verity`, objects are
 * sealed with `fsverity enable`, and overlayfs then checks each object's measured digest against the one in the
 * image. A sealed object reads; an object sealed over different bytes (tampered) fails with EIO. Kernels without
 * fs-verity skip, with the answer of FS_IOC_ENABLE_VERITY as the reason.
 */
import { execFileSync } from 'node:child_process'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { finalizeTree, makeInode, objectPathOf, S_IFDIR, S_IFREG } from '@cfs/manifest'
import { fsverityDigest } from '@cfs/digest'
import { Store } from '@cfs/store'
import { mountKernel, unmountKernel } from '../src/index.js'
import { exec, expectCleanAndRemove, kernelSkipReason } from './kernel-env.js'

/** Makes a verity-capable ext4 image in `dir`, mounts it on `dir/ext4` and returns that path. */
function mountVerityExt4 (dir: string): string {
  const img = path.join(dir, 'ext4.img')
  const mnt = path.join(dir, 'ext4')
  fs.mkdirSync(mnt)
  fs.writeFileSync(img, '')
  fs.truncateSync(img, 64 << 20)
  execFileSync('mkfs.ext4', ['-q', '-O', 'verity', img], { stdio: 'pipe' })
  execFileSync('mount', ['-o', 'loop', img, mnt], { stdio: 'pipe' })
  return mnt
}

function fsverityEnable (file: string): void {
  execFileSync('fsverity', ['enable', file], { stdio: 'pipe' })
}

/** Tries `fsverity enable` on a file of a fresh verity ext4 image; undefined when it works. */
function verityUnsupportedReason (): string | undefined {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-'))
  let mnt: string | undefined
  try {
    mnt = mountVerityExt4(dir)
    fs.writeFileSync(path.join(mnt, 'probe'), 'probe')
    fsverityEnable(path.join(mnt, 'probe'))
    return undefined
  } catch (err) {
    const stderr = String((err as { stderr?: Buffer }).stderr ?? (err as Error).message).trim()
    const m = /FS_IOC_ENABLE_VERITY failed on '[^']*': (.*)$/m.exec(stderr)
    return m !== null ? `this kernel has no fs-verity: FS_IOC_ENABLE_VERITY answers ${m[1]}` : `cannot try fs-verity: ${stderr.split('\n')[0]}`
  } finally {
    if (mnt !== undefined) try { execFileSync('umount', [mnt]) } catch { /* not mounted */ }
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

const reason = kernelSkipReason() ?? verityUnsupportedReason()
const maybe = reason === undefined ? describe : describe.skip
if (reason !== undefined) console.log(`fs-verity mount test skipped: ${reason}`)

maybe('mountKernel with verity on a store with fs-verity', () => {
  let dir: string
  afterAll(async () => { await expectCleanAndRemove(dir) })

  it('reads a sealed object and refuses one whose measured digest differs (EIO)', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-'))
    const ext4 = mountVerityExt4(dir)
    try {
      const store = await Store.open(path.join(ext4, 'store'), { create: true })
      const good = crypto.randomBytes(50000)
      const { digest: goodDigest } = await store.writeObject(good)
      fsverityEnable(store.objectPath(goodDigest))
      // the tampered object sits under the digest of `claimed` but holds other bytes, sealed as they are
      const claimed = crypto.randomBytes(50000)
      const claimedDigest = fsverityDigest(claimed)
      const tampered = store.objectPath(claimedDigest)
      fs.mkdirSync(path.dirname(tampered), { recursive: true })
      fs.writeFileSync(tampered, crypto.randomBytes(50000))
      fsverityEnable(tampered)
      const file = (digest: Uint8Array): ReturnType<typeof makeInode> =>
        makeInode(S_IFREG | 0o644, { size: 50000, digest, payload: objectPathOf(digest) })
      const manifest = finalizeTree({
        root: { name: '', inode: makeInode(S_IFDIR | 0o755), children: [{ name: 'good', inode: file(goodDigest) }, { name: 'bad', inode: file(claimedDigest) }] },
      })
      const mnt = path.join(dir, 'mnt')
      fs.mkdirSync(mnt)
      await mountKernel({ manifest, mountpoint: mnt, storeDir: store.root, runDir: path.join(dir, 'run'), verity: true })
      try {
        expect(fs.readFileSync(path.join(mnt, 'good')).equals(good)).toBe(true)
        expect(() => fs.readFileSync(path.join(mnt, 'bad'))).toThrow(expect.objectContaining({ code: 'EIO' }))
      } finally {
        await unmountKernel(mnt)
      }
    } finally {
      await exec('umount', [ext4])
    }
  })
})
