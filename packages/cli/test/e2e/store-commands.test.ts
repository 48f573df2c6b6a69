import { execFile } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import type { Digest } from '@cfs/digest'
import { S_IFDIR, S_IFREG, encodeManifest, finalizeTree, makeInode, objectPathOf, type Node } from '@cfs/manifest'
import { Store } from '@cfs/store'

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/cfs.js')
const exec = promisify(execFile)

interface Run { code: number, stdout: string, stderr: string }
async function cfs (...args: string[]): Promise<Run> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [BIN, ...args], { env: { ...process.env, CFS_STORE: '' } })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as Run
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}

const content = (seed: number, size: number): Buffer => Buffer.alloc(size, seed)

/** Writes objects and a manifest the way cfs build does; returns the manifest file, its digest and object names. */
async function makeImage (store: Store, dir: string, name: string, files: Record<string, Buffer>): Promise<{ file: string, digest: Digest, objectOf: Record<string, Digest> }> {
  const root: Node = { name: '', inode: makeInode(S_IFDIR | 0o755), children: [] }
  const objectOf: Record<string, Digest> = {}
  for (const [p, data] of Object.entries(files)) {
    const { digest } = await store.writeObject(data)
    root.children!.push({ name: p, inode: makeInode(S_IFREG | 0o644, { size: data.length, digest, payload: objectPathOf(digest) }) })
    objectOf[p] = `sha256:${digest.toString('hex')}`
  }
  const bytes = encodeManifest(finalizeTree({ root }))
  const digest = await store.putImage(bytes)
  const file = path.join(dir, name)
  fs.writeFileSync(file, bytes)
  return { file, digest, objectOf }
}

