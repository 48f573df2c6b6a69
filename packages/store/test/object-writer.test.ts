/**
 * How ObjectWriter publishes objects into a store whose objects/ is empty: staged under tmp/, and moved into
 * objects/ by directory only in finish(), after the flush. (The worker thread needs the built module: dist/.)
 */
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { fsverityDigest } from '@cfs/digest'
import { ObjectWriter, type Store, type WrittenObject } from '../dist/index.js'
import { deadPid, tempStore } from './helpers.js'

let dir: string | undefined
afterEach(() => { if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true }); dir = undefined })

/** every file under `root`, relative, sorted */
function filesUnder (root: string): string[] {
  if (!fs.existsSync(root)) return []
  return (fs.readdirSync(root, { recursive: true, withFileTypes: true }))
    .filter(e => e.isFile()).map(e => path.relative(root, path.join(e.parentPath, e.name))).sort()
}

function objectName (content: Uint8Array): string {
  const hex = Buffer.from(fsverityDigest(content)).toString('hex')
  return path.join(hex.slice(0, 2), hex.slice(2))
}

async function addAll (writer: ObjectWriter, contents: Buffer[]): Promise<WrittenObject[]> {
  const written: Array<Promise<WrittenObject>> = []
  for (const c of contents) written.push((await writer.add(c, c.length)).written)
  return await Promise.all(written)
}

/** Two contents whose object names share their directory (the first digest byte), found by trying. */
function twoInOneDirectory (): [Buffer, Buffer] {
  const byDir = new Map<string, Buffer>()
  for (let i = 0; ; i++) {
    const c = Buffer.from(`content ${i} `.repeat(300))
    const d = objectName(c).slice(0, 2)
    const other = byDir.get(d)
    if (other !== undefined) return [other, c]
    byDir.set(d, c)
  }
}

async function newStore (): Promise<Store> {
  const t = await tempStore()
  dir = t.dir
  return t.store
}

