import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { Store } from '@cfs/store'
import { encodeTar } from '@cfs/tar'
import { buildImage } from '../src/build-image.js'

let tmp: string
beforeEach(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-')) })
afterEach(() => { fs.rmSync(tmp, { recursive: true, force: true }) })

describe('a failed build', () => {
  it('removes the temp file of an object a worker was half-way through writing', async () => {
    const store = await Store.open(path.join(tmp, 'store'), { create: true })
    const tar = encodeTar([{ path: 'big', type: 'file', content: crypto.randomBytes(3 << 20) }])
    // the layer stops in the middle of the file, once the worker has its first piece on disk
    async function * cut (): AsyncGenerator<Uint8Array> {
      yield tar.subarray(0, 512 + (3 << 19))
      const t0 = Date.now()
      while (fs.readdirSync(store.tmpDir).length === 0 && Date.now() - t0 < 10_000) await new Promise(resolve => setTimeout(resolve, 5))
      expect(fs.readdirSync(store.tmpDir)).toHaveLength(1)
    }
    await expect(buildImage(cut(), { store, writer: { workers: 1 } })).rejects.toMatchObject({ code: 'ERR_CFS_TAR_TRUNCATED' })
    expect(fs.readdirSync(store.tmpDir)).toEqual([])
    expect(fs.readdirSync(store.objectsDir)).toEqual([])
    expect(fs.readdirSync(store.leasesDir)).toEqual([])
  })
})
