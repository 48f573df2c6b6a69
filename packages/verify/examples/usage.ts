import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { finalizeTree, makeInode, objectPathOf, S_IFDIR, S_IFREG } from '@cfs/manifest'
import { Store } from '@cfs/store'
import { verifyManifest } from '@cfs/verify'

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-'))
const store = await Store.open(dir, { create: true })
const content = Buffer.alloc(10_000, 'x')
const { digest } = await store.writeObject(content)                        // objects/ab/cdef…: its fs-verity digest
const manifest = finalizeTree({ root: { name: '', inode: makeInode(S_IFDIR | 0o755), children: [
  { name: 'data', inode: makeInode(S_IFREG | 0o644, { size: content.length, digest, payload: objectPathOf(digest) }) },
] } })                                                                      // or decodeManifest(bytes of a .cfsm file)

const good = await verifyManifest(manifest, store, { jobs: 2 })
console.log(good.ok, good.method)                                          // true 'rehash'
fs.chmodSync(store.objectPath(digest), 0o644)                              // objects are read-only
fs.writeFileSync(store.objectPath(digest), Buffer.alloc(10_000, 'y'))      // damage the object
const bad = await verifyManifest(manifest, store, { jobs: 2 })
for (const f of bad.findings) console.log(f.problem, f.object, f.paths)    // corrupt sha256:… [ '/data' ]
fs.rmSync(dir, { recursive: true, force: true })
