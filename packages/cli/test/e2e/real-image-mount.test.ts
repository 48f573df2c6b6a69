/**
 * A real image (layers made by umoci, converted to a docker-archive by skopeo), built with `cfs build` and mounted
 * with both backends, must show what `umoci unpack` extracts from the same image: every path with its type, mode,
 * owner, size, mtime in nanoseconds, nlink and hardlink partners (non-directories), symlink target, rdev, xattrs
 * and the sha256 of its bytes; and `cfs gc` keeps the kernel backend's cached image exactly while it is mounted. Needs root, FUSE, the kernel's erofs + overlay, umoci, skopeo and getfattr.
 */
import { execFile } from 'node:child_process'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { makeRichImage, missingImageTools, runTool, scanTree, unpackImage, writeDockerArchive } from '@cfs/fixtures'
import { mountSkipReason } from './mount-skip.js'

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/cfs.js')
const exec = promisify(execFile)
const reason = mountSkipReason() ?? missingImageTools()
if (reason !== undefined) console.log(`skipping real-image mount tests: ${reason}`)
const maybe = reason === undefined ? describe : describe.skip

async function cfs (...args: string[]): Promise<string> {
  return (await exec(process.execPath, [BIN, ...args])).stdout
}

maybe('cfs mount of a real image', () => {
  let dir: string
  const mounts: string[] = []
  beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-')) })
  afterAll(async () => {
    for (const mnt of mounts) {
      await exec(process.execPath, [BIN, 'umount', mnt]).catch(async () => { await exec('umount', ['-l', mnt]).catch(() => {}) })
    }
    if (!fs.readFileSync('/proc/self/mountinfo', 'utf8').includes(dir)) fs.rmSync(dir, { recursive: true, force: true })
  })

  it('shows through FUSE and through the kernel exactly the tree umoci unpacks', async () => {
    // a layer from GNU tar's PAX format, for mtimes with nanoseconds
    const nano = path.join(dir, 'nano')
    fs.mkdirSync(path.join(nano, 'var'), { recursive: true })
    fs.writeFileSync(path.join(nano, 'var/stamp'), 'written at a precise moment')
    runTool('touch', '-h', '-d', '2004-05-06 07:08:09.123456789Z', path.join(nano, 'var/stamp'), path.join(nano, 'var'))
    runTool('tar', '--format=posix', '--numeric-owner', '-cf', path.join(dir, 'nano.tar'), '-C', nano, 'var')
    const ref = makeRichImage(dir, [{ layerTar: path.join(dir, 'nano.tar') }])
    const archive = path.join(dir, 'image.tar')
    writeDockerArchive(ref, archive)
    const want = scanTree(unpackImage(ref, path.join(dir, 'bundle')), { xattrs: true })

    const store = path.join(dir, 'store')
    const manifest = path.join(dir, 'image.cfsm')
    const digest = (await cfs('build', archive, '-o', manifest, '--store', store)).trim()
    for (const backend of ['fuse', 'kernel']) {
      const mnt = path.join(dir, backend)
      fs.mkdirSync(mnt)
      mounts.push(mnt)
      await cfs('mount', manifest, mnt, '--store', store, '--backend', backend)
      const got = scanTree(mnt, { xattrs: true })
      expect({ backend, paths: Object.keys(got) }).toEqual({ backend, paths: Object.keys(want) })
      for (const [p, entry] of Object.entries(want)) expect({ backend, path: p, ...got[p] }).toEqual({ backend, path: p, ...entry })
    }
    // the data has what the comparison is meant to cover
    expect(want['/usr/bin/tool']).toMatchObject({ mode: '104755', nlink: 2, links: ['/usr/bin/tool-link'], xattrs: { 'trusted.bin': '00ff10' } })
    expect(want['/null']).toMatchObject({ type: 'chardev', rdev: (1 << 8) | 3 })
    expect(want['/owned']).toMatchObject({ uid: 1234, gid: 5678 })
    expect(want['/usr/small-link']!.target).toBe('../etc/small')
    expect(want['/etc/small']!.sha256).toBe(crypto.createHash('sha256').update('replaced\n').digest('hex'))
    expect(want['/etc/sub/old']).toBeUndefined()
    expect(want['/var/stamp']!.mtime).toBe('1083827289.123456789')


    // gc keeps the kernel backend's cached image while it is mounted, even once the image is no longer kept
    const cached = path.join(store, 'erofs-cache', `${digest.slice('sha256:'.length)}.v1.img`)
    expect(fs.existsSync(cached)).toBe(true)
    await cfs('rm', digest, '--store', store)
    const during = JSON.parse(await cfs('gc', '--json', '--store', store)) as { erofsCache: { inUse: string[], removed: unknown[] } }
    expect(during.erofsCache).toMatchObject({ inUse: [path.basename(cached)], removed: [] })
    expect(fs.existsSync(cached)).toBe(true)
    for (const mnt of mounts.splice(0)) await cfs('umount', mnt)
    expect(fs.readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(dir)
    const after = JSON.parse(await cfs('gc', '--json', '--store', store)) as { erofsCache: { inUse: string[], removed: Array<{ file: string }> } }
    expect(after.erofsCache.inUse).toEqual([])
    expect(after.erofsCache.removed.map(r => r.file)).toEqual([path.basename(cached)])
    expect(fs.existsSync(cached)).toBe(false)
  })
})