describe('cfs verify, fsck, gc, images, rm, store seal', () => {
  let dir: string
  let store: Store
  let storeDir: string
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-'))
    storeDir = path.join(dir, 'store')
    store = await Store.open(storeDir, { create: true })
  })
  afterEach(() => { fs.rmSync(dir, { recursive: true, force: true }) })

  it('verify: exit 0 on a clean store, with text and a JSON report naming the method', async () => {
    const img = await makeImage(store, dir, 'm.cfsm', { a: content(1, 5000), b: content(2, 100) })
    const text = await cfs('verify', img.file, '--store', storeDir)
    expect(text.code).toBe(0)
    expect(text.stderr).toMatch(/^cfs verify: 2 objects, 5\.0 KiB in [\d.]+ s \([^)]+\)\n$/)
    expect(await cfs('verify', img.file, '--store', storeDir, '--quiet')).toMatchObject({ code: 0, stderr: '' })
    expect(text.stdout).toContain('ok: ')
    expect(text.stdout).toContain('checked by re-hashing')
    const json = await cfs('verify', img.file, '--store', storeDir, '--json', '--expect', img.digest)
    expect(json.code).toBe(0)
    expect(JSON.parse(json.stdout)).toMatchObject({ schema: 'cfs.verify/1', ok: true, method: 'rehash', manifest: { digest: img.digest }, objects: { total: 2, rehashed: 2, viaKernel: 0 }, findings: [] })
    // a kept image can be named by digest prefix instead of a file
    expect((await cfs('verify', img.digest.slice(7, 19), '--store', storeDir)).code).toBe(0)
  })

  it('verify: exit 6 naming a flipped object and a deleted one, each with the paths that use it', async () => {
    const img = await makeImage(store, dir, 'm.cfsm', { a: content(1, 5000), b: content(2, 100), 'b-again': content(2, 100), c: content(3, 7) })
    const b = store.objectPath(img.objectOf.b!)
    const bytes = fs.readFileSync(b); bytes[50] = bytes[50]! ^ 1; fs.writeFileSync(b, bytes)
    fs.rmSync(store.objectPath(img.objectOf.c!))
    const r = await cfs('verify', img.file, '--store', storeDir, '--json', '--jobs', '2')
    expect(r.code).toBe(6)
    expect(r.stderr).toContain('ERR_CFS_OBJECT_CORRUPT')
    const report = JSON.parse(r.stdout) as { ok: boolean, findings: Array<{ object: string, problem: string, paths: string[] }> }
    expect(report.ok).toBe(false)
    expect(report.findings.map(f => [f.object, f.problem, f.paths]).sort()).toEqual([
      [img.objectOf.b, 'corrupt', ['/b', '/b-again']],
      [img.objectOf.c, 'missing', ['/c']],
    ].sort())
    const text = await cfs('verify', img.file, '--store', storeDir)
    expect(text.code).toBe(6)
    expect(text.stdout).toContain(`CORRUPT ${img.objectOf.b}`)
    expect(text.stdout).toContain(`MISSING ${img.objectOf.c}`)
    expect(text.stdout).toContain('  /b-again')
  })

  it('verify: a truncated manifest exits 3, an --expect mismatch exits 6 and checks nothing', async () => {
    const img = await makeImage(store, dir, 'm.cfsm', { a: content(1, 5000) })
    const bytes = fs.readFileSync(img.file)
    const cut = path.join(dir, 'cut.cfsm')
    fs.writeFileSync(cut, bytes.subarray(0, bytes.length - 10))
    const bad = await cfs('verify', cut, '--store', storeDir)
    expect(bad.code).toBe(3)
    expect(bad.stderr).toContain('ERR_CFS_MANIFEST_CORRUPT')
    expect(bad.stderr.trim().split('\n')).toHaveLength(1)
    const other = `sha256:${'0'.repeat(64)}`
    const refused = await cfs('verify', img.file, '--store', storeDir, '--expect', other)
    expect(refused.code).toBe(6)
    expect(refused.stderr).toContain('ERR_CFS_MANIFEST_DIGEST_MISMATCH')
    expect(refused.stdout).toBe('')
    expect((await cfs('verify', img.file, '--store', storeDir, '--expect', 'nonsense')).code).toBe(3)
    expect((await cfs('verify', path.join(dir, 'absent.cfsm'), '--store', storeDir)).code).toBe(4)
    // the manifest is judged first, even when the store is missing too
    expect((await cfs('verify', cut, '--store', path.join(dir, 'no-store'))).code).toBe(3)
  })

  it('fsck finds a corrupt object and a stale temp file; --repair quarantines and removes them', async () => {
    const img = await makeImage(store, dir, 'm.cfsm', { a: content(1, 5000), b: content(2, 100) })
    const a = store.objectPath(img.objectOf.a!)
    fs.writeFileSync(a, content(9, 5000))
    const tmp = path.join(store.tmpDir, 'obj.999999999.0badc0de')
    fs.writeFileSync(tmp, 'partial')
    const r = await cfs('fsck', '--store', storeDir, '--json')
    expect(r.code).toBe(6)
    expect(r.stderr).toContain('ERR_CFS_STORE_DAMAGED')
    const report = JSON.parse(r.stdout) as { clean: boolean, findings: Array<{ problem: string, path: string }> }
    expect(report.findings.map(f => [f.problem, f.path]).sort()).toEqual([
      ['corrupt-object', path.relative(storeDir, a)],
      ['stale-temp', 'tmp/obj.999999999.0badc0de'],
    ])
    const fixed = await cfs('fsck', '--store', storeDir, '--repair')
    expect(fixed.code).toBe(0)
    expect(fixed.stdout).toContain('[quarantined]')
    expect(fs.existsSync(a)).toBe(false)
    expect(fs.existsSync(tmp)).toBe(false)
    expect(fs.readdirSync(path.join(storeDir, 'quarantine'))).toHaveLength(1)
    expect((await cfs('fsck', '--store', storeDir)).code).toBe(0)
    // the quarantined object is now missing for verify
    expect((await cfs('verify', img.file, '--store', storeDir)).code).toBe(6)
  })

  it('images, rm and gc: removing an image lets gc free its objects only; --dry-run deletes nothing', async () => {
    const one = await makeImage(store, dir, 'one.cfsm', { shared: content(1, 5000), only1: content(2, 6000) })
    const two = await makeImage(store, dir, 'two.cfsm', { shared: content(1, 5000), only2: content(3, 7000) })
    const list = JSON.parse((await cfs('images', '--store', storeDir, '--json')).stdout) as { images: Array<{ digest: string, entries: number }> }
    expect(list.images.map(i => i.digest).sort()).toEqual([one.digest, two.digest].sort())
    expect(list.images.every(i => i.entries === 3)).toBe(true)

    expect((await cfs('rm', one.digest.slice(7, 17), '--store', storeDir)).code).toBe(0)
    expect((await cfs('rm', one.digest, '--store', storeDir)).code).toBe(4)
    const dry = await cfs('gc', '--store', storeDir, '--dry-run', '--json')
    expect(dry.code).toBe(0)
    expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, removed: [{ object: one.objectOf.only1, size: 6000 }], kept: 2 })
    expect(await store.hasObject(one.objectOf.only1!)).toBe(true)

    const gc = await cfs('gc', '--store', storeDir)
    expect(gc.code).toBe(0)
    expect(gc.stdout).toContain('removed 1 object(s)')
    expect(await store.hasObject(one.objectOf.only1!)).toBe(false)
    expect(await store.hasObject(one.objectOf.shared!)).toBe(true)
    expect((await cfs('verify', two.file, '--store', storeDir)).code).toBe(0)
    expect((await cfs('verify', one.file, '--store', storeDir)).code).toBe(6)
  })

  it('store seal succeeds with a warning where the filesystem has no fs-verity', async () => {
    await makeImage(store, dir, 'm.cfsm', { a: content(1, 5000) })
    const r = await cfs('store', 'seal', '--store', storeDir, '--json')
    expect(r.code).toBe(0)
    const out = JSON.parse(r.stdout) as { supported: boolean, sealed: number }
    if (out.supported) { console.warn(`skipped: ${os.tmpdir()} supports fs-verity here`); return }
    expect(out.sealed).toBe(0)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(JSON.parse(r.stderr)).toMatchObject({ schema: 'cfs.warning/1', warning: { message: expect.stringContaining('fs-verity is not available') } })
    const text = await cfs('store', 'seal', '--store', storeDir)
    expect(text.code).toBe(0)
    expect(text.stderr).toMatch(/^cfs: warning: fs-verity is not available .*\n$/)
  })
})
