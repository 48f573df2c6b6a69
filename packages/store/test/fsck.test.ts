import * as fs from 'node:fs'
import * as path from 'node:path'
import { fsckStore } from '../src/fsck.js'
import { deadPid, tempStore } from './helpers.js'

describe('fsckStore', () => {
  let dir: string
  afterEach(() => { fs.rmSync(dir, { recursive: true, force: true }) })

  it('reports a clean store as clean', async () => {
    const t = await tempStore(); dir = t.dir
    for (let i = 0; i < 10; i++) await t.store.writeObject(Buffer.alloc(5000 + i, i))
    await t.store.putImage(Buffer.from('an image'))
    const r = await fsckStore(t.store, { jobs: 2 })
    expect(r).toMatchObject({ objects: 10, images: 1, findings: [], clean: true, inProgress: [] })
    expect(r.bytes).toBe(10 * 5000 + 45)
  })

  it('finds a corrupt object, a corrupt image, strays and a stale temp file; --repair fixes them and keeps live temps', async () => {
    const t = await tempStore(); dir = t.dir
    const good = await t.store.writeObject(Buffer.from('good object'))
    const bad = await t.store.writeObject(Buffer.from('will be flipped'))
    const badPath = t.store.objectPath(bad.digest)
    const bytes = fs.readFileSync(badPath); bytes[0] = bytes[0]! ^ 1; fs.writeFileSync(badPath, bytes)
    const image = await t.store.putImage(Buffer.from('image bytes'))
    fs.appendFileSync(t.store.imagePath(image), 'x')
    const staleTmp = path.join(t.store.tmpDir, `obj.${deadPid()}.abcdef`)
    fs.writeFileSync(staleTmp, 'half an object')
    const liveTmp = path.join(t.store.tmpDir, `obj.${process.pid}.012345`)
    fs.writeFileSync(liveTmp, 'being written')
    fs.writeFileSync(path.join(t.store.objectsDir, 'README'), 'stray')
    fs.mkdirSync(path.join(t.store.objectsDir, 'ab'), { recursive: true })
    fs.writeFileSync(path.join(t.store.objectsDir, 'ab', 'short'), 'stray')

    const r = await fsckStore(t.store, { jobs: 2 })
    expect(r.clean).toBe(false)
    expect(r.inProgress).toEqual([path.relative(t.store.root, liveTmp)])
    const byProblem = Object.fromEntries(r.findings.map(f => [f.path, f.problem]))
    expect(byProblem).toEqual({
      [path.relative(t.store.root, badPath)]: 'corrupt-object',
      [path.relative(t.store.root, t.store.imagePath(image))]: 'corrupt-image',
      [path.relative(t.store.root, staleTmp)]: 'stale-temp',
      'objects/README': 'stray',
      'objects/ab/short': 'stray',
    })
    expect(r.findings.find(f => f.problem === 'corrupt-object')).toMatchObject({ claimed: `sha256:${bad.digest.toString('hex')}`, action: 'none' })
    expect(fs.existsSync(badPath)).toBe(true)

    const fixed = await fsckStore(t.store, { repair: true, jobs: 2 })
    expect(fixed.clean).toBe(true)
    expect(fixed.findings.map(f => f.action).sort()).toEqual(['quarantined', 'quarantined', 'removed', 'removed', 'removed'])
    expect(fs.existsSync(badPath)).toBe(false)
    expect(fs.existsSync(staleTmp)).toBe(false)
    expect(fs.existsSync(liveTmp)).toBe(true)
    expect(await t.store.hasObject(good.digest)).toBe(true)
    const quarantined = fs.readdirSync(path.join(t.store.root, 'quarantine'))
    expect(quarantined.some(n => n.startsWith(bad.digest.toString('hex') + '.'))).toBe(true)
    expect(quarantined.some(n => n.startsWith(image.slice(7) + '.cfsm.'))).toBe(true)

    fs.rmSync(liveTmp)
    expect(await fsckStore(t.store)).toMatchObject({ findings: [], clean: true, objects: 1 })
  })

  it('leaves alone the temp files of a live build: ObjectWriter (obj.<pid>.<writer>.<thread>.<n>, staging directory stage.<pid>.<writer>) and spooled archives', async () => {
    const t = await tempStore(); dir = t.dir
    const live = [`obj.${process.pid}.0a1b2c3d.1.7`, `spool.${process.pid}.0a1b2c3d4e5f.tar`, `stage.${process.pid}.0a1b2c3d`]
    const dead = [`obj.${deadPid()}.0a1b2c3d.1.7`, `spool.${deadPid()}.0a1b2c3d4e5f.tar`, `stage.${deadPid()}.0a1b2c3d`, 'junk']
    for (const n of [...live, ...dead]) {
      if (!n.startsWith('stage.')) { fs.writeFileSync(path.join(t.store.tmpDir, n), 'partial'); continue }
      // a staging directory holds objects under their names: objects/ must not gain them
      fs.mkdirSync(path.join(t.store.tmpDir, n, 'ab'), { recursive: true })
      fs.writeFileSync(path.join(t.store.tmpDir, n, 'ab', 'c'.repeat(62)), 'staged')
    }
    const r = await fsckStore(t.store, { repair: true })
    expect(r.inProgress).toEqual(live.map(n => `tmp/${n}`).sort())
    expect(r.findings.map(f => [f.path, f.problem, f.action])).toEqual(dead.map(n => [`tmp/${n}`, 'stale-temp', 'removed']).sort())
    expect(fs.readdirSync(t.store.tmpDir).sort()).toEqual(live.sort())
    expect(fs.readdirSync(t.store.objectsDir)).toEqual([])
  })
})
