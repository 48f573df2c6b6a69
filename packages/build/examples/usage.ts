import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { buildImage } from '@cfs/build'
import { Store } from '@cfs/store'

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-'))
fs.mkdirSync(path.join(dir, 'rootfs/etc'), { recursive: true })            // an image made from code: a tree
fs.writeFileSync(path.join(dir, 'rootfs/etc/motd'), 'hello from cfs\n'.repeat(10))
fs.symlinkSync('etc/motd', path.join(dir, 'rootfs/motd'))

const store = await Store.open(path.join(dir, 'store'), { create: true })
const result = await buildImage(path.join(dir, 'rootfs'), { store })       // also image.tar (docker save), OCI layouts, streams
console.log(result.digest, result.format, result.stats.entries)            // sha256:…, 'directory', { file: 1, dir: 2, … }
fs.writeFileSync(path.join(dir, 'image.cfsm'), result.bytes)               // the manifest; the store keeps a copy too
console.log(await store.listImages())                                     // [ result.digest ]
fs.rmSync(dir, { recursive: true, force: true })
