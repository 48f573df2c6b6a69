/** The spec's worked examples ex1 and ex2 (composefs-format.md §4.15, §5.3) built as trees in code. */
import { finalizeTree, makeInode, S_IFCHR, S_IFDIR, S_IFLNK, S_IFREG, type Manifest, type Node } from '@cfs/manifest'

const bytes = (s: string): Uint8Array => Buffer.from(s, 'latin1')
const dir = (name: string, inode: Node['inode'], children: Node[]): Node => ({ name, inode, children })
const leaf = (name: string, inode: Node['inode']): Node => ({ name, inode })

export function ex1 (): Manifest {
  const t = { mtimeSec: 1000 }
  return finalizeTree({
    root: dir('', makeInode(S_IFDIR | 0o755, t), [
      leaf('a', makeInode(S_IFREG | 0o644, { ...t, size: 5, inline: bytes('hello') })),
    ]),
  })
}

/** ex2 and the Node that is its hardlink entry (`/etc/big-link`). */
export function ex2 (): { manifest: Manifest, link: Node } {
  const t = { mtimeSec: 1700000000 }
  const etcLabel = bytes('system_u:object_r:etc_t:s0\0')
  const digest = Buffer.from('814a92e54de3fd3e5337ed8607807bc95cfb4ffcf0f586265fd597a3dcffdce4', 'hex')
  const big = makeInode(S_IFREG | 0o644, {
    ...t, nlink: 2, uid: 1000, gid: 1000, size: 100000, digest,
    payload: '81/4a92e54de3fd3e5337ed8607807bc95cfb4ffcf0f586265fd597a3dcffdce4',
    xattrs: [{ key: 'trusted.overlay.opaque', value: bytes('y') }],
  })
  const link = leaf('big-link', big)
  const manifest = finalizeTree({
    root: dir('', makeInode(S_IFDIR | 0o755, { ...t, xattrs: [{ key: 'security.selinux', value: bytes('system_u:object_r:root_t:s0\0') }] }), [
      leaf('bin', makeInode(S_IFLNK | 0o777, { ...t, size: 7, target: 'usr/bin' })),
      dir('etc', makeInode(S_IFDIR | 0o755, {
        ...t,
        xattrs: [{ key: 'security.selinux', value: etcLabel }, { key: 'user.note', value: bytes('a=b c') }],
      }), [
        leaf('hosts', makeInode(S_IFREG | 0o644, {
          ...t, mtimeNsec: 5, size: 12, inline: bytes('127.0.0.1 x\n'), xattrs: [{ key: 'security.selinux', value: etcLabel }],
        })),
        leaf('big', big),
        link,
        leaf('gone', makeInode(S_IFCHR, t)),
        leaf('null', makeInode(S_IFCHR | 0o666, { ...t, rdev: 259 })),
      ]),
    ]),
  })
  return { manifest, link }
}
