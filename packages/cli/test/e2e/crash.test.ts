/**
 * Crash safety of `cfs build`: the real bin is killed with SIGKILL at many points of a build (exact steps through
 * CFS_TEST_CRASH_AT, see @cfs/store crash-point.ts, plus delays after the build took its lease). After every kill
 * the store holds no object whose bytes differ from its name, `fsck --repair` leaves it clean, no manifest exists
 * under a final name unless complete, and a rebuild gives the manifest of an uninterrupted build.
 */
import { spawn } from 'node:child_process'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildImage } from '@cfs/build'
import { decodeManifest } from '@cfs/manifest'
import { Store, fsckStore } from '@cfs/store'
import { encodeTar, type TarEntryInput } from '@cfs/tar'

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/cfs.js')

let tmp: string
beforeAll(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-')) })
afterAll(() => { fs.rmSync(tmp, { recursive: true, force: true }) })

/** A layer of 600 objects (1–5 KB), 300 inline files, one 2.5 MB file (written in 1 MiB pieces), links. */
function bigLayer (): Buffer {
  const entries: TarEntryInput[] = []
  for (let d = 0; d < 20; d++) entries.push({ path: `d${d}/`, type: 'dir', mode: 0o755 })
  for (let i = 0; i < 900; i++) {
    const size = i % 3 === 0 ? i % 65 : 1000 + (i * 7919) % 4000
    entries.push({ path: `d${i % 20}/f${i}`, type: 'file', mode: 0o644, mtimeSec: 1700000000 + i, content: crypto.randomBytes(size) })
  }
  entries.push({ path: 'big', type: 'file', content: crypto.randomBytes(2_500_000) })
  entries.push({ path: 'link', type: 'symlink', linkname: 'd1/f1' }, { path: 'hard', type: 'hardlink', linkname: 'd2/f2' })
  return encodeTar(entries)
}

interface Killed { signal: NodeJS.Signals | null, code: number | null, stderr: string }

/** Spawns `cfs build`; kills it `delayMs` after its build lease appears, unless the crash hook kills it first. */
async function buildAndKill (image: string, store: string, out: string, how: { crashAt?: string, delayMs?: number }): Promise<Killed> {
  const env = { PATH: process.env.PATH, HOME: tmp, ...(how.crashAt !== undefined ? { CFS_TEST_CRASH_AT: how.crashAt } : {}) }
  const child = spawn(process.execPath, [BIN, 'build', image, '-o', out, '--store', store], { env, stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  const exited = new Promise<Killed>(resolve => child.on('close', (code, signal) => resolve({ code, signal, stderr })))
  if (how.delayMs !== undefined) {
    let running = true
    void exited.then(() => { running = false })
    const leases = path.join(store, 'leases')
    while (running && !(fs.existsSync(leases) && fs.readdirSync(leases).length > 0)) await new Promise(resolve => setTimeout(resolve, 5))
    await new Promise(resolve => setTimeout(resolve, how.delayMs))
    child.kill('SIGKILL')
  }
  return await exited
}

// Object counts are per worker thread; these stay below what one of four workers handles for this image.
// A new store gets its objects staged and published by directory (object-staged, before-publish); a `seeded` one
// (holding an object already) gets each object linked from a temp file (object-linked).
interface Point { crashAt?: string, delayMs?: number, seeded?: boolean }
const POINTS: Point[] = [
  ...['object-temp:1', 'object-temp:2', 'object-temp:15', 'object-temp:40', 'object-temp:80', 'object-temp:130',
    'object-staged:1', 'object-staged:8', 'object-staged:30', 'object-staged:70', 'object-staged:120',
    'object-partial:1', 'object-partial:2', 'object-linked:1',
    'before-syncfs:1', 'before-publish:1', 'before-publish:2', 'before-publish:100',
    'before-rename:1', 'before-rename:2', 'before-rename:3'].map(crashAt => ({ crashAt })),
  ...['object-temp:2', 'object-temp:40', 'object-linked:1', 'object-linked:8', 'object-linked:30', 'object-linked:70',
    'object-linked:120', 'before-syncfs:1', 'before-rename:1'].map(crashAt => ({ crashAt, seeded: true })),
  ...[0, 30, 100, 200, 400].map(delayMs => ({ delayMs })),
]
/** the object a seeded store holds before the build */
const SEED = Buffer.from('an object of another image')

describe('cfs build killed with SIGKILL', () => {
  it(`leaves a store fsck can check and repair, and no incomplete manifest, at ${POINTS.length} kill points`, async () => {
    const image = path.join(tmp, 'image.tar')
    fs.writeFileSync(image, bigLayer())
    const ref = await buildImage(image, { store: await Store.open(path.join(tmp, 'ref'), { create: true }) })
    const phases = new Set<string>()
    let kills = 0
    const check = async (i: number): Promise<void> => {
      const point = POINTS[i]!
      const store = path.join(tmp, `s${i}`)
      const out = path.join(tmp, `o${i}.cfsm`)
      const seeded = point.seeded === true ? 1 : 0
      if (seeded === 1) await (await Store.open(store, { create: true })).writeObject(SEED)
      const r = await buildAndKill(image, store, out, point)
      const what = `${point.crashAt ?? `${point.delayMs} ms`}${seeded === 1 ? ' (seeded store)' : ''}: ${r.signal ?? `exit ${r.code}`} ${r.stderr}`
      if (r.signal === "SIGKILL") kills++; else expect(what).toMatch(/exit 0/)
      // a manifest under a final name (the -o file, or a kept image) is the complete one
      if (fs.existsSync(out)) expect([what, sha256(fs.readFileSync(out))]).toEqual([what, ref.digest])
      if (fs.existsSync(out)) decodeManifest(fs.readFileSync(out))
      const names = fs.existsSync(path.join(store, 'images')) ? fs.readdirSync(path.join(store, 'images')) : []
      const images = names.filter(n => n.endsWith('.cfsm'))
      expect([what, images]).toEqual([what, images.length === 0 ? [] : [`${ref.digest.slice(7)}.cfsm`]])
      // the layer record comes after the image, and complete or not at all
      const records = names.filter(n => !n.endsWith('.cfsm'))
      expect([what, records]).toEqual([what, records.length === 0 ? [] : [`${ref.digest.slice(7)}.layers.json`]])
      if (records.length > 0) expect(JSON.parse(fs.readFileSync(path.join(store, 'images', records[0]!), 'utf8')).layers).toEqual(ref.layers)
      if (!fs.existsSync(path.join(store, 'objects'))) { phases.add('no store yet'); return }
      // one pass: every finding must be a temp file of the dead build (a bad object would be corrupt-object)
      const s = await Store.open(store)
      const fsck = await fsckStore(s, { repair: true, jobs: 1 })
      expect([what, fsck.findings.filter(f => f.problem !== 'stale-temp')]).toEqual([what, []])
      expect([what, fsck.clean, fsck.inProgress, fs.readdirSync(s.tmpDir), fs.readdirSync(s.leasesDir)]).toEqual([what, true, [], [], []])
      phases.add(fs.existsSync(out) ? 'done' : images.length > 0 ? 'registered' : fsck.objects - seeded === ref.stats.objectsNew ? 'objects written' : fsck.objects > seeded ? 'writing objects' : 'started')
      const again = await buildImage(image, { store: s })
      expect([what, again.digest]).toEqual([what, ref.digest])
    }
    // three at a time: each spawn spends most of its time starting up
    const queue = POINTS.map((_p, i) => i)
    await Promise.all([0, 1, 2].map(async () => { for (let i = queue.shift(); i !== undefined; i = queue.shift()) await check(i) }))
    expect(kills).toBeGreaterThanOrEqual(28)
    expect(phases.size).toBeGreaterThanOrEqual(4)
  }, 180_000)
})

function sha256 (bytes: Uint8Array): string { return 'sha256:' + crypto.createHash('sha256').update(bytes).digest('hex') }
