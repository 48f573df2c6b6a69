/** A small image built in code with every kind of entry, written to a temp dir as manifest + store. */
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import {
  encodeManifest, finalizeTree, makeInode, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFREG, S_IFSOCK,
  type Inode, type Manifest, type Node,
} from '@cfs/manifest'
import { Store } from '@cfs/store'

export interface SampleImage {
  manifest: Manifest
  manifestPath: string
  storeDir: string
  store: Store
  /** content of every regular file, by byte-string path ('/a/b') */
  contents: Map<string, Buffer>
}

/** deterministic bytes, so a failure reproduces */
export function bytesOf (seed: number, length: number): Buffer {
  const out = Buffer.alloc(length)
  let block = Buffer.alloc(0)
  for (let off = 0, i = 0; off < length; i++) {
    block = crypto.createHash('sha256').update(`${seed}:${i}`).digest()
    off += block.copy(out, off)
  }
  return out
}

const x = (key: string, value: string | Buffer): { key: string, value: Uint8Array } =>
  ({ key, value: typeof value === 'string' ? Buffer.from(value) : value })

/** `extra` lets a test add entries to the root before the manifest is written */
export async function makeSampleImage (dir: string, extra: (root: Node[], store: Store) => Promise<void> = async () => {}): Promise<SampleImage> {
  const storeDir = path.join(dir, 'store')
  const store = await Store.open(storeDir, { create: true })
  const external = async (content: Buffer, fields: Partial<Inode> = {}): Promise<Inode> => {
    const { digest } = await store.writeObject(content)
    return makeInode(S_IFREG | 0o644, { size: content.length, digest, mtimeSec: 1700000000, mtimeNsec: 987654321, ...fields })
  }
  const big = bytesOf(1, 3 * 1024 * 1024 + 12345)
  const medium = bytesOf(2, 70000)
  const hardlinked = await external(bytesOf(3, 5000), { nlink: 2, uid: 1000, gid: 100, xattrs: [x('user.group', 'links')] })
  const root: Node[] = [
    { name: 'big.bin', inode: await external(big, { mode: S_IFREG | 0o600 }) },
    { name: 'medium.bin', inode: await external(medium, { mode: S_IFREG | 0o4755, uid: 0, gid: 0 }) },
    { name: 'inline.txt', inode: makeInode(S_IFREG | 0o2644, { size: 6, inline: Buffer.from('small\n'), mtimeSec: -1, mtimeNsec: 5 }) },
    { name: 'empty', inode: makeInode(S_IFREG | 0o444, { mtimeSec: 86400 }) },
    { name: 'link-a', inode: hardlinked },
    { name: 'symlink', inode: makeInode(S_IFLNK | 0o777, { size: 7, target: 'big.bin', uid: 5, gid: 6 }) },
    { name: 'dangling', inode: makeInode(S_IFLNK | 0o777, { size: 18, target: '/no/such/place/at' }) },
    { name: 'null', inode: makeInode(S_IFCHR | 0o666, { rdev: (1 << 8) | 3 }) },
    { name: 'loop9', inode: makeInode(S_IFBLK | 0o660, { rdev: (7 << 8) | 9, gid: 6 }) },
    { name: 'fifo', inode: makeInode(S_IFIFO | 0o640) },
    { name: 'sock', inode: makeInode(S_IFSOCK | 0o755) },
    { name: 'name \xff\xfe bytes', inode: makeInode(S_IFREG | 0o644, { size: 2, inline: Buffer.from('ff') }) },
    {
      name: 'xattrs',
      inode: makeInode(S_IFREG | 0o644, {
        size: 3,
        inline: Buffer.from('x!\n'),
        xattrs: [x('user.plain', 'value'), x('user.binary', Buffer.from([0, 1, 2, 255])), x('trusted.overlay.test', 'y'),
          x('security.cfs-test', 'label'), x('user.empty', '')],
      }),
    },
    {
      name: 'sticky',
      inode: makeInode(S_IFDIR | 0o1777, { uid: 1000, gid: 1000, mtimeSec: 1600000000, mtimeNsec: 1 }),
      children: [
        { name: 'link-b', inode: hardlinked },
        { name: 'deep', inode: makeInode(S_IFDIR | 0o750), children: [{ name: 'deeper', inode: makeInode(S_IFDIR | 0o755), children: [
          { name: 'leaf.bin', inode: await external(bytesOf(4, 4096)) },
        ] }] },
      ],
    },
    {
      name: 'many',
      inode: makeInode(S_IFDIR | 0o755),
      children: Array.from({ length: 300 }, (_, i) => ({ name: `entry-with-a-longer-name-${i}`, inode: makeInode(S_IFREG | 0o644, { size: 1, inline: Buffer.from([i & 255]) }) })),
    },
  ]
  await extra(root, store)
  const manifest = finalizeTree({ root: { name: '', inode: makeInode(S_IFDIR | 0o755, { mtimeSec: 1234567890, mtimeNsec: 999999999, xattrs: [x('user.root', 'r')] }), children: root } })
  const manifestPath = path.join(dir, 'image.cfsm')
  fs.writeFileSync(manifestPath, encodeManifest(manifest))
  const contents = new Map<string, Buffer>()
  const objectOf = async (inode: Inode): Promise<Buffer> =>
    inode.inline !== undefined ? Buffer.from(inode.inline) : inode.size === 0 ? Buffer.alloc(0)
      : inode.digest !== undefined && fs.existsSync(store.objectPath(inode.digest)) ? fs.readFileSync(store.objectPath(inode.digest)) : Buffer.alloc(0)
  const walk = async (node: Node, p: string): Promise<void> => {
    for (const c of node.children ?? []) {
      const cp = `${p}/${c.name}`
      if ((c.inode.mode & 0o170000) === S_IFREG) contents.set(cp, await objectOf(c.inode))
      await walk(c, cp)
    }
  }
  await walk(manifest.root, '')
  return { manifest, manifestPath, storeDir, store, contents }
}

/** Why FUSE tests cannot run here, or undefined when they can. */
export function fuseSkipReason (): string | undefined {
  if (!fs.existsSync('/dev/fuse')) return 'no /dev/fuse'
  if (process.getuid?.() !== 0) return 'not root'
  return undefined
}
