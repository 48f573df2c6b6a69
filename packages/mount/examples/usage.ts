import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { encodeManifest, finalizeTree, makeInode, objectPathOf, S_IFDIR, S_IFREG } from '@cfs/manifest'
import { mountImage } from '@cfs/mount'
import { Store } from '@cfs/store'

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-'))
const store = await Store.open(path.join(dir, 'store'), { create: true })
const { digest } = await store.writeObject(Buffer.alloc(10_000, 'x'))
fs.writeFileSync(path.join(dir, 'image.cfsm'), encodeManifest(finalizeTree({ root: { name: '', inode: makeInode(S_IFDIR | 0o755), children: [
  { name: 'data', inode: makeInode(S_IFREG | 0o644, { size: 10_000, digest, payload: objectPathOf(digest) }) },
] } })))                                                                       // what cfs build writes
fs.mkdirSync(path.join(dir, 'mnt'))

const mounted = await mountImage({ manifestPath: path.join(dir, 'image.cfsm'), mountpoint: path.join(dir, 'mnt'), storeDir: store.root, verify: true })
try {
  console.log(fs.readdirSync(mounted.mountpoint), fs.statSync(path.join(mounted.mountpoint, 'data')).size)   // [ 'data' ] 10000
} finally { await mounted.unmount() }                                          // serveImage / mountImageInBackground: see below
fs.rmSync(dir, { recursive: true, force: true })
