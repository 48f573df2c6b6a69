/**
 * Several `cfs build`s into one store at once, with a `cfs gc` started in the middle of them: builds of images
 * sharing most of their files, two builds of the same image, and unreferenced objects in the store that the
 * builds need again. Every manifest must verify and gc must not have removed anything an image references.
 */
import { spawn } from 'node:child_process'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { decodeManifest } from '@cfs/manifest'
import { Store, fsckStore } from '@cfs/store'
import { encodeTar, type TarEntryInput } from '@cfs/tar'
import { objectsReferencedBy } from '@cfs/verify'

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/cfs.js')

let tmp: string
beforeEach(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-')) })
afterEach(() => { fs.rmSync(tmp, { recursive: true, force: true }) })

interface Ran { code: number | null, stdout: string, stderr: string }

function cfs (args: string[]): { done: Promise<Ran> } {
  const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH, HOME: tmp }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  return { done: new Promise(resolve => child.on('close', code => resolve({ code, stdout, stderr }))) }
}

/**
 * Four layer tars in tmp: image k holds the `shared` files whose index j has (j + k) % 4 !== 0 (so each pair of
 * images shares half of them) and `own` files of its own.
 */
function overlappingImages (nShared: number, sharedSize: () => number, nOwn: number, ownSize: (j: number) => number): { shared: Buffer[], images: string[] } {
  const shared = Array.from({ length: nShared }, () => crypto.randomBytes(sharedSize()))
  const images = [0, 1, 2, 3].map(k => {
    const entries: TarEntryInput[] = []
    shared.forEach((content, j) => { if ((j + k) % 4 !== 0) entries.push({ path: `s/${j}`, type: 'file', content }) })
    for (let j = 0; j < nOwn; j++) entries.push({ path: `own/${k}/${j}`, type: 'file', content: crypto.randomBytes(ownSize(j)) })
    const file = path.join(tmp, `i${k}.tar`)
    fs.writeFileSync(file, encodeTar(entries))
    return file
  })
  return { shared, images }
}

describe('concurrent builds and gc in one store', () => {
  it('4 overlapping images, one of them twice, and gc racing them: every manifest verifies, gc kept every reference', async () => {
    const { shared, images } = overlappingImages(400, () => 1000 + crypto.randomInt(7000), 60, j => 500 + j * 37)
    const storeDir = path.join(tmp, 'store')
    const store = await Store.open(storeDir, { create: true })
    // garbage gc may take: a quarter of the shared files (which the builds need again) and objects nobody uses
    const hex = async (content: Buffer): Promise<string> => (await store.writeObject(content)).digest.toString('hex')
    const before = new Set<string>()
    for (const [j, content] of shared.entries()) if (j % 4 === 1) before.add(await hex(content))
    const unused = new Set<string>()
    for (let j = 0; j < 50; j++) unused.add(await hex(crypto.randomBytes(3000)))

    const targets = [0, 0, 1, 2, 3]
    const builds = targets.map((k, n) => cfs(['build', images[k]!, '-o', path.join(tmp, `o${n}.cfsm`), '--store', storeDir, '--quiet']))
    const leases = path.join(storeDir, 'leases')
    const t0 = Date.now()
    while (fs.readdirSync(leases).length === 0 && Date.now() - t0 < 30_000) await new Promise(resolve => setTimeout(resolve, 10))
    const gc = cfs(['gc', '--store', storeDir, '--json'])
    const ran = await Promise.all(builds.map(async b => await b.done))
    const gcRan = await gc.done
    expect(ran.map(r => [r.code, r.stderr])).toEqual(targets.map(() => [0, '']))
    expect([gcRan.code, gcRan.stderr]).toEqual([0, ''])

    const manifests = targets.map((_k, n) => path.join(tmp, `o${n}.cfsm`))
    const verified = await Promise.all(manifests.map(async m => await cfs(['verify', m, '--store', storeDir, '--quiet']).done))
    expect(verified.map(r => [r.code, r.stderr])).toEqual(targets.map(() => [0, '']))
    // the two builds of image 0 agree
    expect(fs.readFileSync(manifests[0]!).equals(fs.readFileSync(manifests[1]!))).toBe(true)

    // gc ran while no build was between writing an object and registering its image: it can only have removed
    // objects that were in the store before (a shared one that a build then wrote again), never a build's own
    const removed = (JSON.parse(gcRan.stdout) as { removed: Array<{ object: string }> }).removed.map(r => r.object.slice(7))
    expect(removed.filter(d => !before.has(d) && !unused.has(d))).toEqual([])
    expect(removed.filter(d => unused.has(d)).length).toBe(unused.size)
    for (const m of manifests) for (const d of objectsReferencedBy(decodeManifest(fs.readFileSync(m)))) expect(await store.hasObject(d)).toBe(true)
    const fsck = await fsckStore(store, { jobs: 1 })
    expect([fsck.findings, fsck.images]).toEqual([[], 4])
  }, 120_000)

  it('4 overlapping images at once into a new store (each stages its objects and publishes them by directory): all verify, no object lost or doubled', async () => {
    // objects/ is empty as every build starts, so each writes its objects under tmp/stage.*; the first to finish
    // renames whole directories into objects/, the others then find most taken and link their objects one by one
    const { images } = overlappingImages(1500, () => 200 + crypto.randomInt(3000), 100, j => 300 + j * 11)
    const storeDir = path.join(tmp, 'new-store')
    const builds = images.map((image, n) => cfs(['build', image, '-o', path.join(tmp, `o${n}.cfsm`), '--store', storeDir, '--quiet']))
    const ran = await Promise.all(builds.map(async b => await b.done))
    expect(ran.map(r => [r.code, r.stderr])).toEqual(images.map(() => [0, '']))
    const manifests = images.map((_k, n) => path.join(tmp, `o${n}.cfsm`))
    const verified = await Promise.all(manifests.map(async m => await cfs(['verify', m, '--store', storeDir, '--quiet']).done))
    expect(verified.map(r => [r.code, r.stderr])).toEqual(images.map(() => [0, '']))
    // exactly the objects the images name, each once under its name; nothing left staged
    const store = await Store.open(storeDir)
    const named = new Set<string>()
    for (const m of manifests) for (const hex of objectsReferencedBy(decodeManifest(fs.readFileSync(m)))) named.add(hex)
    const onDisk = fs.readdirSync(store.objectsDir).flatMap(dir => fs.readdirSync(path.join(store.objectsDir, dir)).map(n => dir + n))
    expect(onDisk.sort()).toEqual([...named].sort())
    expect(fs.readdirSync(store.tmpDir)).toEqual([])
    const fsck = await fsckStore(store, { jobs: 1 })
    expect([fsck.findings, fsck.images, fsck.objects]).toEqual([[], 4, named.size])
  }, 120_000)
})
