import * as fs from 'node:fs'
import { readImage, removeImage, resolveImage } from '../src/images.js'
import { tempStore } from './helpers.js'

describe('kept images', () => {
  let dir: string
  afterEach(() => { fs.rmSync(dir, { recursive: true, force: true }) })

  it('resolves a full digest, a bare hex and an unambiguous prefix, then removes the image', async () => {
    const t = await tempStore(); dir = t.dir
    const d = await t.store.putImage(Buffer.from('image one'))
    expect(await resolveImage(t.store, d)).toBe(d)
    expect(await resolveImage(t.store, d.slice(7).toUpperCase())).toBe(d)
    expect(await resolveImage(t.store, d.slice(7, 12))).toBe(d)
    expect((await readImage(t.store, d)).toString()).toBe('image one')
    await removeImage(t.store, d)
    expect(await t.store.listImages()).toEqual([])
    await expect(resolveImage(t.store, d)).rejects.toMatchObject({ code: 'ERR_CFS_IMAGE_NOT_FOUND' })
    await expect(removeImage(t.store, d)).rejects.toMatchObject({ code: 'ERR_CFS_IMAGE_NOT_FOUND' })
  })

  it('refuses an ambiguous prefix and a non-hex argument', async () => {
    const t = await tempStore(); dir = t.dir
    for (let i = 0; i < 40; i++) await t.store.putImage(Buffer.from(`image ${i}`))
    await expect(resolveImage(t.store, '')).rejects.toMatchObject({ code: 'ERR_CFS_DIGEST_BAD' })
    await expect(resolveImage(t.store, 'xyz')).rejects.toMatchObject({ code: 'ERR_CFS_DIGEST_BAD' })
    // 40 images over 16 first hex digits: some digit is shared
    const firsts = (await t.store.listImages()).map(d => d[7]!)
    const shared = firsts.find((c, i) => firsts.indexOf(c) !== i)!
    await expect(resolveImage(t.store, shared)).rejects.toMatchObject({ code: 'ERR_CFS_IMAGE_AMBIGUOUS' })
  })
})
