import { spawn, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { encodeManifest, finalizeTree, makeInode, S_IFDIR, S_IFREG } from '@cfs/manifest'
import { Store } from '@cfs/store'
import { BIN, runCfs, type Ran } from './run-cfs.js'

const skip = !fs.existsSync('/dev/fuse') ? 'no /dev/fuse' : process.getuid?.() !== 0 ? 'not root' : undefined
if (skip !== undefined) console.log(`skipping cfs mount e2e tests: ${skip}`)
const describeFuse = skip === undefined ? describe : describe.skip

const cfs = async (...args: string[]): Promise<Ran> => await runCfs(args)

function mountTypeAt (mnt: string): string | undefined {
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const f = line.split(' ')
    if (f[4] === mnt) return f[f.indexOf('-') + 1]
  }
  return undefined
}

function alive (pid: number): boolean {
  try { process.kill(pid, 0); return true } catch { return false }
}

async function waitFor (what: string, cond: () => boolean, ms = 30000): Promise<void> {
  for (const t0 = Date.now(); !cond(); await new Promise(resolve => setTimeout(resolve, 50))) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`)
  }
}

describeFuse('cfs mount / cfs umount', () => {
  let dir: string
  let manifestPath: string
  let storeDir: string
  const mounts: string[] = []
  const newMountpoint = (): string => {
    const mnt = path.join(dir, `mnt${mounts.length}`)
    fs.mkdirSync(mnt)
    mounts.push(mnt)
    return mnt
  }

  beforeAll(async () => {
    dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-')))
    storeDir = path.join(dir, 'store')
    const store = await Store.open(storeDir, { create: true })
    const content = Buffer.alloc(10000, 'cfs ')
    const { digest } = await store.writeObject(content)
    const root = { name: '', inode: makeInode(S_IFDIR | 0o755), children: [
      { name: 'hello.txt', inode: makeInode(S_IFREG | 0o644, { size: 6, inline: Buffer.from('hello\n') }) },
      { name: 'data', inode: makeInode(S_IFREG | 0o644, { size: content.length, digest }) },
    ] }
    manifestPath = path.join(dir, 'image.cfsm')
    fs.writeFileSync(manifestPath, encodeManifest(finalizeTree({ root })))
  })

  afterAll(() => {
    for (const mnt of mounts) if (mountTypeAt(mnt) !== undefined) spawnSync('umount', ['-l', mnt])
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it('mounts in the background, ready on return, and cfs umount stops the server', async () => {
    const mnt = newMountpoint()
    const r = await cfs('mount', manifestPath, mnt, '--store', storeDir, '--json')
    expect(r).toMatchObject({ code: 0 })
    const { pid, mountpoint, schema } = JSON.parse(r.stdout) as { pid: number, mountpoint: string, schema: string }
    expect(mountpoint).toBe(mnt)
    expect(schema).toBe('cfs.mount/1')
    expect(fs.readFileSync(path.join(mnt, 'hello.txt'), 'utf8')).toBe('hello\n')
    expect(fs.readFileSync(path.join(mnt, 'data')).length).toBe(10000)
    expect(mountTypeAt(mnt)).toBe('fuse.cfs')
    expect(await cfs('mount', manifestPath, mnt, '--store', storeDir)).toMatchObject({ code: 5 })
    expect(await cfs('umount', mnt)).toMatchObject({ code: 0 })
    expect(mountTypeAt(mnt)).toBeUndefined()
    await waitFor('the server to exit', () => !alive(pid))
  })

  it('unmounts cleanly on SIGTERM', async () => {
    const mnt = newMountpoint()
    const r = await cfs('mount', manifestPath, mnt, '--store', storeDir, '--json')
    const { pid } = JSON.parse(r.stdout) as { pid: number }
    process.kill(pid, 'SIGTERM')
    await waitFor('the server to exit', () => !alive(pid))
    expect(mountTypeAt(mnt)).toBeUndefined()
  })

  it('clears the mount of a killed server with cfs umount', async () => {
    const mnt = newMountpoint()
    const r = await cfs('mount', manifestPath, mnt, '--store', storeDir, '--json')
    const { pid } = JSON.parse(r.stdout) as { pid: number }
    process.kill(pid, 'SIGKILL')
    await waitFor('the server to die', () => !alive(pid))
    expect(() => fs.readdirSync(mnt)).toThrow(expect.objectContaining({ code: 'ENOTCONN' }))
    expect(await cfs('umount', mnt)).toMatchObject({ code: 0 })
    expect(mountTypeAt(mnt)).toBeUndefined()
    expect(fs.readdirSync(mnt)).toEqual([])
  })

  it('unmounts a busy image lazily; its server exits when the last user leaves', async () => {
    const mnt = newMountpoint()
    const { pid } = JSON.parse((await cfs('mount', manifestPath, mnt, '--store', storeDir, '--json')).stdout) as { pid: number }
    const user = spawn('sleep', ['60'], { cwd: mnt, stdio: 'ignore' })
    try {
      const r = await cfs('umount', mnt, '--json')
      expect(r.code).toBe(0)
      expect(JSON.parse(r.stdout)).toEqual({ schema: 'cfs.umount/1', backend: 'fuse', mountpoint: mnt, lazy: true })
      expect(mountTypeAt(mnt)).toBeUndefined()
      expect(alive(pid)).toBe(true)
    } finally { user.kill('SIGKILL') }
    await waitFor('the server to exit', () => !alive(pid))
  })

  it('serves in the foreground until SIGINT', async () => {
    const mnt = newMountpoint()
    const child = spawn(process.execPath, [BIN, 'mount', manifestPath, mnt, '--store', storeDir, '--foreground'], { stdio: 'ignore' })
    const exited = new Promise<number | null>(resolve => child.once('exit', resolve))
    await waitFor('the mount', () => mountTypeAt(mnt) !== undefined)
    expect(fs.readFileSync(path.join(mnt, 'hello.txt'), 'utf8')).toBe('hello\n')
    child.kill('SIGINT')
    expect(await exited).toBe(0)
    expect(mountTypeAt(mnt)).toBeUndefined()
  }, 120000) // two node start-ups and a FUSE init: on a loaded 2-core machine this alone took over 60 s

  it('a Ctrl-C the moment the mount appears still unmounts and exits 0', async () => {
    // the signal lands while the server is finishing its start-up (where a listener swap once let it kill the process)
    const mnt = newMountpoint()
    const child = spawn(process.execPath, [BIN, 'mount', manifestPath, mnt, '--store', storeDir, '--foreground'], { stdio: 'ignore' })
    const exited = new Promise<number | null>(resolve => child.once('exit', resolve))
    for (const t0 = Date.now(); mountTypeAt(mnt) === undefined && Date.now() - t0 < 60000;) await new Promise(resolve => setImmediate(resolve))
    child.kill('SIGINT')
    expect(await exited).toBe(0)
    expect(mountTypeAt(mnt)).toBeUndefined()
  }, 120000)

  it('reports bad mount points and non-mounts with their exit codes', async () => {
    const missing = await cfs('mount', manifestPath, path.join(dir, 'nowhere'), '--store', storeDir)
    expect(missing.code).toBe(4)
    expect(missing.stderr).toContain('ERR_CFS_FILE_NOT_FOUND')
    expect(missing.stderr.trim().split('\n')).toHaveLength(1)
    const notMounted = await cfs('umount', dir)
    expect(notMounted.code).toBe(5)
    expect(notMounted.stderr).toContain('ERR_CFS_MOUNT_FAILED')
    const badStore = await cfs('mount', manifestPath, newMountpoint(), '--store', path.join(dir, 'nostore'))
    expect(badStore.code).toBe(4)
  })

  it('says what to install when there is no /dev/fuse, and that mounting needs root', () => {
    // a private mount namespace with an empty /dev hides the FUSE device from this one command
    const noFuse = spawnSync('unshare', ['-m', 'sh', '-c', 'mount -t tmpfs none /dev && exec "$0" "$@"', process.execPath, BIN, 'mount', manifestPath, newMountpoint(), '--store', storeDir], { encoding: 'utf8' })
    expect(noFuse.status).toBe(5)
    expect(noFuse.stderr).toContain('ERR_CFS_FUSE_UNAVAILABLE')
    expect(noFuse.stderr).toContain('apt-get install fuse3')
    const notRoot = spawnSync('runuser', ['-u', 'nobody', '--', process.execPath, BIN, 'mount', manifestPath, newMountpoint(), '--store', storeDir], { encoding: 'utf8' })
    expect(notRoot.status).toBe(5)
    expect(notRoot.stderr).toContain('ERR_CFS_PERMISSION')
  })
})
