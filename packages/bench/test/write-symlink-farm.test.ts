import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { buildImage } from '@cfs/build'
import { fixturePath } from '@cfs/fixtures'
import { fileKind, objectPathOf, walkDepthFirst } from '@cfs/manifest'
import { Store } from '@cfs/store'
import { diskUsage } from '../src/disk-usage.js'
import { writeSymlinkFarm } from '../src/write-symlink-farm.js'

describe('writeSymlinkFarm', () => {
  let dir: string
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-')) })
  afterEach(() => { fs.rmSync(dir, { recursive: true, force: true }) })

  it('links every stored file to its object and writes inline files, directories and symlinks', async () => {
    const store = await Store.open(path.join(dir, 'store'), { create: true })
    const { manifest } = await buildImage(fixturePath('images/docker-archive.tar'), { store })
    const farm = path.join(dir, 'farm')
    const stats = await writeSymlinkFarm(manifest, store.objectsDir, farm)
    let checked = 0
    let devices = 0
    walkDepthFirst(manifest, (p, node) => {
      const full = Buffer.from(farm + (p === '/' ? '' : p), 'latin1')
      const ino = node.inode
      const kind = fileKind(ino.mode)
      if (kind === 'chardev' || kind === 'blockdev' || kind === 'fifo' || kind === 'socket') {
        devices++
        expect(fs.existsSync(full)).toBe(false)
        return
      }
      const st = fs.lstatSync(full)
      if (kind === 'dir') expect(st.isDirectory()).toBe(true)
      else if (kind === 'symlink') expect(fs.readlinkSync(full, { encoding: 'buffer' }).toString('latin1')).toBe(ino.target)
      else if (ino.digest !== undefined) {
        expect(fs.readlinkSync(full, 'utf8')).toBe(path.join(store.objectsDir, objectPathOf(ino.digest)))
        expect(fs.statSync(full).size).toBe(ino.size) // the link resolves to the object
      } else {
        expect(Buffer.compare(fs.readFileSync(full), Buffer.from(ino.inline ?? new Uint8Array(0)))).toBe(0)
      }
      checked++
    })
    expect(stats.skipped).toBe(devices)
    expect(stats.dirs + stats.links + stats.files).toBe(checked)
    // hardlinks counted once: a farm's second link to the same inode adds nothing
    const used = diskUsage(farm)
    fs.linkSync(path.join(farm, 'etc', 'passwd'), path.join(farm, 'extra-link'))
    expect(diskUsage(farm)).toBe(used)
    await expect(writeSymlinkFarm(manifest, store.objectsDir, farm)).rejects.toMatchObject({ code: 'EEXIST' })
  })
})
