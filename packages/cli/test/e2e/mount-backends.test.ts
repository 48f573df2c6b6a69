/**
 * The two mount backends must show the same tree: `cfs mount` (FUSE) and `cfs mount --backend kernel` (EROFS +
 * overlayfs) of one manifest and store are walked side by side and compared attribute for attribute (lstat,
 * readdir, readlink, xattrs) and byte for byte, and both against the model. Needs root, /dev/fuse and the
 * kernel's erofs + overlay; says why when it skips.
 */
import { execFile } from 'node:child_process'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import {
  encodeManifest, finalizeTree, makeInode, objectPathOf, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFREG,
  type Inode, type Node,
} from '@cfs/manifest'
import { Store } from '@cfs/store'
import { mountSkipReason } from './mount-skip.js'

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/cfs.js')
const exec = promisify(execFile)

async function cfs (...args: string[]): Promise<string> {
  const { stdout } = await exec(process.execPath, [BIN, ...args])
  return stdout
}

interface Seen { lstat: string, entries?: string, target?: string, sha?: string, xattrs: string }

/** Everything a reader can see of a mounted tree, keyed by byte-string path. */
async function snapshot (root: string): Promise<Map<string, Seen>> {
  const out = new Map<string, Seen>()
  const paths: string[] = []
  const walk = (rel: string): void => {
    const full = Buffer.from(root + rel, 'latin1')
    const st = fs.lstatSync(full, { bigint: true })
    const seen: Seen = {
      lstat: [st.mode, st.uid, st.gid, st.size, st.mtimeNs, st.nlink, st.rdev].join(' '),
      xattrs: '',
    }
    out.set(rel, seen)
    paths.push(root + rel)
    if (st.isDirectory()) {
      const names = fs.readdirSync(full, { encoding: 'buffer' }).map(b => b.toString('latin1')).sort()
      seen.entries = names.join('/')
      for (const n of names) walk(rel === '' ? `/${n}` : `${rel}/${n}`)
    } else if (st.isSymbolicLink()) {
      seen.target = fs.readlinkSync(full, { encoding: 'buffer' }).toString('latin1')
    } else if (st.isFile()) {
      seen.sha = crypto.createHash('sha256').update(fs.readFileSync(full)).digest('hex')
    }
  }
  walk('')
  const { stdout } = await exec('getfattr', ['-h', '-d', '-m', '-', '-e', 'hex', '--absolute-names', ...paths], { encoding: 'latin1' })
    .catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }))
  let cur: Seen | undefined
  for (const line of stdout.split('\n')) {
    if (line.startsWith('# file: ')) {
      const p = line.slice(8).replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)))
      cur = out.get(p.slice(root.length))
    } else if (line !== '' && cur !== undefined) cur.xattrs += line + ';'
  }
  return out
}

const reason = mountSkipReason()
const maybe = reason === undefined ? describe : describe.skip
if (reason !== undefined) console.warn(`skipped mount backend comparison: ${reason}`)

maybe('cfs mount: FUSE and kernel backends', () => {
  let dir: string
  let fuseMnt: string
  let kernelMnt: string
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-'))
    fuseMnt = path.join(dir, 'fuse')
    kernelMnt = path.join(dir, 'kernel')
    fs.mkdirSync(fuseMnt)
    fs.mkdirSync(kernelMnt)
  })
  afterAll(async () => {
    for (const mnt of [fuseMnt, kernelMnt]) {
      await exec(process.execPath, [BIN, 'umount', mnt]).catch(async () => { await exec('umount', ['-l', mnt]).catch(() => {}) })
    }
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it('shows the same tree through both, equal to the image', async () => {
    const store = await Store.open(path.join(dir, 'store'), { create: true })
    let t = 1700000000
    const at = (): Partial<Inode> => ({ mtimeSec: t++, mtimeNsec: (t * 7919) % 1000000000 })
    const external = async (bytes: Buffer, fields: Partial<Inode> = {}): Promise<Inode> => {
      const { digest } = await store.writeObject(bytes)
      return makeInode(S_IFREG | 0o644, { ...at(), ...fields, size: bytes.length, digest, payload: objectPathOf(digest) })
    }
    const big = await external(crypto.randomBytes(300_000), { nlink: 2, uid: 1000, gid: 100 })
    const label = { key: 'security.selinux', value: Buffer.from('system_u:object_r:bin_t:s0\0') }
    const kids: Node[] = [
      { name: 'big', inode: big },
      { name: 'big-link', inode: big },
      { name: 'small', inode: makeInode(S_IFREG | 0o4755, { ...at(), size: 5, inline: Buffer.from('hello'), xattrs: [label, { key: 'user.k', value: Buffer.from([0, 1, 255]) }] }) },
      { name: 'empty', inode: makeInode(S_IFREG | 0o600, at()) },
      { name: 'link', inode: makeInode(S_IFLNK | 0o777, { ...at(), size: 3, target: 'big' }) },
      { name: 'null', inode: makeInode(S_IFCHR | 0o666, { ...at(), rdev: (1 << 8) | 3 }) },
      { name: 'sda', inode: makeInode(S_IFBLK | 0o660, { ...at(), rdev: (8 << 8) | 0, gid: 6 }) },
      { name: 'fifo', inode: makeInode(S_IFIFO | 0o644, at()) },
      { name: 'caf\xc3\xa9-\xff', inode: makeInode(S_IFREG | 0o644, { ...at(), size: 2, inline: Buffer.from('ok') }) },
      { name: 'tmp', inode: makeInode(S_IFDIR | 0o1777, at()), children: [] },
      {
        name: 'usr', inode: makeInode(S_IFDIR | 0o2755, { ...at(), xattrs: [label] }), children: [
          { name: 'again', inode: await external(crypto.randomBytes(70)) },
        ],
      },
    ]
    const manifest = finalizeTree({ root: { name: '', inode: makeInode(S_IFDIR | 0o755, at()), children: kids } })
    const mfile = path.join(dir, 'image.cfsm')
    fs.writeFileSync(mfile, encodeManifest(manifest))

    await cfs('mount', mfile, fuseMnt, '--store', store.root)
    await cfs('mount', mfile, kernelMnt, '--store', store.root, '--backend', 'kernel')
    const viaFuse = await snapshot(fuseMnt)
    const viaKernel = await snapshot(kernelMnt)

    expect([...viaFuse.keys()].sort()).toEqual([...viaKernel.keys()].sort())
    for (const [p, seen] of viaFuse) expect({ path: p, ...viaKernel.get(p) }).toEqual({ path: p, ...seen })
    // and both are the image: spot-check against the model
    expect(viaFuse.get('/caf\xc3\xa9-\xff')?.sha).toBe(crypto.createHash('sha256').update('ok').digest('hex'))
    expect(viaFuse.get('/small')?.lstat.split(' ')[0]).toBe(String(S_IFREG | 0o4755))
    expect(viaFuse.get('/small')?.xattrs).toContain('security.selinux=0x')
    const ino = (mnt: string, p: string): bigint => fs.lstatSync(mnt + p, { bigint: true }).ino
    for (const mnt of [fuseMnt, kernelMnt]) expect(ino(mnt, '/big')).toBe(ino(mnt, '/big-link'))

    await cfs('umount', fuseMnt)
    await cfs('umount', kernelMnt)
    const table = fs.readFileSync('/proc/self/mountinfo', 'utf8')
    expect(table).not.toContain(fuseMnt)
    expect(table).not.toContain(kernelMnt)
  })
})
