import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fixturePath } from '@cfs/fixtures'
import { encodeTar } from '@cfs/tar'
import { detectFormat, openImage } from '../src/open-image.js'
import { indexTarFile } from '../src/tar-index.js'
import { readLayer } from '../src/read-layer.js'

let tmp: string
beforeEach(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-')) })
afterEach(() => { fs.rmSync(tmp, { recursive: true, force: true }) })

describe('detectFormat', () => {
  it.each([
    ['docker-archive.tar', 'docker-archive'],
    ['oci-archive.tar', 'oci-archive'],
    ['multi-platform.tar', 'oci-archive'],
    ['oci-layout', 'oci-layout'],
    ['layer.tar', 'layer-tar'],
    ['layer.tar.gz', 'layer-tar'],
    ['layer.tar.zst', 'layer-tar'],
  ])('sees %s as %s from its bytes, whatever its name', async (name, format) => {
    const renamed = path.join(tmp, 'input.bin')
    if (name === 'oci-layout') expect(await detectFormat(fixturePath(`images/${name}`))).toBe(format)
    else {
      fs.copyFileSync(fixturePath(`images/${name}`), renamed)
      expect(await detectFormat(renamed)).toBe(format)
    }
  })

  it('sees a plain directory as a directory', async () => {
    expect(await detectFormat(tmp)).toBe('directory')
  })

  it('rejects bytes that are no image', async () => {
    await expect(detectFormat(fixturePath('images/not-an-image.txt'))).rejects.toMatchObject({ code: 'ERR_CFS_IMAGE_UNKNOWN_FORMAT' })
  })
})

describe('indexTarFile', () => {
  it('finds every member of an archive without reading bodies', async () => {
    const { index, complete } = await indexTarFile(fixturePath('images/docker-archive.tar'))
    expect(complete).toBe(true)
    expect([...index.keys()]).toContain('manifest.json')
    const m = index.get('manifest.json')!
    const fd = fs.openSync(fixturePath('images/docker-archive.tar'), 'r')
    const buf = Buffer.alloc(m.size)
    fs.readSync(fd, buf, 0, m.size, m.offset)
    fs.closeSync(fd)
    expect(JSON.parse(buf.toString())).toEqual([expect.objectContaining({ Config: expect.any(String) })])
  })
})

describe('openImage and readLayer', () => {
  it('lists the layers of an oci-archive with their digests and diffIDs', async () => {
    const image = await openImage(fixturePath('images/oci-archive.tar'))
    try {
      expect(image.layers).toHaveLength(2)
      for (const l of image.layers) {
        expect(l.digest).toMatch(/^sha256:/)
        expect(l.diffId).toMatch(/^sha256:/)
        let n = 0
        const stats = { storedBytes: 0, tarBytes: 0 }
        for await (const _ of readLayer(l, stats)) n++
        expect(n).toBeGreaterThan(0)
        expect(stats.storedBytes).toBe(l.size)
      }
    } finally { await image.close() }
  })

  it('checks the diffID of a layer whose blob digest is right', async () => {
    const image = await openImage(fixturePath('images/docker-archive.tar'))
    try {
      const layer = { ...image.layers[0]!, diffId: 'sha256:' + '0'.repeat(64) }
      const run = async (): Promise<void> => { for await (const _ of readLayer(layer)) { /* drain */ } }
      await expect(run()).rejects.toMatchObject({ code: 'ERR_CFS_BLOB_DIGEST_MISMATCH' })
    } finally { await image.close() }
  })

  it('follows a layer member that is a symlink to the shared layer file, as skopeo writes them', async () => {
    const layer = encodeTar([{ path: 'hello', type: 'file', content: Buffer.from('hi') }])
    const config = Buffer.from(JSON.stringify({ os: 'linux', architecture: 'amd64', rootfs: { type: 'layers', diff_ids: ['sha256:' + crypto.createHash('sha256').update(layer).digest('hex')] } }))
    const file = path.join(tmp, 'linked.tar')
    fs.writeFileSync(file, encodeTar([
      { path: 'shared.tar', type: 'file', content: layer },
      { path: 'id1/', type: 'dir' },
      { path: 'id1/layer.tar', type: 'symlink', linkname: '../shared.tar' },
      { path: 'config.json', type: 'file', content: config },
      { path: 'manifest.json', type: 'file', content: Buffer.from(JSON.stringify([{ Config: 'config.json', Layers: ['id1/layer.tar'] }])) },
    ]))
    const image = await openImage(file)
    try {
      const names: string[] = []
      for await (const { header } of readLayer(image.layers[0]!)) names.push(header.path)
      expect(names).toEqual(['hello'])
    } finally { await image.close() }
  })

  it('reports a missing blob', async () => {
    const layout = path.join(tmp, 'layout')
    fs.cpSync(fixturePath('images/oci-layout'), layout, { recursive: true })
    const blobs = path.join(layout, 'blobs', 'sha256')
    const image = await openImage(layout)
    fs.rmSync(path.join(blobs, image.layers[1]!.digest!.slice(7)))
    const run = async (): Promise<void> => { for await (const _ of readLayer(image.layers[1]!)) { /* drain */ } }
    await expect(run()).rejects.toMatchObject({ code: 'ERR_CFS_BLOB_NOT_FOUND' })
    await image.close()
  })
})
