import * as fs from 'node:fs'
import type { Digest } from '@cfs/digest'
import { decodeManifest } from '@cfs/manifest'
import { collectGarbage } from '@cfs/store'
import { objectsReferencedBy, verifyManifest } from '../src/verify-manifest.js'
import { content, makeImage, tempStore } from './helpers.js'

const referencesOf = (bytes: Buffer): Set<string> => objectsReferencedBy(decodeManifest(bytes))

describe('gc racing builds', () => {
  let dir: string
  afterEach(() => { fs.rmSync(dir, { recursive: true, force: true }) })

  it('never removes an object a build wrote under its lease: every image verifies afterwards', async () => {
    const t = await tempStore(); dir = t.dir
    // garbage gc must remove
    for (let i = 0; i < 5; i++) await t.store.writeObject(content(1000 + i, 3000))
    let writing = true
    const gcRuns: number[] = []
    const gcLoop = (async () => {
      while (writing) {
        gcRuns.push((await collectGarbage(t.store, { referencesOf })).removed.length)
        // back-to-back gc runs would keep the lock nearly all the time and starve the builds, which poll for it
        await new Promise(resolve => setTimeout(resolve, 10 + Math.random() * 40))
      }
    })()
    const builds = Array.from({ length: 4 }, async (_, b) => {
      const digests: Digest[] = []
      for (let round = 0; round < 3; round++) {
        const lease = await t.store.acquireBuildLease()
        try {
          const files: Record<string, Buffer> = {}
          for (let f = 0; f < 5; f++) files[`b${b}/r${round}/f${f}`] = content(b * 100 + round * 10 + f, 2000 + f)
          // yield between writing objects and registering the image, where a careless gc would strike
          await new Promise(resolve => setTimeout(resolve, 20))
          digests.push((await makeImage(t.store, files)).digest)
        } finally { await lease.release() }
      }
      return digests
    })
    const images = (await Promise.all(builds)).flat()
    writing = false
    await gcLoop
    await collectGarbage(t.store, { referencesOf })
    expect(gcRuns.length).toBeGreaterThan(1)
    expect(gcRuns.reduce((a, b) => a + b, 0)).toBe(5)
    expect((await t.store.listImages()).sort()).toEqual([...images].sort())
    for (const image of images) {
      const manifest = decodeManifest(fs.readFileSync(t.store.imagePath(image)))
      const r = await verifyManifest(manifest, t.store, { jobs: 1 })
      expect(r).toMatchObject({ ok: true, objects: 5 })
    }
  })
})
