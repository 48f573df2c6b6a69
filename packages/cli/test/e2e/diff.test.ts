import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fixturePath } from '@cfs/fixtures'
import {
  encodeManifest, finalizeTree, makeInode, S_IFDIR, S_IFLNK, S_IFREG, type Inode, type Manifest, type Node,
} from '@cfs/manifest'
import { runCfs, type Ran } from './run-cfs.js'

let dir: string
const cfs = async (...args: string[]): Promise<Ran> =>
  await runCfs(args, { cwd: dir, env: { ...process.env, NO_COLOR: '', CFS_STORE: path.join(dir, 'default-store'), TMPDIR: path.join(dir, 'tmp') } })

const file = (n: number, fields: Partial<Inode> = {}): Inode => makeInode(S_IFREG | 0o644, { size: 1000 * n, digest: Buffer.alloc(32, n), ...fields })
const inline = (text: string, fields: Partial<Inode> = {}): Inode => makeInode(S_IFREG | 0o644, { size: text.length, inline: Buffer.from(text), ...fields })
const folder = (children: Node[], fields: Partial<Inode> = {}): Pick<Node, 'inode' | 'children'> => ({ inode: makeInode(S_IFDIR | 0o755, fields), children })

function write (name: string, root: Node): string {
  const m: Manifest = finalizeTree({ root })
  fs.writeFileSync(path.join(dir, name), encodeManifest(m))
  return name
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-'))
  fs.mkdirSync(path.join(dir, 'tmp'))
  write('a.cfsm', { name: '', ...folder([
    { name: 'etc', ...folder([{ name: 'passwd', inode: inline('root', { mtimeSec: 1 }) }, { name: 'motd', inode: file(9) }]) },
    { name: 'usr', ...folder([{ name: 'bin', ...folder([{ name: 'sh', inode: file(2) }, { name: 'old', inode: file(3) }]) }]) },
    { name: 'n\xff', inode: inline('x') },
  ]) })
  write('b.cfsm', { name: '', ...folder([
    { name: 'etc', ...folder([{ name: 'passwd', inode: inline('root', { mtimeSec: 2, uid: 7 }) }, { name: 'motd.d', ...folder([{ name: 'welcome', inode: file(9) }]) }]) },
    { name: 'usr', ...folder([{ name: 'bin', ...folder([{ name: 'sh', inode: makeInode(S_IFLNK | 0o777, { target: 'busybox', size: 7 }) }, { name: 'busybox', inode: file(5) }]) }]) },
    { name: 'n\xff', inode: inline('y') },
  ]) })
})
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }))

