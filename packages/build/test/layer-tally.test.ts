import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fixturePath } from '@cfs/fixtures'
import { fsverityDigest } from '@cfs/digest'
import { INLINE_MAX } from '@cfs/manifest'
import { openImage, readLayer } from '@cfs/oci'
import { Store, fsckStore, imageLayersPath, readImageLayers, removeImage, type LayerRecord } from '@cfs/store'
import { buildImage } from '../src/build-image.js'

let tmp: string
beforeEach(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-')) })
afterEach(() => { fs.rmSync(tmp, { recursive: true, force: true }) })

/** The records a first build into an empty store must give, counted from the layer tars themselves. */
async function expectedRecords (input: string, alreadyStored: Set<string> = new Set()): Promise<LayerRecord[]> {
  const image = await openImage(input, { tmpDir: tmp })
  const seen = new Set<string>()
  const out: LayerRecord[] = []
  try {
    for (const layer of image.layers) {
      const ls = { storedBytes: 0, tarBytes: 0 }
      const r: LayerRecord = {
        index: layer.index, name: layer.digest ?? layer.name, ...(layer.diffId !== undefined ? { diffId: layer.diffId } : {}),
        storedBytes: 0, tarBytes: 0, files: 0, fileBytes: 0, inlineFiles: 0, inlineBytes: 0,
        objects: { new: { count: 0, bytes: 0 }, reused: { count: 0, bytes: 0 }, deduped: { count: 0, bytes: 0 } },
      }
      for await (const { header, body } of readLayer(layer, ls)) {
        const parts: Buffer[] = []
        for await (const c of body) parts.push(Buffer.from(c))
        if (header.type !== 'file' || path.basename(header.path).startsWith('.wh.')) continue
        r.files++
        r.fileBytes += header.size
        if (header.size === 0) continue
        if (header.size <= INLINE_MAX) { r.inlineFiles++; r.inlineBytes += header.size; continue }
        const d = fsverityDigest(Buffer.concat(parts)).toString('hex')
        const bucket = seen.has(d) ? r.objects.deduped : alreadyStored.has(d) ? r.objects.reused : r.objects.new
        seen.add(d)
        bucket.count++
        bucket.bytes += header.size
      }
      r.storedBytes = ls.storedBytes
      r.tarBytes = ls.tarBytes
      out.push(r)
    }
  } finally { await image.close() }
  return out
}

describe('the layer record of a build', () => {
  it('counts files, inline files and new, reused and deduped objects per layer, and is kept beside the image', async () => {
    const store = await Store.open(path.join(tmp, 'store'), { create: true })
    const input = fixturePath('images/docker-archive.tar')
    const r = await buildImage(input, { store, writer: { workers: 2 } })
    const expected = await expectedRecords(input)
    expect(expected).toHaveLength(2)
    expect(r.layers).toEqual(expected)
    const kept = await readImageLayers(store, r.digest)
    expect(kept).toMatchObject({ schema: 'cfs.image-layers/1', image: r.digest, format: 'docker-archive', layers: expected })
    for (const l of expected) {
      const o = l.objects
      expect(o.new.bytes + o.reused.bytes + o.deduped.bytes + l.inlineBytes).toBe(l.fileBytes)
    }
    expect((await fsckStore(store)).findings).toEqual([])
    const orphan = path.join(store.imagesDir, '0'.repeat(64) + '.layers.json')
    fs.copyFileSync(imageLayersPath(store, r.digest), orphan)
    expect((await fsckStore(store)).findings).toMatchObject([{ problem: 'stray', path: path.relative(store.root, orphan) }])
    fs.rmSync(orphan)

    // a rebuild finds every object stored, but the record keeps describing the first build
    const before = fs.readFileSync(imageLayersPath(store, r.digest))
    const again = await buildImage(input, { store, writer: { workers: 2 } })
    expect(again.layers!.every(l => l.objects.new.count === 0)).toBe(true)
    expect(fs.readFileSync(imageLayersPath(store, r.digest)).equals(before)).toBe(true)

    await removeImage(store, r.digest)
    expect(fs.existsSync(imageLayersPath(store, r.digest))).toBe(false)
    expect(await readImageLayers(store, r.digest)).toBeUndefined()
  })

  it('counts objects an earlier build stored as reused', async () => {
    const store = await Store.open(path.join(tmp, 'store'), { create: true })
    const first = await buildImage(fixturePath('images/docker-archive.tar'), { store, writer: { workers: 2 } })
    const stored = new Set(fs.readdirSync(store.objectsDir).flatMap(d => fs.readdirSync(path.join(store.objectsDir, d)).map(f => d + f)))
    const input = fixturePath('images/layer.tar.gz')
    const r = await buildImage(input, { store, writer: { workers: 2 } })
    expect(r.layers).toEqual(await expectedRecords(input, stored))
    expect(r.layers![0]!.objects.reused.count).toBeGreaterThan(0)
    expect(r.layers![0]!.objects.new.count).toBe(0)
    expect(first.layers).toHaveLength(2)
  })

  it('is not written for a directory', async () => {
    const store = await Store.open(path.join(tmp, 'store'), { create: true })
    const dir = path.join(tmp, 'rootfs')
    fs.mkdirSync(dir)
    fs.writeFileSync(path.join(dir, 'f'), Buffer.alloc(100, 1))
    const r = await buildImage(dir, { store })
    expect(r.layers).toBeUndefined()
    expect(fs.readdirSync(store.imagesDir)).toEqual([path.basename(store.imagePath(r.digest))])
  })
})
