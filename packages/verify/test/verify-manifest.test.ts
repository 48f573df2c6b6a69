import * as fs from 'node:fs'
import { objectsReferencedBy, verifyManifest } from '../src/verify-manifest.js'
import { content, makeImage, tempStore } from './helpers.js'

describe('verifyManifest', () => {
  let dir: string
  afterEach(() => { fs.rmSync(dir, { recursive: true, force: true }) })

  const files = {
    'etc/a.conf': content(1, 5000),
    'usr/bin/tool': content(2, 70000),
    'usr/bin/tool-copy': content(2, 70000),
    'usr/share/empty-ish': content(3, 100),
  }

  it('passes a store holding every object intact, checking each distinct object once', async () => {
    const t = await tempStore(); dir = t.dir
    const img = await makeImage(t.store, files)
    const seen: Array<[number, number]> = []
    const r = await verifyManifest(img.manifest, t.store, { jobs: 2, onProgress: (done, total) => { seen.push([done, total]) } })
    expect(r).toMatchObject({ ok: true, objects: 3, bytes: 5000 + 70000 + 100, rehashed: 3, viaKernel: 0, method: 'rehash', findings: [] })
    expect(seen.at(-1)).toEqual([3, 3])
    expect(seen.map(([d]) => d)).toEqual(seen.map(([d]) => d).sort())
  })

  it('names a corrupt object with every path that uses it, and a missing one, in one report', async () => {
    const t = await tempStore(); dir = t.dir
    const img = await makeImage(t.store, files)
    const tool = img.objectOf.get('/usr/bin/tool')!
    const toolPath = t.store.objectPath(tool)
    const bytes = fs.readFileSync(toolPath); bytes[4242] = bytes[4242]! ^ 0x40; fs.writeFileSync(toolPath, bytes)
    const conf = img.objectOf.get('/etc/a.conf')!
    fs.rmSync(t.store.objectPath(conf))
    const r = await verifyManifest(img.manifest, t.store, { jobs: 2 })
    expect(r.ok).toBe(false)
    const byObject = Object.fromEntries(r.findings.map(f => [f.object, f]))
    expect(Object.keys(byObject).sort()).toEqual([conf, tool].sort())
    expect(byObject[tool]).toMatchObject({ problem: 'corrupt', paths: ['/usr/bin/tool', '/usr/bin/tool-copy'], expectedSize: 70000, actualSize: 70000 })
    expect(byObject[tool]!.actualDigest).toMatch(/^sha256:[0-9a-f]{64}$/)
    expect(byObject[tool]!.actualDigest).not.toBe(tool)
    expect(byObject[conf]).toMatchObject({ problem: 'missing', paths: ['/etc/a.conf'] })
  })

  it('reports a truncated object as corrupt without hashing it', async () => {
    const t = await tempStore(); dir = t.dir
    const img = await makeImage(t.store, files)
    const obj = img.objectOf.get('/usr/share/empty-ish')!
    fs.truncateSync(t.store.objectPath(obj), 99)
    const r = await verifyManifest(img.manifest, t.store, { jobs: 1 })
    expect(r.findings).toEqual([expect.objectContaining({ object: obj, problem: 'corrupt', expectedSize: 100, actualSize: 99 })])
    expect(r.findings[0]!.actualDigest).toBeUndefined()
  })

  it('flags a payload that does not point at the object', async () => {
    const t = await tempStore(); dir = t.dir
    const img = await makeImage(t.store, { 'x': content(9, 10) })
    img.manifest.root.children![0]!.inode.payload = 'ab/elsewhere'
    const r = await verifyManifest(img.manifest, t.store)
    expect(r.findings).toEqual([expect.objectContaining({ problem: 'bad-payload', paths: ['/x'] })])
  })

  it('uses re-hashing, and says so, when objects are not sealed', async () => {
    const t = await tempStore(); dir = t.dir
    const img = await makeImage(t.store, files)
    const r = await verifyManifest(img.manifest, t.store, { kernel: 'auto' })
    expect(r.method).toBe('rehash')
    const none = await verifyManifest({ root: { name: '', inode: img.manifest.root.inode, children: [] } }, t.store)
    expect(none).toMatchObject({ ok: true, method: 'none', objects: 0 })
  })

  it('checks a file known only by a payload in store layout, and counts one with neither as unverifiable', async () => {
    const t = await tempStore(); dir = t.dir
    const img = await makeImage(t.store, { p: content(4, 3000), q: content(5, 10) })
    const [p, q] = img.manifest.root.children!
    delete p!.inode.digest
    delete q!.inode.digest
    q!.inode.payload = 'somewhere/else'
    const good = await verifyManifest(img.manifest, t.store)
    expect(good).toMatchObject({ ok: true, objects: 1, unverifiable: 1 })
    expect([...objectsReferencedBy(img.manifest)]).toEqual([img.objectOf.get('/p')!.slice(7)])
    fs.rmSync(t.store.objectPath(img.objectOf.get('/p')!))
    const bad = await verifyManifest(img.manifest, t.store)
    expect(bad.findings).toEqual([expect.objectContaining({ object: img.objectOf.get('/p'), problem: 'missing', paths: ['/p'] })])
  })
})
