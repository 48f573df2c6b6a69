/**
 * Compares a mounted composefs tree with its model, entry by entry: lstat (mode, uid, gid, size, mtime ns, nlink,
 * rdev, inode identity of hardlinks), readdir, readlink, xattrs (getfattr) and, where known, content. Names are
 * byte strings, so paths go to the kernel as Buffers. Returns every difference as a line of text.
 */
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import { directorySize, isExternal, S_IFCHR, S_IFMT, S_IFREG, walkDepthFirst, type Inode, type Manifest, type Node } from '@cfs/manifest'
import { exec } from './kernel-env.js'

const isWhiteout = (node: Node): boolean =>
  node.children === undefined && (node.inode.mode & S_IFMT) === S_IFCHR && node.inode.rdev === 0
const hex = (s: string): string => Buffer.from(s, 'latin1').toString('hex')
const sha = (b: Uint8Array): string => crypto.createHash('sha256').update(b).digest('hex')

/** What getfattr shows through the overlay (spec §3.5): the model's xattrs, plus the markers the image adds for
 *  whiteouts (overlayfs unescapes `trusted.overlay.overlay.*`). A tree with whiteouts is format 1 by default. */
export function expectedXattrs (node: Node): Record<string, string> {
  const want: Record<string, string> = {}
  // Linux keeps user.* xattrs to regular files and directories: reading one elsewhere answers ENODATA (xattr(7))
  const userOk = isWhiteout(node) || (node.inode.mode & S_IFMT) === S_IFREG || node.children !== undefined
  for (const x of node.inode.xattrs) if (userOk || !x.key.startsWith('user.')) want[x.key] = Buffer.from(x.value).toString('hex')
  if (isWhiteout(node)) {
    want['trusted.overlay.whiteout'] = ''
    want['user.overlay.whiteout'] = ''
  }
  if (node.children?.some(isWhiteout) === true) {
    Object.assign(want, {
      'trusted.overlay.whiteouts': '', 'user.overlay.whiteouts': '', 'trusted.overlay.opaque': hex('x'), 'user.overlay.opaque': hex('x'),
    })
  }
  return want
}

/** getfattr prints names with octal escapes for unusual bytes */
const unescapeGetfattr = (s: string): string => s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)))

/** xattrs of byte-string paths as `getfattr -h -d -m - -e hex` reports them */
export async function xattrsOfPaths (paths: string[]): Promise<Map<string, Record<string, string>>> {
  const out = new Map<string, Record<string, string>>()
  for (const p of paths) out.set(p, {})
  for (let i = 0; i < paths.length; i += 200) {
    const batch = paths.slice(i, i + 200)
    // execFile takes strings; latin1 in, latin1 out keeps every byte
    const { stdout } = await exec('getfattr', ['-h', '-d', '-m', '-', '-e', 'hex', '--absolute-names', ...batch],
      { encoding: 'latin1', maxBuffer: 256 << 20 }).catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }))
    let cur: Record<string, string> | undefined
    for (const line of stdout.split('\n')) {
      if (line.startsWith('# file: ')) { cur = out.get(unescapeGetfattr(line.slice(8))); continue }
      const m = /^([^=]+)(?:=0x([0-9a-f]*))?$/.exec(line)
      if (m !== null && cur !== undefined) cur[m[1]!] = m[2] ?? ''
    }
  }
  return out
}

export async function compareWithModel (mnt: string, manifest: Manifest, content = new Map<Inode, Uint8Array>()): Promise<string[]> {
  const diffs: string[] = []
  const inoOf = new Map<Inode, bigint>()
  const inodeOfIno = new Map<bigint, Inode>()
  const entries: Array<[string, Node]> = []
  const unreachable = new Set<string>()
  walkDepthFirst(manifest, (p, node) => { entries.push([p, node]) })
  const mntBytes = Buffer.from(mnt, 'utf8').toString('latin1')
  const fullOf = (p: string): string => p === '/' ? mntBytes : mntBytes + p
  for (const [p, node] of entries) {
    const file = Buffer.from(fullOf(p), 'latin1')
    const inode = node.inode
    const at = (what: string, got: unknown, want: unknown): void => {
      if (got !== want) diffs.push(`${JSON.stringify(p)}: ${what} ${String(got)}, model ${String(want)}`)
    }
    let st: fs.BigIntStats
    if (isExternal(inode) && (inode.payload ?? '') === '') {
      // no redirect: overlayfs cannot find the data and aborts the lookup ("metacopy with no lower data found")
      try { fs.lstatSync(file); diffs.push(`${JSON.stringify(p)}: external file without payload was found`) } catch (err) {
        at('lstat error', (err as NodeJS.ErrnoException).code, 'EIO')
      }
      unreachable.add(p)
      continue
    }
    try { st = fs.lstatSync(file, { bigint: true }) } catch (err) { diffs.push(`${JSON.stringify(p)}: ${(err as Error).message}`); continue }
    const whiteout = isWhiteout(node)
    at('mode', st.mode, BigInt(whiteout ? S_IFREG | (inode.mode & 0o7777) : inode.mode))
    at('uid', st.uid, BigInt(inode.uid))
    at('gid', st.gid, BigInt(inode.gid))
    at('size', st.size, BigInt(node.children !== undefined ? directorySize(node, p === '/') : whiteout ? 0 : inode.size))
    at('mtime', st.mtimeNs, BigInt(inode.mtimeSec) * 1000000000n + BigInt(inode.mtimeNsec))
    at('nlink', st.nlink, BigInt(inode.nlink))
    at('rdev', st.rdev, BigInt(whiteout ? 0 : inode.rdev))
    if (node.children !== undefined) {
      const names = fs.readdirSync(file, { encoding: 'buffer' }).map(b => b.toString('latin1'))
      at('entries', names.join('/'), node.children.map(c => c.name).join('/'))
    }
    if (inode.target !== undefined) at('target', fs.readlinkSync(file, { encoding: 'buffer' }).toString('latin1'), inode.target)
    const bytes = inode.inline ?? content.get(inode) ?? (whiteout ? new Uint8Array(0) : undefined)
    if (bytes !== undefined && (inode.mode & S_IFMT) === S_IFREG) at('content sha256', sha(fs.readFileSync(file)), sha(bytes))
    // hardlinks share an inode number; different inodes never do
    const ino = inoOf.get(inode) ?? st.ino
    inoOf.set(inode, ino)
    at('ino', st.ino, ino)
    if ((inodeOfIno.get(st.ino) ?? inode) !== inode) diffs.push(`${JSON.stringify(p)}: ino ${st.ino} also used by another inode`)
    inodeOfIno.set(st.ino, inode)
  }
  const seen = await xattrsOfPaths(entries.map(([p]) => fullOf(p)))
  for (const [p, node] of entries) {
    if (unreachable.has(p)) continue
    const got = JSON.stringify(Object.entries(seen.get(fullOf(p)) ?? {}).sort())
    const want = JSON.stringify(Object.entries(expectedXattrs(node)).sort())
    if (got !== want) diffs.push(`${JSON.stringify(p)}: xattrs ${got}, model ${want}`)
  }
  return diffs
}
