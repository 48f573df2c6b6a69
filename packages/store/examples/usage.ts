import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { collectGarbage, fsckStore, Store } from '@cfs/store'

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-'))
const store = await Store.open(dir, { create: true })
const lease = await store.acquireBuildLease()                              // gc waits while this is held
let kept: Buffer
try {
  kept = (await store.writeObject(Buffer.alloc(5000, 'k'))).digest         // objects/ab/cdef…
  await store.writeObject(Buffer.alloc(5000, 'd'))                          // referenced by no image
  await store.putImage(Buffer.from(kept.toString('hex')))                   // images/<sha256>.cfsm: a gc root (normally a manifest)
} finally { await lease.release() }
// referencesOf decodes a root; cfs passes bytes => objectsReferencedBy(decodeManifest(bytes)) (@cfs/verify, @cfs/manifest)
const gc = await collectGarbage(store, { referencesOf: (bytes) => [bytes.toString()] })
console.log(gc.kept, gc.removed.length, gc.bytesFreed)                     // 1 1 5000
console.log((await fsckStore(store)).findings)                             // [] (a clean store)
fs.rmSync(dir, { recursive: true, force: true })