describe('cfs diff', () => {
  it('exits 0 with no output for identical images and 6 with one line per change otherwise', async () => {
    const same = await cfs('diff', 'a.cfsm', 'a.cfsm')
    expect(same).toEqual({ code: 0, stdout: '', stderr: '' })
    const r = await cfs('diff', 'a.cfsm', 'b.cfsm')
    expect(r.code).toBe(6)
    expect(r.stderr).toBe('')
    expect(r.stdout.split('\n')).toEqual([
      'A /etc/motd.d',
      'R /etc/motd -> /etc/motd.d/welcome',
      'M /etc/passwd  uid 0->7 mtime 1970-01-01T00:00:01->1970-01-01T00:00:02',
      'M /n\\xff  content',
      'A /usr/bin/busybox',
      'D /usr/bin/old',
      'M /usr/bin/sh  type file->symlink content size 2000->7 mode 0644->0777 target (none)->busybox',
      '',
    ])
  })

  it('colours the status letters only when asked or on a terminal', async () => {
    expect((await cfs('diff', 'a.cfsm', 'b.cfsm')).stdout).not.toContain('\x1b[')
    expect((await cfs('diff', '--color', 'always', 'a.cfsm', 'b.cfsm')).stdout).toContain('\x1b[32mA\x1b[0m /usr/bin/busybox')
  })

  it('prints only the changed paths with --name-only, escaping bytes that are not UTF-8', async () => {
    const r = await cfs('diff', '--name-only', 'a.cfsm', 'b.cfsm')
    expect(r.code).toBe(6)
    expect(r.stdout).toBe(['/etc/motd.d', '/etc/motd', '/etc/motd.d/welcome', '/etc/passwd', '/n\\xff', '/usr/bin/busybox', '/usr/bin/old', '/usr/bin/sh', ''].join('\n'))
  })

  it('summarizes with --stat', async () => {
    const r = await cfs('diff', '--stat', 'a.cfsm', 'b.cfsm')
    expect(r.code).toBe(6)
    expect(r.stdout).toContain('       2 added     +4.9 KiB')
    expect(r.stdout).toContain('       1 removed   -2.9 KiB')
    expect(r.stdout).toContain('       3 modified  +1 B -2.0 KiB')
    expect(r.stdout).toContain('       1 renamed\n')
    expect(r.stdout).toContain('changed content bytes: 9.8 KiB (10002)')
    expect(r.stdout).toMatch(/9\.8 KiB\s+3 changes\s+\/usr\/bin\n/)
  })

  it('gives the documented JSON with --json, with the same exit status', async () => {
    const r = await cfs('diff', '--json', 'a.cfsm', 'b.cfsm')
    expect(r.code).toBe(6)
    const j = JSON.parse(r.stdout) as { schema: string, identical: boolean, summary: { changedBytes: number }, changes: Array<Record<string, unknown>> }
    expect(j.schema).toBe('cfs.diff/1')
    expect(j.identical).toBe(false)
    expect(j.summary.changedBytes).toBe(10002)
    expect(j.changes.map(c => `${String(c.status)} ${String(c.path)}`)).toEqual([
      'added /etc/motd.d', 'renamed /etc/motd.d/welcome', 'modified /etc/passwd', 'modified /n\\xff',
      'added /usr/bin/busybox', 'removed /usr/bin/old', 'modified /usr/bin/sh',
    ])
    expect(j.changes[3]).toMatchObject({ pathBase64: Buffer.from('/n\xff', 'latin1').toString('base64'), attributes: { content: { before: { inline: 'eA==' }, after: { inline: 'eQ==' } } } })
    expect(j.changes[1]).toMatchObject({ from: '/etc/motd', type: 'file' })
    const same = await cfs('diff', '--json', 'a.cfsm', 'a.cfsm')
    expect(same.code).toBe(0)
    expect(JSON.parse(same.stdout)).toMatchObject({ identical: true, changes: [] })
    const stat = JSON.parse((await cfs('diff', '--json', '--stat', 'a.cfsm', 'b.cfsm')).stdout) as object
    expect(stat).not.toHaveProperty('changes')
  })

  it('drops noise with --ignore, repeated or comma-separated, and exits 0 when nothing is left', async () => {
    write('c.cfsm', { name: '', ...folder([
      { name: 'etc', ...folder([{ name: 'passwd', inode: inline('root', { mtimeSec: 1 }) }, { name: 'motd', inode: file(9) }]) },
      { name: 'usr', ...folder([{ name: 'bin', ...folder([{ name: 'sh', inode: file(2) }, { name: 'old', inode: file(3) }]) }]) },
      { name: 'n\xff', inode: inline('x', { uid: 3, mtimeSec: 9 }) },
    ], { mtimeSec: 5 }) })
    expect((await cfs('diff', 'a.cfsm', 'c.cfsm')).stdout).toBe('M /  mtime 1970-01-01T00:00:00->1970-01-01T00:00:05\nM /n\\xff  uid 0->3 mtime 1970-01-01T00:00:00->1970-01-01T00:00:09\n')
    const some = await cfs('diff', '--ignore', 'mtime', 'a.cfsm', 'c.cfsm')
    expect(some).toMatchObject({ code: 6, stdout: 'M /n\\xff  uid 0->3\n' })
    expect(await cfs('diff', '--ignore', 'mtime', '--ignore', 'owner', 'a.cfsm', 'c.cfsm')).toMatchObject({ code: 0, stdout: '' })
    expect(await cfs('diff', '--ignore', 'mtime,owner', 'a.cfsm', 'c.cfsm')).toMatchObject({ code: 0, stdout: '' })
  })

  it('limits the view with --path, including renames that cross it', async () => {
    const r = await cfs('diff', '--path', '/etc/motd', 'a.cfsm', 'b.cfsm')
    expect(r).toMatchObject({ code: 6, stdout: 'R /etc/motd -> /etc/motd.d/welcome\n' })
    const usr = await cfs('diff', '--name-only', '--path', '/usr/bin/', '--path', '/n\\xff', 'a.cfsm', 'b.cfsm')
    expect(usr.stdout).toBe('/n\\xff\n/usr/bin/busybox\n/usr/bin/old\n/usr/bin/sh\n')
    expect(await cfs('diff', '--path', '/var', 'a.cfsm', 'b.cfsm')).toMatchObject({ code: 0, stdout: '' })
  })

  it('says nothing with --quiet and tells by the exit status', async () => {
    expect(await cfs('diff', '-q', 'a.cfsm', 'b.cfsm')).toEqual({ code: 6, stdout: '', stderr: '' })
    expect(await cfs('diff', '-q', 'a.cfsm', 'a.cfsm')).toEqual({ code: 0, stdout: '', stderr: '' })
  })

  it('keeps trouble distinct from a difference: usage 2, bad input 3, missing file 4', async () => {
    const cases: Array<[string[], number, string]> = [
      [['diff', 'a.cfsm'], 2, 'ERR_CFS_USAGE'],
      [['diff', '--ignore', 'size', 'a.cfsm', 'b.cfsm'], 2, 'ERR_CFS_USAGE'],
      [['diff', '--path', 'etc', 'a.cfsm', 'b.cfsm'], 2, 'ERR_CFS_USAGE'],
      [['diff', '--path', '/a\\q', 'a.cfsm', 'b.cfsm'], 2, 'ERR_CFS_USAGE'],
      [['diff', '--stat', '--name-only', 'a.cfsm', 'b.cfsm'], 2, 'ERR_CFS_USAGE'],
      [['diff', '--json', '-q', 'a.cfsm', 'b.cfsm'], 2, 'ERR_CFS_USAGE'],
      [['diff', 'a.cfsm', 'junk'], 3, 'ERR_CFS_MANIFEST_CORRUPT'],
      [['diff', 'a.cfsm', 'truncated.cfsm'], 3, 'ERR_CFS_MANIFEST_CORRUPT'],
      [['diff', 'layer.tar', 'b.cfsm'], 3, 'ERR_CFS_TAR_BAD_CHECKSUM'],
      [['diff', 'a.cfsm', 'missing.cfsm'], 4, 'ERR_CFS_FILE_NOT_FOUND'],
    ]
    fs.writeFileSync(path.join(dir, 'junk'), 'not a manifest')
    fs.writeFileSync(path.join(dir, 'truncated.cfsm'), fs.readFileSync(path.join(dir, 'b.cfsm')).subarray(0, 40))
    const tar = Buffer.alloc(1024)
    tar.write('ustar', 257, 'latin1')
    fs.writeFileSync(path.join(dir, 'layer.tar'), tar)
    for (const [args, code, errCode] of cases) {
      const r = await cfs(...args)
      expect({ args, code: r.code, stdout: r.stdout }).toEqual({ args, code, stdout: '' })
      expect(r.stderr.trim().split('\n')).toHaveLength(1)
      expect(r.stderr).toContain(errCode)
    }
  })
})

