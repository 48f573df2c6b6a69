import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { isKernelMount, mountKernel, unmountKernel } from '@cfs/kernel-mount'
import { finalizeTree, makeInode, objectPathOf, S_IFDIR, S_IFREG } from '@cfs/manifest'
import { Store } from '@cfs/store'

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-'))
const store = await Store.open(path.join(dir, 'store'), { create: true })
const { digest } = await store.writeObject(Buffer.alloc(10_000, 'x'))
const manifest = finalizeTree({ root: { name: '', inode: makeInode(S_IFDIR | 0o755), children: [
  { name: 'data', inode: makeInode(S_IFREG | 0o644, { size: 10_000, digest, payload: objectPathOf(digest) }) },
] } })                                                                         // or manifestPath: 'app.cfsm'
fs.mkdirSync(path.join(dir, 'mnt'))

const m = await mountKernel({ manifest, mountpoint: path.join(dir, 'mnt'), storeDir: store.root, runDir: path.join(dir, 'run') })
try {
  console.log(m.image, m.loopDevice, fs.readFileSync(path.join(m.mountpoint, 'data')).equals(Buffer.alloc(10_000, 'x')))   // …/erofs-cache/<sha256>.v1.img /dev/loop3 true
} finally { if (isKernelMount(m.mountpoint)) await unmountKernel(m.mountpoint) }  // overlay, leftovers, loop device
fs.rmSync(dir, { recursive: true, force: true })
