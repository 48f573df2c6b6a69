/**
 * benchImages for real on the fixture images: every strategy prepared, mounted, listed and removed; the report
 * holds one figure per run; disk counts a store shared by two images once; nothing stays mounted or attached,
 * also when the run is interrupted. Needs root for overlayfs, kernel and fuse (skipped, with the reason, when
 * not root: then only the symlink farm runs).
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fixturePath } from '@cfs/fixtures'
import { benchImages } from '../src/bench-images.js'
import { loopDevicesUnder, mountsUnder } from '../src/remove-leftovers.js'

const root = process.getuid?.() === 0
if (!root) console.log('bench-images: not root, so only the symlinks strategy runs and the others must be reported skipped')

describe('benchImages', () => {
  let dir: string
  beforeEach(() => { dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-'))) })
  afterEach(() => { fs.rmSync(dir, { recursive: true, force: true }) })

  const leftovers = (): string[] => [...mountsUnder(dir), ...loopDevicesUnder(dir), ...fs.readdirSync(dir)]

  it('measures every strategy on two images and leaves nothing behind', async () => {
    const progress: string[] = []
    const report = await benchImages({
      inputs: [fixturePath('images/docker-archive.tar'), fixturePath('images/oci-archive.tar')],
      runs: 1,
      tmpDir: dir,
      onProgress: (m) => { progress.push(m) },
    })
    expect(leftovers()).toEqual([])
    expect(report.images.map(i => [i.format, i.layers])).toEqual([['docker-archive', 2], ['oci-archive', 2]])
    expect(report.images[0]!.entries).toBe(report.images[1]!.entries)
    expect(report.images[0]!.entries).toBeGreaterThan(30)
    const ran = report.strategies.map(s => s.strategy)
    expect(ran).toEqual(root ? ['symlinks', 'overlayfs', 'kernel', 'fuse'] : ['symlinks'])
    if (!root) expect(report.skipped.map(s => s.strategy)).toEqual(['overlayfs', 'kernel', 'fuse'])
    expect(report.cachesDropped).toBe(root)
    for (const s of report.strategies) {
      expect(s.results.map(r => r.image)).toEqual([0, 1])
      for (const r of s.results) {
        for (const x of [r.prepare, r.mount, r.coldLs, r.warmLs]) {
          if (x === null) continue
          expect(x.runs).toHaveLength(1)
          expect(x.median).toBeGreaterThan(0)
          expect(x.min).toBe(x.median)
        }
        expect(r.prepare === null).toBe(s.strategy === 'fuse')
        expect(r.mount === null).toBe(s.strategy === 'symlinks')
      }
      expect(s.disk.totalBytes).toBe(s.disk.storeBytes + s.disk.ownBytes)
      expect(s.disk.ownBytes).toBeGreaterThan(0)
    }
    // both images hold the same files, so one store serves both: counted once, the same for every store strategy
    const storeBytes = report.strategies.filter(s => s.strategy !== 'overlayfs').map(s => s.disk.storeBytes)
    expect(new Set(storeBytes).size).toBe(1)
    expect(storeBytes[0]).toBeGreaterThan(0)
    if (root) {
      expect(report.strategies.find(s => s.strategy === 'overlayfs')!.disk.storeBytes).toBe(0)
      expect(progress).toContain('kernel, image 2, run 1/1')
    }
  })

  it('undoes everything and says so when interrupted', async () => {
    const controller = new AbortController()
    const p = benchImages({
      inputs: [fixturePath('images/docker-archive.tar')],
      runs: 3,
      only: root ? ['symlinks', 'fuse'] : ['symlinks'],
      tmpDir: dir,
      signal: controller.signal,
      // interrupted while a FUSE server is being started or walked, after the farm of the first strategy was removed
      onProgress: (m) => { if (m.startsWith(root ? 'fuse' : 'symlinks, image 1, run 2')) setTimeout(() => { controller.abort(new Error('SIGINT received')) }, 50) },
    })
    await expect(p).rejects.toMatchObject({ code: 'ERR_CFS_INTERRUPTED' })
    expect(leftovers()).toEqual([])
  })

  it('refuses strategies it cannot run, and bad options', async () => {
    await expect(benchImages({ inputs: [fixturePath('images/docker-archive.tar')], runs: 0, tmpDir: dir })).rejects.toMatchObject({ code: 'ERR_CFS_USAGE' })
    await expect(benchImages({ inputs: [fixturePath('images/not-an-image.txt')], runs: 1, tmpDir: dir, only: ['symlinks'] }))
      .rejects.toMatchObject({ code: 'ERR_CFS_IMAGE_UNKNOWN_FORMAT' })
    expect(leftovers()).toEqual([])
  })
})
