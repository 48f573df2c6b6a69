import { execFile, spawn, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { fsverityDigest } from '@cfs/digest'
import { encodeManifest, finalizeTree, makeInode, manifestDigest, objectPathOf, S_IFCHR, S_IFDIR, S_IFLNK, S_IFREG, type Manifest, type Node } from '@cfs/manifest'

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/cfs.js')
const exec = promisify(execFile)

async function cfs (...args: string[]): Promise<{ code: number, stdout: Buffer, stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [BIN, ...args], { encoding: 'buffer', env: { ...process.env, CFS_STORE: '/nonexistent-cfs-store' } })
    return { code: 0, stdout, stderr: stderr.toString() }
  } catch (err) {
    const e = err as { code: number, stdout: Buffer, stderr: Buffer }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr.toString() }
  }
}

const BIG = Buffer.alloc(70000, 'big file content ')
const SMALL = Buffer.from('#!/bin/sh\necho hi\n')

/** A small image with every kind of entry, and a store holding the objects of its external files. */
function makeImage (dir: string): { manifestFile: string, store: string, manifest: Manifest, bytes: Uint8Array } {
  const bigDigest = fsverityDigest(BIG)
  const shared = makeInode(S_IFREG | 0o755, { size: BIG.length, digest: bigDigest, payload: objectPathOf(bigDigest), nlink: 2, mtimeSec: 1700000000 })
  const m = finalizeTree({
    root: {
      name: '',
      inode: makeInode(S_IFDIR | 0o755),
      children: [
        {
          name: 'bin',
          inode: makeInode(S_IFDIR | 0o755),
          children: [
            { name: 'big', inode: shared },
            { name: 'big-link', inode: shared },
            { name: 'hi.sh', inode: makeInode(S_IFREG | 0o4755, { size: SMALL.length, inline: SMALL, uid: 1000, gid: 100 }) },
          ],
        },
        { name: 'etc', inode: makeInode(S_IFDIR | 0o755), children: [{ name: 'empty', inode: makeInode(S_IFREG | 0o644) }] },
        { name: 'hi', inode: makeInode(S_IFLNK | 0o777, { target: 'bin/hi.sh', size: 9 }) },
        { name: 'null', inode: makeInode(S_IFCHR | 0o666, { rdev: (1 << 8) | 3 }) },
        { name: 'caf\xc3\xa9\xff', inode: makeInode(S_IFREG | 0o600, { size: 2, inline: Buffer.from('ok') }) },
        { name: 'escape', inode: makeInode(S_IFREG | 0o644, { size: 5, payload: '../../../etc/passwd' }) },
        { name: 'lost', inode: makeInode(S_IFREG | 0o644, { size: 5, digest: Buffer.alloc(32, 9) }) },
      ] as Node[],
    },
  })
  const bytes = encodeManifest(m)
  const manifestFile = path.join(dir, 'image.cfsm')
  fs.writeFileSync(manifestFile, bytes)
  const store = path.join(dir, 'store')
  const obj = path.join(store, 'objects', objectPathOf(bigDigest))
  fs.mkdirSync(path.dirname(obj), { recursive: true })
  fs.writeFileSync(obj, BIG)
  return { manifestFile, store, manifest: m, bytes }
}