describe('ObjectWriter publication', () => {
  it('into a new store: names no object in objects/ before finish(), then publishes each once, with its content', async () => {
    const store = await newStore()
    const contents = Array.from({ length: 40 }, (_v, i) => crypto.randomBytes(100 + i * 997))
    contents.push(contents[3]!, contents[7]!, crypto.randomBytes(3 << 20)) // duplicates, and one of several pieces
    const writer = new ObjectWriter(store)
    const written = await addAll(writer, contents)
    expect(written.filter(w => w.created)).toHaveLength(41)
    // every object is on disk, but only in the staging directory
    expect(filesUnder(store.objectsDir)).toEqual([])
    const staged = fs.readdirSync(store.tmpDir)
    expect(staged).toHaveLength(1)
    expect(staged[0]).toMatch(new RegExp(`^stage\\.${process.pid}\\.[0-9a-f]+$`))
    await writer.finish()
    const names = [...new Set(contents.map(objectName))].sort()
    expect(filesUnder(store.objectsDir)).toEqual(names)
    for (const c of contents) expect(fs.readFileSync(path.join(store.objectsDir, objectName(c))).equals(c)).toBe(true)
    written.forEach((w, i) => expect(path.relative(store.objectsDir, store.objectPath(w.digest))).toBe(objectName(contents[i]!)))
    expect(fs.readdirSync(store.tmpDir)).toEqual([])
  })

  it('links one by one into a directory another build published into meanwhile, keeping the object found there', async () => {
    const store = await newStore()
    const [a, b] = twoInOneDirectory()
    const writer = new ObjectWriter(store)
    await addAll(writer, [a, b])
    // a concurrent build publishes `a` first: objects/XX/ exists and is not empty when this writer finishes
    await store.writeObject(a)
    const theirs = fs.statSync(path.join(store.objectsDir, objectName(a))).ino
    await writer.finish()
    expect(filesUnder(store.objectsDir)).toEqual([objectName(a), objectName(b)].sort())
    expect(fs.statSync(path.join(store.objectsDir, objectName(a))).ino).toBe(theirs)
    expect(fs.readFileSync(path.join(store.objectsDir, objectName(b))).equals(b)).toBe(true)
    expect(fs.readdirSync(store.tmpDir)).toEqual([])
  })

  it('takes over a directory a concurrent build created and left empty', async () => {
    const store = await newStore()
    const c = crypto.randomBytes(5000)
    const writer = new ObjectWriter(store)
    await addAll(writer, [c])
    fs.mkdirSync(path.join(store.objectsDir, objectName(c).slice(0, 2)))
    await writer.finish()
    expect(filesUnder(store.objectsDir)).toEqual([objectName(c)])
  })

  it('publishes nothing when closed without finishing (a failed build), and leaves no staged file', async () => {
    const store = await newStore()
    const writer = new ObjectWriter(store)
    await addAll(writer, [crypto.randomBytes(7000), crypto.randomBytes(2 << 20)])
    await writer.close()
    expect(filesUnder(store.objectsDir)).toEqual([])
    expect(fs.readdirSync(store.tmpDir)).toEqual([])
  })

  it('clears the staging directory a killed build left, and no live one', async () => {
    const store = await newStore()
    const stale = path.join(store.tmpDir, `stage.${deadPid()}.0a1b2c3d`)
    const live = path.join(store.tmpDir, `stage.${process.pid}.0a1b2c3d`)
    for (const dir of [stale, live]) {
      fs.mkdirSync(path.join(dir, 'ab'), { recursive: true })
      fs.writeFileSync(path.join(dir, 'ab', 'c'.repeat(62)), 'partial')
    }
    const c = crypto.randomBytes(4000)
    const writer = new ObjectWriter(store)
    await addAll(writer, [c])
    await writer.finish()
    expect(fs.readdirSync(store.tmpDir)).toEqual([path.basename(live)])
    expect(filesUnder(store.objectsDir)).toEqual([objectName(c)])
  })

  it('addNow queues a whole object without waiting and calls back once it is stored; it declines, doing nothing, when there is no room', async () => {
    const store = await newStore()
    // room for about two objects of 20 KB in flight
    const writer = new ObjectWriter(store, { maxInFlightBytes: 40_000, workers: 1 })
    const contents = Array.from({ length: 6 }, () => crypto.randomBytes(20_000))
    const stored = new Map<number, WrittenObject>()
    const declined: number[] = []
    contents.forEach((c, i) => { if (!writer.addNow(c, w => stored.set(i, w))) declined.push(i) })
    expect(declined.length).toBeGreaterThan(0)
    expect(stored.size).toBe(0) // callbacks come on a later turn of the event loop
    await writer.written()
    expect([...stored.keys()].sort()).toEqual(contents.map((_c, i) => i).filter(i => !declined.includes(i)))
    for (const [i, w] of stored) expect([w.created, w.size, w.digest.equals(fsverityDigest(contents[i]!))]).toEqual([true, 20_000, true])
    // what was declined goes through add(), as a caller does
    for (const i of declined) await (await writer.add(contents[i]!, 20_000)).written
    await writer.finish()
    expect(filesUnder(store.objectsDir)).toEqual(contents.map(objectName).sort())
  })

  it('into a store holding objects, links each object from tmp/ as it is written', async () => {
    const store = await newStore()
    await store.writeObject(Buffer.from('an object of another image'))
    const c = crypto.randomBytes(9000)
    const writer = new ObjectWriter(store)
    await addAll(writer, [c])
    // published before finish(): the temp file is already linked and gone
    expect(filesUnder(store.objectsDir)).toContain(objectName(c))
    expect(fs.readdirSync(store.tmpDir)).toEqual([])
    await writer.finish()
    expect(filesUnder(store.objectsDir)).toHaveLength(2)
  })
})
