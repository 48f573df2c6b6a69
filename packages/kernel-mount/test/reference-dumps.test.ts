/**
 * The composefs reference dumps (fixtures/composefs) mounted with the kernel and compared with their parsed model:
 * odd modes, devices, escaped overlay xattrs, a whiteout, long symlinks, huge sizes and a real 8,762-entry tree.
 * External files have no objects here, which stat, readdir and getfattr do not need (overlayfs looks data-only
 * layers up on open). Needs root, erofs and overlay; skips with the reason otherwise.
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { parseDump } from '@cfs/dump'
import { fixturePath } from '@cfs/fixtures'
import { Store } from '@cfs/store'
import { mountKernel, unmountKernel } from '../src/index.js'
import { compareWithModel } from './compare-mount.js'
import { expectCleanAndRemove, kernelSkipReason } from './kernel-env.js'

const reason = kernelSkipReason()
const maybe = reason === undefined ? describe : describe.skip
if (reason !== undefined) console.log(`reference dump mount tests skipped: ${reason}`)

maybe('reference dumps mounted with the kernel', () => {
  let dir: string
  let store: Store
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-'))
    store = await Store.open(path.join(dir, 'store'), { create: true })
  })
  afterAll(async () => { await expectCleanAndRemove(dir) })

  it.each(['special.dump', 'longlink.dump', 'bigfile-xattr.dump', 'config.dump.gz'])('%s shows what the dump says', async (name) => {
    const manifest = parseDump(fs.readFileSync(fixturePath(`composefs/${name}`)), { source: name })
    const mnt = fs.mkdtempSync(path.join(dir, 'mnt-'))
    await mountKernel({ manifest, mountpoint: mnt, storeDir: store.root, runDir: path.join(dir, 'run') })
    try {
      expect(await compareWithModel(mnt, manifest)).toEqual([])
    } finally {
      await unmountKernel(mnt)
    }
  })
})
