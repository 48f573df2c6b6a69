import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { encodeManifest, finalizeTree, makeInode, S_IFCHR, S_IFDIR, S_IFLNK, S_IFREG, type Manifest, type Node } from '@cfs/manifest'

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/cfs.js')
const exec = promisify(execFile)

async function run (file: string, args: string[]): Promise<{ code: number, stdout: string, stderr: string }> {
  try {
    const { stdout, stderr } = await exec(file, args)
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code: number, stdout: string, stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}
const cfs = async (...args: string[]): Promise<{ code: number, stdout: string, stderr: string }> => await run(process.execPath, [BIN, ...args])
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')
const bytes = (s: string): Uint8Array => Buffer.from(s, 'latin1')

/** The spec's ex2 tree (composefs-format.md §5.3): symlink, subdirectory, shared selinux label, extended inode,
 *  external file with digest and a trusted.overlay xattr, hardlink, whiteout and device. */
function ex2 (): Manifest {
  const t = { mtimeSec: 1700000000 }
  const etcLabel = bytes('system_u:object_r:etc_t:s0\0')
  const big = makeInode(S_IFREG | 0o644, {
    ...t, nlink: 2, uid: 1000, gid: 1000, size: 100000,
    digest: Buffer.from('814a92e54de3fd3e5337ed8607807bc95cfb4ffcf0f586265fd597a3dcffdce4', 'hex'),
    payload: '81/4a92e54de3fd3e5337ed8607807bc95cfb4ffcf0f586265fd597a3dcffdce4',
    xattrs: [{ key: 'trusted.overlay.opaque', value: bytes('y') }],
  })
  const etc: Node = {
    name: 'etc',
    inode: makeInode(S_IFDIR | 0o755, { ...t, xattrs: [{ key: 'security.selinux', value: etcLabel }, { key: 'user.note', value: bytes('a=b c') }] }),
    children: [
      { name: 'hosts', inode: makeInode(S_IFREG | 0o644, { ...t, mtimeNsec: 5, size: 12, inline: bytes('127.0.0.1 x\n'), xattrs: [{ key: 'security.selinux', value: etcLabel }] }) },
      { name: 'big', inode: big },
      { name: 'big-link', inode: big },
      { name: 'gone', inode: makeInode(S_IFCHR, t) },
      { name: 'null', inode: makeInode(S_IFCHR | 0o666, { ...t, rdev: 259 }) },
    ],
  }
  return finalizeTree({
    root: {
      name: '',
      inode: makeInode(S_IFDIR | 0o755, { ...t, xattrs: [{ key: 'security.selinux', value: bytes('system_u:object_r:root_t:s0\0') }] }),
      children: [{ name: 'bin', inode: makeInode(S_IFLNK | 0o777, { ...t, size: 7, target: 'usr/bin' }) }, etc],
    },
  })
}

describe('cfs export-erofs', () => {
  let dir: string
  let manifestFile: string
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-'))
    manifestFile = path.join(dir, 'ex2.cfsm')
    fs.writeFileSync(manifestFile, encodeManifest(ex2()))
  })
  afterAll(() => { fs.rmSync(dir, { recursive: true, force: true }) })

  it('writes the image mkcomposefs writes, which fsck.erofs accepts', async () => {
    const out = path.join(dir, 'ex2.erofs')
    const r = await cfs('export-erofs', manifestFile, out)
    expect(r).toMatchObject({ code: 0, stderr: '' })
    expect(sha256(fs.readFileSync(out))).toBe('98ca8df09d797b338bacc051286458f4543b2fe34ccb71a3975988aa361d594f')
    const fsck = await run('fsck.erofs', [out])
    expect(fsck.code).toBe(0)
    expect(fs.readdirSync(dir).sort()).toEqual(['ex2.cfsm', 'ex2.erofs'])
  })

  it('honours --erofs-version and prints the fs-verity digest as bare hex', async () => {
    const out = path.join(dir, 'ex2-v0.erofs')
    const r = await cfs('export-erofs', manifestFile, out, '--erofs-version', '0', '--print-digest')
    expect(r.code).toBe(0)
    expect(r.stdout.trim()).toBe('da06a3e5ecf6c5e18ba56603a1d67c9e77a9f2ba4757cdc68f02ab37be447d09')
    expect(sha256(fs.readFileSync(out))).toBe('eeec54af7b10a575ffb123323575301ed533f5ca358a3240130ea98215d23f91')
  })

  it('reports size and digest with --json', async () => {
    const out = path.join(dir, 'ex2-json.erofs')
    const r = await cfs('export-erofs', manifestFile, out, '--json')
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toEqual({ schema: 'cfs.export-erofs/1', image: out, size: 24576, digest: 'dcf755909bcfc7489813f43451710c2202e0c7c07e51384b4328857e900081de' })
  })

  it('rejects a format version above 1 with the usage exit code', async () => {
    const r = await cfs('export-erofs', manifestFile, path.join(dir, 'v2.erofs'), '--erofs-version', '2')
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('ERR_CFS_USAGE')
    expect(fs.existsSync(path.join(dir, 'v2.erofs'))).toBe(false)
  })

  it('exits 4 when the manifest does not exist', async () => {
    const r = await cfs('export-erofs', path.join(dir, 'missing.cfsm'), path.join(dir, 'x.erofs'))
    expect(r.code).toBe(4)
    expect(r.stderr).toContain('ERR_CFS_FILE_NOT_FOUND')
  })
})
