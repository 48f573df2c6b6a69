import { execFileSync, spawnSync } from 'node:child_process'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { filesInUse } from '../src/files-in-use.js'
import { collectGarbage } from '../src/gc.js'
import { EROFS_CACHE_DIR, erofsCacheName } from '../src/layout.js'
import type { Store } from '../src/store.js'
import { deadPid, jsonRefs, tempStore } from './helpers.js'

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

describe('collectGarbage and the erofs cache', () => {
  let dir: string
  afterEach(() => { fs.rmSync(dir, { recursive: true, force: true }) })
  const sha = (s: string): string => crypto.createHash('sha256').update(s).digest('hex')

  /** A store with one kept image and cache files for it and for a manifest that is not kept. */
  async function storeWithCache (): Promise<{ store: Store, cache: string, keptHex: string, goneHex: string, deadTemp: string }> {
    const t = await tempStore(); dir = t.dir
    const digest = await t.store.putImage(Buffer.from('[]'))
    const keptHex = digest.slice(7)
    const goneHex = sha('a manifest that was removed')
    const cache = path.join(t.store.root, EROFS_CACHE_DIR)
    fs.mkdirSync(cache)
    for (const name of [erofsCacheName(keptHex, 1), erofsCacheName(keptHex, 0), erofsCacheName(goneHex, 1), 'notes.txt']) {
      fs.writeFileSync(path.join(cache, name), name)
    }
    const deadTemp = `.${erofsCacheName(goneHex, 1)}.tmp-${deadPid()}-1`
    fs.writeFileSync(path.join(cache, deadTemp), 'dead writer')
    fs.writeFileSync(path.join(cache, `.${erofsCacheName(goneHex, 1)}.tmp-${process.pid}-1`), 'live writer')
    return { store: t.store, cache, keptHex, goneHex, deadTemp }
  }

  it('removes cached images whose manifest is not kept, of other writer versions, and dead writers\' temp files', async () => {
    const { store, cache, keptHex, goneHex, deadTemp } = await storeWithCache()
    const r = await collectGarbage(store, { referencesOf: jsonRefs, erofsCacheVersion: 1 })
    expect(r.erofsCache.kept).toBe(1)
    expect(r.erofsCache.inUse).toEqual([])
    expect(r.erofsCache.removed.map(x => x.file).sort()).toEqual([deadTemp, erofsCacheName(goneHex, 1), erofsCacheName(keptHex, 0)].sort())
    expect(r.erofsCache.bytesFreed).toBe(r.erofsCache.removed.reduce((n, x) => n + x.size, 0))
    expect(fs.readdirSync(cache).sort()).toEqual([`.${erofsCacheName(goneHex, 1)}.tmp-${process.pid}-1`, erofsCacheName(keptHex, 1), 'notes.txt'].sort())
  })

  it('keeps every version of a kept image\'s cache when the current version is not given, and removes nothing with dryRun', async () => {
    const { store, cache, keptHex, goneHex } = await storeWithCache()
    const before = fs.readdirSync(cache).sort()
    const dry = await collectGarbage(store, { referencesOf: jsonRefs, dryRun: true })
    expect(dry.erofsCache.removed).toHaveLength(2)
    expect(fs.readdirSync(cache).sort()).toEqual(before)
    const r = await collectGarbage(store, { referencesOf: jsonRefs })
    expect(r.erofsCache.kept).toBe(2)
    expect(fs.existsSync(path.join(cache, erofsCacheName(keptHex, 0)))).toBe(true)
    expect(fs.existsSync(path.join(cache, erofsCacheName(goneHex, 1)))).toBe(false)
  })

  const loopReason = process.getuid?.() !== 0 ? 'not root' : spawnSync('losetup', ['--version']).status !== 0 ? 'no losetup' : undefined
  if (loopReason !== undefined) console.log(`skipping the loop-device gc test: ${loopReason}`)
  const withLoop = loopReason === undefined ? it : it.skip
  withLoop('keeps a cached image that backs a loop device, whatever its manifest', async () => {
    const { store, cache, goneHex } = await storeWithCache()
    const file = path.join(cache, erofsCacheName(goneHex, 1))
    fs.writeFileSync(file, Buffer.alloc(1 << 16))
    const device = execFileSync('losetup', ['-f', '--show', '-r', file], { encoding: 'latin1' }).trim()
    try {
      expect(filesInUse().has(file)).toBe(true)
      const r = await collectGarbage(store, { referencesOf: jsonRefs, erofsCacheVersion: 1 })
      expect(r.erofsCache.inUse).toEqual([erofsCacheName(goneHex, 1)])
      expect(fs.existsSync(file)).toBe(true)
    } finally { execFileSync('losetup', ['-d', device]) }
    // detached: the next gc may take it
    const after = await collectGarbage(store, { referencesOf: jsonRefs, erofsCacheVersion: 1 })
    expect(after.erofsCache.removed.map(x => x.file)).toContain(erofsCacheName(goneHex, 1))
    expect(fs.existsSync(file)).toBe(false)
  })
})
