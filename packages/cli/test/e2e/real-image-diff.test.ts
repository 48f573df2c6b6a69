/**
 * `cfs diff` of two versions of an image made by umoci must report what an independent comparison of the two
 * rootfs trees `umoci unpack` extracts reports: the same added, removed and modified paths, with the same
 * attributes. Needs root, umoci, skopeo and getfattr; says why when it skips.
 */
import { execFile } from 'node:child_process'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { makeUmociImage, missingImageTools, scanTree, unpackImage, writeDockerArchive, writeRichTree, type ScannedEntry } from '@cfs/fixtures'

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/cfs.js')
const exec = promisify(execFile)
const missing = missingImageTools()
if (missing !== undefined) console.log(`skipping real-image diff tests: ${missing}`)
const maybe = missing === undefined ? describe : describe.skip

let tmp: string
beforeEach(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-')) })
afterEach(() => { fs.rmSync(tmp, { recursive: true, force: true }) })

async function cfs (...args: string[]): Promise<{ code: number, stdout: string, stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [BIN, ...args], { cwd: tmp, env: { ...process.env, CFS_STORE: path.join(tmp, 'default-store'), TMPDIR: tmp } })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code: number, stdout: string, stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}

type Row = [status: string, path: string, attributes: string[]]

/** The cfs diff attributes two scanned entries differ in (packages/diff/README.md), computed from lstat & co. */
function attributesOf (a: ScannedEntry, b: ScannedEntry): string[] {
  const out: string[] = []
  const differ = (x: unknown, y: unknown): boolean => JSON.stringify(x) !== JSON.stringify(y)
  if (a.type !== b.type) out.push('type')
  if ((a.type === 'file' || b.type === 'file') && differ(a.sha256, b.sha256)) out.push('content')
  if ((a.type !== 'dir' || b.type !== 'dir') && a.size !== b.size) out.push('size')
  if ((parseInt(a.mode, 8) & 0o7777) !== (parseInt(b.mode, 8) & 0o7777)) out.push('mode')
  if (a.uid !== b.uid) out.push('uid')
  if (a.gid !== b.gid) out.push('gid')
  if (a.mtime !== b.mtime) out.push('mtime')
  if (differ(a.xattrs ?? {}, b.xattrs ?? {})) out.push('xattrs')
  if (differ(a.target, b.target)) out.push('target')
  if (differ(a.rdev, b.rdev)) out.push('rdev')
  if (a.type !== 'dir' && b.type !== 'dir' && (a.nlink !== b.nlink || differ(a.links ?? [], b.links ?? []))) out.push('hardlinks')
  return out
}

/** Added, removed and modified paths between two scanned trees, in byte order of paths. */
function diffScans (a: Record<string, ScannedEntry>, b: Record<string, ScannedEntry>): Row[] {
  const rows: Row[] = []
  for (const p of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
    const x = a[p]
    const y = b[p]
    if (x === undefined) rows.push(['added', p, []])
    else if (y === undefined) rows.push(['removed', p, []])
    else {
      const attrs = attributesOf(x, y)
      if (attrs.length > 0) rows.push(['modified', p, attrs])
    }
  }
  return rows
}

/** Sets the mtime of every entry below (and of) `dir`, symlinks included, so the layers' times differ by date. */
function setTimes (dir: string, when: Date): void {
  for (const rel of fs.readdirSync(dir, { recursive: true, encoding: 'utf8' })) fs.lutimesSync(path.join(dir, rel), when, when)
  fs.utimesSync(dir, when, when)
}

interface JsonChange { status: string, path: string, from?: string, attributes?: Record<string, unknown> }

/** cfs diff --json as rows; a rename is its removal and addition (the scan comparison does not pair renames). */
function rowsOfJson (changes: JsonChange[]): Row[] {
  const rows: Row[] = []
  for (const c of changes) {
    if (c.status === 'renamed') rows.push(['removed', c.from!, []], ['added', c.path, []])
    else rows.push([c.status, c.path, Object.keys(c.attributes ?? {})])
  }
  return rows.sort((x, y) => x[1] < y[1] ? -1 : x[1] > y[1] ? 1 : 0)
}

