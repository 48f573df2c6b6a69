import * as fs from 'node:fs'
import { collectGarbage } from '../src/gc.js'
import { jsonRefs, tempStore } from './helpers.js'

const hexOf = (b: Buffer): string => b.toString('hex')

describe('collectGarbage', () => {
  let dir: string
  afterEach(() => { fs.rmSync(dir, { recursive: true, force: true }) })

  it('removes objects no kept image references and keeps the referenced ones', async () => {
    const t = await tempStore(); dir = t.dir
    const a = await t.store.writeObject(Buffer.from('kept object a'))
    const b = await t.store.writeObject(Buffer.from('kept object b'))
    const c = await t.store.writeObject(Buffer.from('garbage c'))
    await t.store.putImage(Buffer.from(JSON.stringify([hexOf(a.digest)])))
    await t.store.putImage(Buffer.from(JSON.stringify([`sha256:${hexOf(b.digest)}`, hexOf(a.digest)])))
    const r = await collectGarbage(t.store, { referencesOf: jsonRefs })
    expect(r).toMatchObject({ dryRun: false, images: 2, kept: 2, missing: 0, bytesFreed: 9 })
    expect(r.removed).toEqual([{ object: `sha256:${hexOf(c.digest)}`, size: 9 }])
    expect(await t.store.hasObject(a.digest)).toBe(true)
    expect(await t.store.hasObject(b.digest)).toBe(true)
    expect(await t.store.hasObject(c.digest)).toBe(false)
  })

  it('deletes nothing with dryRun but reports the same removals', async () => {
    const t = await tempStore(); dir = t.dir
    const c = await t.store.writeObject(Buffer.from('garbage'))
    const r = await collectGarbage(t.store, { referencesOf: jsonRefs, dryRun: true })
    expect(r.removed.map(x => x.object)).toEqual([`sha256:${hexOf(c.digest)}`])
    expect(await t.store.hasObject(c.digest)).toBe(true)
  })

  it('removes nothing when a kept image cannot be read', async () => {
    const t = await tempStore(); dir = t.dir
    const c = await t.store.writeObject(Buffer.from('maybe referenced'))
    await t.store.putImage(Buffer.from('not json'))
    await expect(collectGarbage(t.store, { referencesOf: jsonRefs })).rejects.toMatchObject({ code: 'ERR_CFS_MANIFEST_CORRUPT' })
    expect(await t.store.hasObject(c.digest)).toBe(true)
    expect(fs.existsSync(`${t.store.root}/gc.lock`)).toBe(false)
  })

  it('waits for a build lease and lets a build waiting on gc proceed afterwards', async () => {
    const t = await tempStore(); dir = t.dir
    const lease = await t.store.acquireBuildLease()
    const obj = await t.store.writeObject(Buffer.from('written under a lease'))
    let gcDone = false
    const gc = collectGarbage(t.store, { referencesOf: jsonRefs }).then(r => { gcDone = true; return r })
    await new Promise(resolve => setTimeout(resolve, 200))
    expect(gcDone).toBe(false)
    await t.store.putImage(Buffer.from(JSON.stringify([hexOf(obj.digest)])))
    await lease.release()
    const r = await gc
    expect(r.removed).toEqual([])
    expect(await t.store.hasObject(obj.digest)).toBe(true)
    const again = await t.store.acquireBuildLease()
    await again.release()
  })
})
