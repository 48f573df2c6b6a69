import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { Store, sealObject, sealStore } from '@cfs/store'
import { verifyManifest } from '../src/verify-manifest.js'
import { content, makeImage } from './helpers.js'

const sh = (cmd: string, args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim()

// The supported path needs a filesystem with fs-verity: an ext4 image made with -O verity, loop-mounted. On a
// kernel without CONFIG_FS_VERITY (this machine) enabling answers EOPNOTSUPP and the test says it skipped.
describe('kernel fs-verity on an ext4 -O verity loop image', () => {
  it('seals objects, verifies through kernel measurements, and refuses a tampered object', async () => {
    if (process.getuid?.() !== 0) { console.warn('skipped: needs root for losetup and mount'); return }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-'))
    const img = path.join(dir, 'ext4.img')
    const mnt = path.join(dir, 'mnt')
    let loop: string | undefined
    let mounted = false
    try {
      fs.writeFileSync(img, '')
      fs.truncateSync(img, 64 << 20)
      try {
        sh('mkfs.ext4', ['-q', '-O', 'verity', img])
        loop = sh('losetup', ['--find', '--show', img])
      } catch (err) {
        console.warn(`skipped: cannot make an ext4 -O verity loop device here: ${(err as Error).message.split('\n')[0]!}`)
        return
      }
      fs.mkdirSync(mnt)
      sh('mount', [loop, mnt])
      mounted = true
      const store = await Store.open(path.join(mnt, 'store'), { create: true })
      const probe = await store.writeObject(Buffer.from('probe'))
      try { await sealObject(store.objectPath(probe.digest)) } catch (err) {
        if ((err as { code?: string }).code !== 'ERR_CFS_VERITY_UNSUPPORTED') throw err
        console.warn(`skipped: ${(err as Error).message}`)
        const r = await sealStore(store)
        expect(r.supported).toBe(false)
        return
      }
      const image = await makeImage(store, { a: content(1, 10000), b: content(2, 300), c: content(3, 9000) })
      const sealed = await sealStore(store)
      expect(sealed).toMatchObject({ supported: true, objects: 4 })
      const ok = await verifyManifest(image.manifest, store)
      expect(ok).toMatchObject({ ok: true, method: 'kernel', viaKernel: 3, rehashed: 0 })

      // a sealed file cannot be written, so tamper by replacing it with other (also sealed) bytes under its name
      const victim = image.objectOf.get('/b')!
      const file = store.objectPath(victim)
      fs.rmSync(file)
      const other = content(99, 300)
      fs.writeFileSync(file, other)
      await sealObject(file)
      const bad = await verifyManifest(image.manifest, store)
      expect(bad.method).toBe('kernel')
      expect(bad.findings).toEqual([expect.objectContaining({ object: victim, problem: 'corrupt', paths: ['/b'] })])
    } finally {
      if (mounted) sh('umount', [mnt])
      if (loop !== undefined) sh('losetup', ['-d', loop])
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})