maybe('cfs diff of real images', () => {
  it('reports what comparing the two unpacked rootfs trees reports', async () => {
    const base = path.join(tmp, 'base')
    writeRichTree(base)
    fs.mkdirSync(path.join(base, 'usr/lib'))
    fs.writeFileSync(path.join(base, 'usr/lib/removed.so'), crypto.randomBytes(5000))
    fs.writeFileSync(path.join(base, 'etc/conf'), 'setting = 1\n'.repeat(20))
    fs.writeFileSync(path.join(base, 'etc/mode-me'), 'same bytes, new mode\n')
    fs.symlinkSync('small', path.join(base, 'etc/link'))
    setTimes(base, new Date('2001-02-03T04:05:06.789Z'))
    const v1Layout = path.join(tmp, 'v1')
    const v1 = makeUmociImage(v1Layout, 'img', [{ source: base, target: '/' }])

    // v2: the same image plus layers, as a new release would be
    const upd = path.join(tmp, 'upd')
    fs.mkdirSync(path.join(upd, 'etc'), { recursive: true })
    fs.mkdirSync(path.join(upd, 'usr/bin'), { recursive: true })
    fs.mkdirSync(path.join(upd, 'opt/new'), { recursive: true })
    fs.writeFileSync(path.join(upd, 'etc/conf'), 'setting = 2\n'.repeat(20))
    fs.writeFileSync(path.join(upd, 'etc/mode-me'), 'same bytes, new mode\n', { mode: 0o600 })
    fs.chmodSync(path.join(upd, 'etc/mode-me'), 0o600)
    fs.symlinkSync('empty', path.join(upd, 'etc/link'))
    fs.writeFileSync(path.join(upd, 'usr/bin/tool-link'), 'no longer a hardlink of tool, and much longer than sixty-four bytes!')
    fs.writeFileSync(path.join(upd, 'opt/new/data'), crypto.randomBytes(10_000))
    fs.linkSync(path.join(upd, 'opt/new/data'), path.join(upd, 'opt/new/data-link'))
    fs.writeFileSync(path.join(upd, 'owned'), 'owned by 1234')
    fs.chownSync(path.join(upd, 'owned'), 4321, 8765)
    setTimes(upd, new Date('2002-02-03T04:05:06Z'))
    fs.utimesSync(path.join(upd, 'etc/mode-me'), new Date('2001-02-03T04:05:06.789Z'), new Date('2001-02-03T04:05:06.789Z'))
    const v2Layout = path.join(tmp, 'v2')
    fs.cpSync(v1Layout, v2Layout, { recursive: true })
    const v2 = makeUmociImage(v2Layout, 'img', [
      { source: upd, target: '/' },
      { whiteout: '/usr/lib/removed.so' },
      { whiteout: '/etc/sub' },
      { source: path.join(base, 'etc/small'), target: '/etc/added' },
    ])
    const v2Archive = path.join(tmp, 'v2.tar')
    writeDockerArchive(v2, v2Archive)

    const store = path.join(tmp, 'store')
    const r = await cfs('diff', '--json', '--store', store, v1Layout, v2Archive)
    expect(r.stderr).toBe('')
    expect(r.code).toBe(6)
    const got = rowsOfJson((JSON.parse(r.stdout) as { changes: JsonChange[] }).changes)

    const before = scanTree(unpackImage(v1, path.join(tmp, 'bundle1')), { xattrs: true })
    const after = scanTree(unpackImage(v2, path.join(tmp, 'bundle2')), { xattrs: true })
    const want = diffScans(before, after)
    // No normalisation is needed, directory mtimes included: umoci writes an entry for every directory it inserts
    // (with the source's mtime), and `umoci unpack` puts a parent's mtime back after creating or removing an entry
    // in it, so a directory keeps the mtime of the last layer that declared it, which is what the cfs model keeps.
    expect(got).toEqual(want)
    // the data really has each kind of change
    expect(want).toEqual(expect.arrayContaining([
      ['added', '/opt/new/data-link', []],
      ['removed', '/usr/lib/removed.so', []],
      ['removed', '/etc/sub/old', []],
      ['modified', '/', ['mtime']],
      ['modified', '/etc/conf', ['content', 'mtime']],
      ['modified', '/owned', ['uid', 'gid', 'mtime']],
      ['modified', '/etc/mode-me', expect.arrayContaining(['mode'])],
      ['modified', '/etc/link', expect.arrayContaining(['target'])],
      ['modified', '/usr/bin/tool', ['hardlinks']],
    ]))
    // a whiteout in /usr/lib and a file inserted alone into /etc leave those directories' mtimes alone
    expect(want.find(row => row[1] === '/usr/lib')).toBeUndefined()
    expect(after['/etc']!.mtime).toBe('1012709106.000000000')
    // both sides were built into --store and are kept there
    expect(JSON.parse((await cfs('images', '--json', '--store', store)).stdout).images).toHaveLength(2)
  })
})
