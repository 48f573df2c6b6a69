/**
 * A deterministic tree shaped like an OS image (deep directories, SELinux labels, symlinks, hardlinks, a few
 * devices, inline and external files), grown from a seed. Used by the codec tests and scripts/bench-manifest.ts.
 */
import { createHash } from 'node:crypto'
import { finalizeTree } from '../src/tree.js'
import { XattrSets } from '../src/xattr-sets.js'
import { makeInode, objectPathOf, S_IFCHR, S_IFBLK, S_IFDIR, S_IFIFO, S_IFLNK, S_IFREG, S_IFSOCK, type Inode, type Manifest, type Node, type Xattr } from '../src/model.js'

/** mulberry32: small, fast, and the same sequence everywhere. */
export function prng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const WORDS = ['usr', 'lib', 'share', 'bin', 'etc', 'locale', 'doc', 'man', 'python3.12', 'site-packages', 'include',
  'systemd', 'system', 'x86_64-linux-gnu', 'perl5', 'icons', 'hicolor', 'scalable', 'apps', 'fonts', 'truetype',
  'kernel', 'modules', 'drivers', 'net', 'firmware', 'zoneinfo', 'America', 'Europe', 'terminfo', 'mime', 'gconv',
  'pkgconfig', 'cmake', 'gems', 'node_modules', 'src', 'test', 'data', 'config', 'plugins', 'backends', '__pycache__']
const STEMS = ['core', 'util', 'net', 'ssl', 'crypto', 'xml', 'json', 'http', 'dbus', 'glib', 'gtk', 'qt', 'z',
  'ffi', 'uuid', 'audit', 'selinux', 'pam', 'krb5', 'curl', 'sqlite', 'bz2', 'lzma', 'zstd', 'png', 'jpeg', 'tiff']
const EXTS = ['.so', '.py', '.pyc', '.h', '.conf', '.txt', '.mo', '.gz', '.pm', '.json', '.xml', '.svg', '.png', '', '.service', '.ko.xz']
const SELINUX_TYPES = ['bin', 'lib', 'usr', 'etc', 'man', 'locale', 'fonts', 'systemd_unit_file', 'shell_exec', 'ld_so',
  'textrel_shlib', 'cert', 'net_conf', 'modules_object', 'system_conf', 'admin_home', 'var_lib', 'var_log', 'device', 'root']

function label (t: string): Uint8Array { return Buffer.from(`system_u:object_r:${t}_t:s0\0`, 'latin1') }

/**
 * A finalized tree with about `entries` nodes. The same (entries, seed) always gives the same tree; `order`
 * only changes the order children and xattrs are inserted in, which finalizeTree must undo.
 */
export function syntheticTree (entries: number, seed = 1, order: 'asc' | 'shuffled' = 'asc'): Manifest {
  const rnd = prng(seed)
  const shuffle = prng(seed + 1) // its own sequence, so the shuffled tree holds the same entries
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!
  const epoch = 1700000000
  const mtimes = [epoch, epoch + 3600, epoch + 86400 * 30, epoch - 86400 * 400]
  const files: Inode[] = []
  const sets = new XattrSets()
  let count = 1
  let serial = 0

  const mkInode = (mode: number, selinux: string): Inode => {
    const xattrs: Xattr[] = [{ key: 'security.selinux', value: label(selinux) }]
    if (rnd() < 0.01) xattrs.push({ key: 'security.capability', value: Buffer.from([1, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]) })
    if (rnd() < 0.02) xattrs.push({ key: 'user.origin', value: Buffer.from(pick(STEMS)) })
    if (order === 'shuffled') xattrs.reverse()
    return makeInode(mode, {
      uid: rnd() < 0.95 ? 0 : 999,
      gid: rnd() < 0.93 ? 0 : pick([4, 999, 100]),
      mtimeSec: pick(mtimes) + (rnd() < 0.2 ? Math.floor(rnd() * 1e6) : 0),
      mtimeNsec: rnd() < 0.7 ? 0 : Math.floor(rnd() * 1e9),
      // one array per distinct set, as cfs build and the dump reader give them (XattrSets)
      xattrs: sets.intern(XattrSets.idOf(xattrs), () => xattrs),
    })
  }

  const grow = (dir: Node, depth: number, selinux: string): void => {
    const kids = dir.children!
    const names = new Set<string>(kids.map(c => c.name))
    const width = depth === 0 ? 12 : Math.floor(rnd() * rnd() * 60) + 1
    for (let i = 0; i < width && count < entries; i++) {
      const r = rnd()
      let name = r < 0.25 ? pick(WORDS) : `${rnd() < 0.5 ? 'lib' : ''}${pick(STEMS)}${rnd() < 0.5 ? '-' + String(serial++ % 997) : ''}${pick(EXTS)}`
      if (rnd() < 0.05) name = `n\xe9\xff${serial++}` // non-UTF-8 bytes
      if (names.has(name)) continue
      names.add(name)
      count++
      const sel = depth === 0 ? pick(SELINUX_TYPES) : selinux
      let node: Node
      const k = rnd()
      if ((k < 0.12 && depth < 10) || depth === 0) {
        node = { name, inode: mkInode(S_IFDIR | 0o755, sel), children: [] }
        kids.push(node)
        queue.push([node, depth + 1, sel])
        continue
      } else if (k < 0.22) {
        const target = `../${pick(WORDS)}/${pick(STEMS)}${pick(EXTS)}`
        node = { name, inode: mkInode(S_IFLNK | 0o777, sel) }
        node.inode.target = target
        node.inode.size = target.length
      } else if (k < 0.225) {
        const mode = pick([S_IFCHR, S_IFBLK, S_IFIFO, S_IFSOCK])
        node = { name, inode: mkInode(mode | 0o660, 'device') }
        if (mode === S_IFCHR || mode === S_IFBLK) node.inode.rdev = Math.floor(rnd() * 256) * 256 + Math.floor(rnd() * 256)
      } else if (k < 0.24 && files.length > 0) {
        const inode = pick(files) // a hardlink
        inode.nlink++
        node = { name, inode }
      } else {
        const inode = mkInode(S_IFREG | (rnd() < 0.2 ? 0o755 : rnd() < 0.01 ? 0o4755 : 0o644), sel)
        const size = rnd() < 0.03 ? 0 : Math.floor(Math.exp(rnd() * 14))
        inode.size = size
        if (size > 0 && size <= 64) inode.inline = Buffer.from(createHash('sha256').update(String(serial++)).digest('hex').slice(0, size))
        else if (size > 0) {
          inode.digest = createHash('sha256').update(`content ${serial++}`).digest()
          inode.payload = objectPathOf(inode.digest)
        }
        files.push(inode)
        node = { name, inode }
      }
      kids.push(node)
    }
    if (order === 'shuffled') {
      for (let i = kids.length - 1; i > 0; i--) { const j = Math.floor(shuffle() * (i + 1)); [kids[i], kids[j]] = [kids[j]!, kids[i]!] }
    }
  }

  // breadth-first, so the top levels are wide as in a real image; the root grows again if the queue runs dry
  const root: Node = { name: '', inode: mkInode(S_IFDIR | 0o755, 'root'), children: [] }
  const queue: Array<[Node, number, string]> = []
  while (count < entries) {
    const next = queue.shift()
    if (next === undefined) grow(root, 0, 'root'); else grow(...next)
  }
  return finalizeTree({ root })
}