describe('cfs diff with image sides', () => {
  const image = (name: string): string => fixturePath(`images/${name}`)

  it('builds tarballs into --store, keeps them there, and diffs them like their manifests', async () => {
    const r = await cfs('diff', '--store', 'store', '--json', image('layer.tar'), image('docker-archive.tar'))
    expect(r.stderr).toBe('')
    expect(r.code).toBe(6)
    const kept = JSON.parse((await cfs('images', '--store', 'store', '--json')).stdout) as { images: Array<{ digest: string }> }
    expect(kept.images).toHaveLength(2)
    expect(await cfs('build', '--store', 'store', image('layer.tar'), '-o', 'layer.cfsm')).toMatchObject({ code: 0 })
    expect(await cfs('build', '--store', 'store', image('docker-archive.tar'), '-o', 'docker.cfsm')).toMatchObject({ code: 0 })
    const fromManifests = await cfs('diff', '--json', 'layer.cfsm', 'docker.cfsm')
    expect(fromManifests.code).toBe(6)
    expect(JSON.parse(r.stdout)).toEqual(JSON.parse(fromManifests.stdout))
    expect(JSON.parse(r.stdout).changes.length).toBeGreaterThan(5)
  })

  it('compares a manifest, an archive, an OCI layout and a directory; the same layers are identical', async () => {
    expect(await cfs('build', '--store', 'store', image('oci-archive.tar'), '-o', 'oci.cfsm')).toMatchObject({ code: 0 })
    expect(await cfs('diff', '--store', 'store', 'oci.cfsm', image('docker-archive.tar'))).toEqual({ code: 0, stdout: '', stderr: '' })
    expect(await cfs('diff', '--store', 'store', image('oci-layout'), 'oci.cfsm')).toEqual({ code: 0, stdout: '', stderr: '' })
    fs.mkdirSync(path.join(dir, 'd1/etc'), { recursive: true })
    fs.writeFileSync(path.join(dir, 'd1/etc/x'), 'one')
    fs.cpSync(path.join(dir, 'd1'), path.join(dir, 'd2'), { recursive: true, preserveTimestamps: true })
    fs.writeFileSync(path.join(dir, 'd2/etc/y'), 'two')
    const r = await cfs('diff', '--store', 'store', '--name-only', 'd1', 'd2')
    expect(r).toMatchObject({ code: 6, stderr: '' })
    expect(r.stdout.split('\n')).toContain('/etc/y')
  })

  it('with --no-store builds into a temporary store and removes it, also when a side fails', async () => {
    const r = await cfs('diff', '--no-store', '--stat', image('layer.tar.zst'), image('oci-archive.tar'))
    expect(r).toMatchObject({ code: 6, stderr: '' })
    expect(r.stdout).toContain('changed content bytes')
    expect(fs.readdirSync(path.join(dir, 'tmp'))).toEqual([])
    expect(fs.existsSync(path.join(dir, 'default-store'))).toBe(false)
    const bad = await cfs('diff', '--no-store', image('docker-archive.tar'), image('truncated.tar'))
    expect(bad.code).toBe(3)
    expect(bad.stderr).toContain('ERR_CFS_TAR_TRUNCATED')
    expect(fs.readdirSync(path.join(dir, 'tmp'))).toEqual([])
  })

  it('reads a side that can be read only once (a pipe, as from <(…)): a manifest or an image', async () => {
    const fifo = path.join(dir, 'side.fifo')
    execFileSync('mkfifo', [fifo])
    for (const [piped, other] of [[path.join(dir, 'a.cfsm'), 'a.cfsm'], [image('oci-archive.tar'), image('docker-archive.tar')]] as const) {
      const [r] = await Promise.all([cfs('diff', '--no-store', fifo, other), fs.promises.writeFile(fifo, fs.readFileSync(piped))])
      expect(r).toEqual({ code: 0, stdout: '', stderr: '' })
    }
    expect(fs.readdirSync(path.join(dir, 'tmp'))).toEqual([])
  })

  it('refuses --store with --no-store, and reports a bad image side as bad input', async () => {
    const both = await cfs('diff', '--store', 'store', '--no-store', 'a.cfsm', 'b.cfsm')
    expect(both.code).toBe(2)
    expect(both.stderr).toContain('ERR_CFS_USAGE')
    const escape = await cfs('diff', '--no-store', image('escape.tar'), 'a.cfsm')
    expect(escape.code).toBe(3)
    expect(escape.stderr).toContain('ERR_CFS_BAD_PATH')
  })
})
