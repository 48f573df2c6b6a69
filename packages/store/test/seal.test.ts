import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { measureFiles, sealObject, sealStore } from '../src/seal.js'
import { tempStore } from './helpers.js'

// This file covers stores on filesystems without fs-verity (like this machine's); the kernel path, on an ext4
// image made with -O verity, is tested in packages/verify/test/kernel-verity.test.ts.
describe('sealing objects', () => {
  let dir: string
  afterEach(() => { fs.rmSync(dir, { recursive: true, force: true }) })

  it('reports once, as unsupported, when the store filesystem has no fs-verity', async () => {
    const t = await tempStore(); dir = t.dir
    for (let i = 0; i < 3; i++) await t.store.writeObject(Buffer.from(`object ${i}`))
    const r = await sealStore(t.store)
    if (r.supported) { console.warn(`skipped: ${os.tmpdir()} supports fs-verity here; see kernel-verity.test.ts`); return }
    expect(r).toMatchObject({ supported: false, objects: 3, sealed: 0, already: 0 })
    expect(r.reason).toMatch(/does not support fs-verity/)
    const one = await t.store.writeObject(Buffer.from('one more'))
    await expect(sealObject(t.store.objectPath(one.digest))).rejects.toMatchObject({ code: 'ERR_CFS_VERITY_UNSUPPORTED' })
  })

  it('measures unsealed files as errors in order, resuming after each failure', async () => {
    const t = await tempStore(); dir = t.dir
    const a = path.join(dir, 'a'); fs.writeFileSync(a, 'a')
    const r = await measureFiles([a, path.join(dir, 'missing'), a])
    expect(r).toHaveLength(3)
    expect(r[1]).toMatchObject({ error: 'missing' })
    // never sealed: 'not-sealed' where the filesystem has fs-verity, 'unsupported' elsewhere (this machine)
    for (const m of [r[0], r[2]]) expect(['not-sealed', 'unsupported']).toContain((m as { error: string }).error)
  })
})
