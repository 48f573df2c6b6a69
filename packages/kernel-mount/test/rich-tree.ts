/** A tree with every kind of entry a composefs image carries, its external objects written into a store. */
import * as crypto from 'node:crypto'
import {
  finalizeTree, makeInode, objectPathOf, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFREG, S_IFSOCK,
  type Inode, type Manifest, type Node,
} from '@cfs/manifest'
import type { Store } from '@cfs/store'

const b = (s: string): Buffer => Buffer.from(s, 'latin1')
const dir = (name: string, inode: Inode, children: Node[]): Node => ({ name, inode, children })
const leaf = (name: string, inode: Inode): Node => ({ name, inode })

export interface RichTree {
  manifest: Manifest
  /** content of every regular file by inode */
  content: Map<Inode, Buffer>
}

export async function richTree (store: Store): Promise<RichTree> {
  const content = new Map<Inode, Buffer>()
  let t = 1700000000
  const time = (): Partial<Inode> => ({ mtimeSec: t++, mtimeNsec: (t * 7919) % 1000000000 })
  const external = async (mode: number, bytes: Buffer, fields: Partial<Inode> = {}): Promise<Inode> => {
    const { digest } = await store.writeObject(bytes)
    const inode = makeInode(S_IFREG | mode, { ...time(), ...fields, size: bytes.length, digest, payload: objectPathOf(digest) })
    content.set(inode, bytes)
    return inode
  }
  const inline = (mode: number, bytes: Buffer, fields: Partial<Inode> = {}): Inode => {
    const inode = makeInode(S_IFREG | mode, { ...time(), ...fields, size: bytes.length, ...(bytes.length > 0 ? { inline: bytes } : {}) })
    content.set(inode, bytes)
    return inode
  }
  const shared = await external(0o640, crypto.randomBytes(3 * 4096 + 1), { nlink: 2, uid: 1000, gid: 1000 })
  const sharedInline = inline(0o644, b('linked three times\n'), { nlink: 3 })
  const manifest = finalizeTree({
    root: dir('', makeInode(S_IFDIR | 0o755, { ...time(), xattrs: [{ key: 'user.root', value: b('yes') }] }), [
      dir('etc', makeInode(S_IFDIR | 0o755, {
        ...time(), uid: 0, gid: 4,
        xattrs: [{ key: 'security.selinux', value: b('system_u:object_r:etc_t:s0\0') }, { key: 'user.note', value: b('a=b c') }],
      }), [
        leaf('hosts', inline(0o644, b('127.0.0.1 localhost\n'), { xattrs: [{ key: 'security.selinux', value: b('system_u:object_r:net_conf_t:s0\0') }] })),
        leaf('empty', inline(0o600, Buffer.alloc(0))),
        leaf('big', await external(0o644, crypto.randomBytes(100000), {
          xattrs: [{ key: 'trusted.cfs.test', value: Buffer.from([0, 1, 2, 255]) }, { key: 'user.mime', value: b('application/octet-stream') }],
        })),
        leaf('shadow', await external(0o640, crypto.randomBytes(65), { gid: 42 })),
        leaf('inline-link-1', sharedInline),
        leaf('gone', makeInode(S_IFCHR | 0o644, time())), // a whiteout: chardev with rdev 0
      ]),
      dir('usr', makeInode(S_IFDIR | 0o755, time()), [
        dir('bin', makeInode(S_IFDIR | 0o755, time()), [
          leaf('sudo', await external(0o4755, crypto.randomBytes(5000), { uid: 0, gid: 0 })),
          leaf('wall', inline(0o2755, b('#!/bin/sh\necho hi\n'), { gid: 5 })),
          leaf('tool', shared),
          leaf('tool-again', shared),
          leaf('sh', makeInode(S_IFLNK | 0o777, { ...time(), size: 4, target: 'dash' })),
          leaf('inline-link-2', sharedInline),
        ]),
        leaf('abs-link', makeInode(S_IFLNK | 0o777, { ...time(), uid: 7, size: 9, target: '/etc/host' })),
      ]),
      dir('tmp', makeInode(S_IFDIR | 0o1777, { ...time(), xattrs: [{ key: 'trusted.overlay.custom', value: b('escaped') }] }), [
        leaf('inline-link-3', sharedInline),
      ]),
      dir('dev', makeInode(S_IFDIR | 0o755, time()), [
        leaf('null', makeInode(S_IFCHR | 0o666, { ...time(), rdev: (1 << 8) | 3 })),
        leaf('sda1', makeInode(S_IFBLK | 0o660, { ...time(), gid: 6, rdev: (8 << 8) | 1, xattrs: [{ key: 'trusted.dev', value: b('disk') }] })),
        leaf('initctl', makeInode(S_IFIFO | 0o600, time())),
        leaf('log', makeInode(S_IFSOCK | 0o666, time())),
      ]),
      dir('home', makeInode(S_IFDIR | 0o700, { ...time(), uid: 1000, gid: 1000, mtimeNsec: 999999999 }), []),
    ]),
  })
  return { manifest, content }
}