describe('cfs inspect, ls and cat', () => {
  let dir: string
  let img: ReturnType<typeof makeImage>
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-'))
    img = makeImage(dir)
  })
  afterAll(() => { fs.rmSync(dir, { recursive: true, force: true }) })

  it('inspect --json summarizes the image', async () => {
    const r = await cfs('inspect', img.manifestFile, '--json')
    expect(r.code).toBe(0)
    const j = JSON.parse(r.stdout.toString())
    expect(j).toMatchObject({
      digest: manifestDigest(img.bytes),
      formatVersion: 4,
      manifestBytes: img.bytes.length,
      entries: 12,
      inodes: 11,
      types: { dir: 3, file: 7, symlink: 1, chardev: 1 },
      totalBytes: BIG.length + SMALL.length + 2 + 5 + 5,
      storedBytes: BIG.length + 5 + 5,
      objects: 3,
      inlineFiles: 2,
      hardlinkGroups: 1,
      hardlinkPaths: 2,
    })
    expect(j.largestFiles[0]).toEqual({ path: '/bin/big', size: BIG.length })
    const text = await cfs('inspect', img.manifestFile)
    expect(text.stdout.toString()).toContain(manifestDigest(img.bytes))
  })

  it('ls prints ls -l lines with escaped names, devices and symlink targets', async () => {
    const r = await cfs('ls', img.manifestFile)
    expect(r.code).toBe(0)
    const lines = r.stdout.toString().trimEnd().split('\n')
    expect(lines.map(l => l.split(' ').pop())).toEqual(['bin', 'caf\u00e9\\xff', 'escape', 'etc', 'bin/hi.sh', 'lost', 'null'])
    expect(lines[4]).toMatch(/^lrwxrwxrwx +1 0 +0 +9 1970-01-01 00:00:00 hi -> bin\/hi.sh$/)
    expect(lines[6]).toMatch(/^crw-rw-rw- +1 0 +0 +1, 3 /)
    const bin = (await cfs('ls', img.manifestFile, '/bin')).stdout.toString()
    expect(bin).toMatch(/^-rwxr-xr-x 2 0 +0 +70000 2023-11-14 22:13:20 big$/m)
    expect(bin).toMatch(/^-rwsr-xr-x 1 1000 100 +18 .* hi\.sh$/m)
  })

  it('ls -R --json lists every entry below a path in depth-first order', async () => {
    const r = await cfs('ls', img.manifestFile, '/', '-R', '--json')
    expect(r.code).toBe(0)
    const j = JSON.parse(r.stdout.toString())
    expect(j.entries.map((e: { path: string }) => e.path)).toEqual(['/bin', '/caf\u00e9\\xff', '/escape', '/etc', '/hi', '/lost', '/null', '/bin/big', '/bin/big-link', '/bin/hi.sh', '/etc/empty'])
    const one = JSON.parse((await cfs('ls', img.manifestFile, 'bin/big', '--json')).stdout.toString())
    expect(one.entries).toHaveLength(1)
    expect(one.entries[0]).toMatchObject({ type: 'file', size: BIG.length, nlink: 2, payload: objectPathOf(fsverityDigest(BIG)) })
  })

  it('cat prints inline content, store objects, and follows symlinks inside the image', async () => {
    expect((await cfs('cat', img.manifestFile, '/bin/hi.sh')).stdout.equals(SMALL)).toBe(true)
    expect((await cfs('cat', img.manifestFile, '/hi')).stdout.equals(SMALL)).toBe(true)
    const big = await cfs('cat', img.manifestFile, '/bin/big-link', '--store', img.store)
    expect(big.code).toBe(0)
    expect(big.stdout.equals(BIG)).toBe(true)
    expect((await cfs('cat', img.manifestFile, '/etc/empty')).stdout.length).toBe(0)
  })

  it('cat names the missing object and refuses payloads that leave the store', async () => {
    const lost = await cfs('cat', img.manifestFile, '/lost', '--store', img.store)
    expect(lost.code).toBe(4)
    expect(lost.stderr).toContain('ERR_CFS_OBJECT_NOT_FOUND')
    expect(lost.stderr).toContain(path.join(img.store, 'objects', objectPathOf(Buffer.alloc(32, 9))))
    const escape = await cfs('cat', img.manifestFile, '/escape', '--store', img.store)
    expect(escape.code).toBe(3)
    expect(escape.stderr).toContain('ERR_CFS_BAD_PATH')
    const noStore = await cfs('cat', img.manifestFile, '/bin/big')
    expect(noStore.code).toBe(4)
    expect(noStore.stderr).toContain('/nonexistent-cfs-store/objects/')
  })

  it('cat stops quietly when its reader goes away, and reports other write errors as I/O', async () => {
    const child = spawn(process.execPath, [BIN, 'cat', img.manifestFile, '/bin/big', '--store', img.store], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    child.stdout.once('data', () => { child.stdout.destroy() })
    const code = await new Promise<number | null>(resolve => child.on('close', resolve))
    expect([code, stderr]).toEqual([0, ''])
    if (fs.existsSync('/dev/full')) {
      const full = fs.openSync('/dev/full', 'w')
      try {
        const r = spawnSync(process.execPath, [BIN, 'cat', img.manifestFile, '/bin/big', '--store', img.store], { stdio: ['ignore', full, 'pipe'] })
        expect(r.status).toBe(5)
        expect(r.stderr.toString()).toContain('ERR_CFS_IO')
      } finally { fs.closeSync(full) }
    } else {
      console.log('skipped the write-error half: no /dev/full on this system')
    }
  })

  it('refuses directories, missing paths, missing and corrupt manifests with their exit codes', async () => {
    expect((await cfs('cat', img.manifestFile, '/etc')).code).toBe(3)
    const missing = await cfs('ls', img.manifestFile, '/no/such')
    expect([missing.code, missing.stderr.includes('ERR_CFS_PATH_NOT_FOUND')]).toEqual([4, true])
    const nofile = await cfs('inspect', path.join(dir, 'nope.cfsm'))
    expect([nofile.code, nofile.stderr.includes('ERR_CFS_FILE_NOT_FOUND')]).toEqual([4, true])
    const bad = path.join(dir, 'bad.cfsm')
    fs.writeFileSync(bad, Buffer.from(img.bytes).subarray(0, img.bytes.length - 7))
    const corrupt = await cfs('ls', bad)
    expect(corrupt.code).toBe(3)
    expect(corrupt.stderr.trim().split('\n')).toHaveLength(1)
    expect(corrupt.stderr).toContain('ERR_CFS_MANIFEST_CORRUPT')
  })
})
