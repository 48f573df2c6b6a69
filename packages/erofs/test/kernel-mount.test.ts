/**
 * Reads a written image back through the kernel's EROFS driver: loop-mounts ex2 read-only and checks what stat,
 * readlink, read and getfattr see. Needs root and `mount -t erofs`; skips with the reason otherwise.
 */
import { execFile, execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { promisify } from 'node:util'
import { writeErofsFile } from '../src/index.js'
import { ex2 } from './examples.js'

const exec = promisify(execFile)

function skipReason (): string | undefined {
  if (process.getuid?.() !== 0) return 'not root'
  try {
    execFileSync('modprobe', ['erofs'], { stdio: 'ignore' })
  } catch { /* built in, or no modprobe: /proc/filesystems decides */ }
  if (!fs.readFileSync('/proc/filesystems', 'utf8').split('\n').some(l => l.trim().endsWith('erofs'))) {
    return 'the kernel has no erofs filesystem'
  }
  return undefined
}

/** xattrs of a path as getfattr reports them (all namespaces, hex values), without following symlinks. */
async function xattrsOf (file: string): Promise<Record<string, string>> {
  const { stdout } = await exec('getfattr', ['-h', '-d', '-m', '-', '-e', 'hex', '--absolute-names', file])
  const out: Record<string, string> = {}
  for (const line of stdout.split('\n')) {
    const m = /^([^#=][^=]*)=0x([0-9a-f]*)$/.exec(line) ?? /^([^#=][^=]*)$/.exec(line)
    if (m !== null) out[m[1]!] = m[2] ?? ''
  }
  return out
}
const hex = (s: string): string => Buffer.from(s, 'latin1').toString('hex')

const reason = skipReason()
const maybe = reason === undefined ? describe : describe.skip
if (reason !== undefined) console.log(`kernel mount test skipped: ${reason}`)

maybe('an ex2 image mounted with the kernel erofs driver', () => {
  let dir: string
  let mnt: string
  let mounted = false
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-'))
    mnt = path.join(dir, 'mnt')
    fs.mkdirSync(mnt)
    const image = path.join(dir, 'ex2.erofs')
    writeErofsFile(ex2().manifest, image)
    await exec('mount', ['-t', 'erofs', '-o', 'ro,loop', image, mnt])
    mounted = true
  })
  afterAll(async () => {
    // the loop device was attached by mount with autoclear, so unmounting releases it too
    if (mounted) await exec('umount', [mnt])
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it('shows the tree with the root whiteouts, sizes and modes', () => {
    const names = fs.readdirSync(mnt)
    expect(names).toHaveLength(256 + 2)
    expect(names).toEqual(expect.arrayContaining(['bin', 'etc', '00', 'ff']))
    expect(fs.readdirSync(path.join(mnt, 'etc')).sort()).toEqual(['big', 'big-link', 'gone', 'hosts', 'null'])
    const wh = fs.lstatSync(path.join(mnt, '00'))
    expect(wh.isCharacterDevice()).toBe(true)
    expect(wh.rdev).toBe(0)
    const hosts = fs.lstatSync(path.join(mnt, 'etc/hosts'), { bigint: true })
    expect(hosts.mode).toBe(BigInt(0o100644))
    expect(hosts.mtimeNs).toBe(1700000000n * 1000000000n + 5n)
    expect(fs.readFileSync(path.join(mnt, 'etc/hosts'), 'latin1')).toBe('127.0.0.1 x\n')
    expect(fs.readlinkSync(path.join(mnt, 'bin'))).toBe('usr/bin')
    const big = fs.lstatSync(path.join(mnt, 'etc/big'))
    expect(big.size).toBe(100000)
    expect(big.uid).toBe(1000)
    expect(big.nlink).toBe(2)
    expect(fs.lstatSync(path.join(mnt, 'etc/big-link')).ino).toBe(big.ino)
    const dev = fs.lstatSync(path.join(mnt, 'etc/null'))
    expect(dev.isCharacterDevice()).toBe(true)
    expect(dev.rdev).toBe(259)
    const gone = fs.lstatSync(path.join(mnt, 'etc/gone'))
    expect(gone.isFile()).toBe(true)
    expect(gone.size).toBe(0)
    expect(fs.lstatSync(path.join(mnt, 'etc')).nlink).toBe(2)
  })

  it('stores the overlay xattrs: opaque root, metacopy and redirect, escaped and whiteout markers', async () => {
    const root = await xattrsOf(mnt)
    expect(root['trusted.overlay.opaque']).toBe(hex('y'))
    expect(root['security.selinux']).toBe(hex('system_u:object_r:root_t:s0\0'))
    const big = await xattrsOf(path.join(mnt, 'etc/big'))
    expect(big['trusted.overlay.metacopy']).toBe('00240001814a92e54de3fd3e5337ed8607807bc95cfb4ffcf0f586265fd597a3dcffdce4')
    expect(big['trusted.overlay.redirect']).toBe(hex('/81/4a92e54de3fd3e5337ed8607807bc95cfb4ffcf0f586265fd597a3dcffdce4'))
    expect(big['trusted.overlay.overlay.opaque']).toBe(hex('y'))
    const gone = await xattrsOf(path.join(mnt, 'etc/gone'))
    expect(Object.keys(gone).sort()).toEqual(['trusted.overlay.overlay.whiteout', 'user.overlay.whiteout'])
    const etc = await xattrsOf(path.join(mnt, 'etc'))
    expect(etc).toMatchObject({
      'trusted.overlay.overlay.whiteouts': '',
      'user.overlay.whiteouts': '',
      'trusted.overlay.overlay.opaque': hex('x'),
      'user.overlay.opaque': hex('x'),
      'user.note': hex('a=b c'),
    })
  })
})
