/**
 * `cfs build` into a store on a tmpfs too small for the image: a one-line ERR_CFS_NO_SPACE and exit 5, nothing
 * under a final name (no partial object, no manifest), no temp file left; after the tmpfs grows the build works.
 */
import { execFile, execFileSync } from 'node:child_process'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { Store, fsckStore } from '@cfs/store'
import { encodeTar, type TarEntryInput } from '@cfs/tar'

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/cfs.js')
const exec = promisify(execFile)
const isRoot = process.getuid?.() === 0

async function cfs (args: string[]): Promise<{ code: number, stdout: string, stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH, HOME: os.tmpdir() } })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code: number, stdout: string, stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}

describe('cfs build on a full disk', () => {
  let tmp: string
  let mnt: string | undefined
  beforeEach(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-')) })
  afterEach(() => {
    if (mnt !== undefined) execFileSync('umount', [mnt])
    mnt = undefined
    fs.rmSync(tmp, { recursive: true, force: true })
  })

  const maybe = isRoot ? it : it.skip
  if (!isRoot) console.log('skipped: mounting a tmpfs needs root')

  maybe('fails with ERR_CFS_NO_SPACE (exit 5), leaves nothing under a final name, and works once there is room', async () => {
    // ~12 MB of objects for a 4 MiB store, interleaved so the disk fills in the middle of some write: of a 700 KB object (one write(2), which comes
    // back short) or of a 2 MB one written in pieces (whose temp file must go too)
    const entries: TarEntryInput[] = []
    for (let i = 0; i < 300; i++) {
      if (i % 30 === 0) entries.push({ path: `mid/${i}`, type: 'file', content: crypto.randomBytes(700_000) })
      if (i % 150 === 0) entries.push({ path: `big/${i}`, type: 'file', content: crypto.randomBytes(2_000_000) })
      entries.push({ path: `small/${i}`, type: 'file', content: crypto.randomBytes(4000 + i) })
    }
    const image = path.join(tmp, 'image.tar')
    fs.writeFileSync(image, encodeTar(entries))
    mnt = path.join(tmp, 'mnt')
    fs.mkdirSync(mnt)
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mnt])
    const storeDir = path.join(mnt, 'store')
    const out = path.join(mnt, 'image.cfsm')

    const full = await cfs(['build', image, '-o', out, '--store', storeDir])
    expect(full.code).toBe(5)
    expect(full.stderr).toMatch(/^cfs: [^\n]*no space left on device[^\n]* \[ERR_CFS_NO_SPACE\]\n$/)
    expect(fs.existsSync(out)).toBe(false)
    const store = await Store.open(storeDir)
    expect(fs.readdirSync(store.imagesDir)).toEqual([])
    expect(fs.readdirSync(store.tmpDir)).toEqual([])
    expect(fs.readdirSync(store.leasesDir)).toEqual([])
    const fsck = await fsckStore(store, { jobs: 1 })
    expect(fsck.findings).toEqual([])

    execFileSync('mount', ['-o', 'remount,size=32m', mnt])
    const ok = await cfs(['build', image, '-o', out, '--store', storeDir, '--quiet'])
    expect([ok.code, ok.stderr]).toEqual([0, ''])
    expect((await cfs(['verify', out, '--store', storeDir])).code).toBe(0)
  }, 60_000)
})
