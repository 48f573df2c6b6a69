import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { buildImage, type BuildResult } from '@cfs/build'
import { diffManifests, escapeBytes } from '@cfs/diff'
import { Store } from '@cfs/store'
import { verifyManifest } from '@cfs/verify'

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-'))
const store = await Store.open(path.join(dir, 'store'), { create: true })
const release = async (name: string, files: Record<string, string>): Promise<BuildResult> => {
  for (const [file, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name, file)), { recursive: true })
    fs.writeFileSync(path.join(dir, name, file), text)
  }
  return await buildImage(path.join(dir, name), { store })                    // or a docker save archive
}
const v1 = await release('v1', { 'etc/app.conf': 'level = 1\n'.repeat(10), 'bin/app': 'binary v1 '.repeat(100) })
const v2 = await release('v2', { 'etc/app.conf': 'level = 2\n'.repeat(10), 'bin/app': 'binary v1 '.repeat(100) })

const report = await verifyManifest(v2.manifest, store)                       // every object there, intact
console.log(report.ok, report.objects, v1.stats.objectsNew, v2.stats.objectsNew)   // true 2 2 1: bin/app is stored once
for (const c of diffManifests(v1.manifest, v2.manifest, { ignore: ['mtime'] }).changes) {
  console.log(c.kind, escapeBytes(c.path), c.attributes.map(a => a.attribute))          // modified /etc/app.conf [ 'content' ]
}
fs.rmSync(dir, { recursive: true, force: true })
