import * as fs from 'node:fs'
import * as path from 'node:path'
import { fixturePath } from '@cfs/fixtures'
import { commands } from '../src/commands/index.js'
import { CfsError } from '@cfs/errors'
import { formatError, run } from '../src/run.js'
import { captureIo, type Captured } from './capture-io.js'

/** Runs one command in-process and returns its exit code, stdout and stderr (only this run's). */
async function cfs (c: Captured, ...argv: string[]): Promise<{ code: number, out: string, err: string }> {
  const [o, e] = [c.out().length, c.err().length]
  const code = await run(argv, c.io)
  await new Promise(resolve => setImmediate(resolve))
  return { code, out: c.out().slice(o), err: c.err().slice(e) }
}

const SCHEMA = /^cfs\.[a-z-]+\/[1-9]\d*$/

// mount and umount need root and FUSE: their JSON is checked in e2e/mount.test.ts; bench's (it mounts) in e2e/bench.test.ts
const ELSEWHERE = new Set(['mount', 'umount', 'bench'])

describe('--json', () => {
  let c: Captured
  beforeAll(() => { c = captureIo() })
  afterAll(() => { c.cleanup() })

  it('gives every command a document whose schema field names the command and its version', async () => {
    const seen = new Map<string, string>()
    const json = async (...argv: string[]): Promise<Record<string, unknown>> => {
      const r = await cfs(c, ...argv, '--json')
      expect({ argv, code: r.code }).toEqual({ argv, code: 0 })
      // stderr may hold warnings (store seal without fs-verity), but only as JSON lines
      for (const line of r.err.split('\n').filter(l => l !== '')) expect(JSON.parse(line)).toMatchObject({ schema: 'cfs.warning/1' })
      const doc = JSON.parse(r.out) as Record<string, unknown>
      expect(doc.schema).toMatch(SCHEMA)
      seen.set(argv[0]!, String(doc.schema))
      return doc
    }
    const built = await json('build', fixturePath('images/oci-archive.tar'), '-o', 'a.cfsm')
    expect(built.schema).toBe('cfs.build/1')
    expect((await json('build', '--from-dump', fixturePath('composefs/special.dump'), '-o', 'd.cfsm')).schema).toBe('cfs.build/1')
    expect((await json('verify', 'a.cfsm')).schema).toBe('cfs.verify/1')
    expect((await json('diff', 'a.cfsm', 'a.cfsm')).schema).toBe('cfs.diff/1')
    expect((await json('inspect', 'a.cfsm')).schema).toBe('cfs.inspect/1')
    expect((await json('ls', 'a.cfsm')).schema).toBe('cfs.ls/1')
    expect((await json('dump', 'a.cfsm', '-o', 'a.dump')).schema).toBe('cfs.dump/1')
    expect((await json('export-erofs', 'a.cfsm', 'a.img')).schema).toBe('cfs.export-erofs/1')
    expect((await json('images')).schema).toBe('cfs.images/1')
    expect((await json('fsck')).schema).toBe('cfs.fsck/1')
    expect((await json('store', 'seal')).schema).toBe('cfs.store-seal/1')
    // cat prints file bytes, never a document: --json changes only how errors look
    const cat = await cfs(c, 'cat', 'a.cfsm', '/bin/tool', '--json')
    expect({ code: cat.code, bytes: cat.out.length }).toEqual({ code: 0, bytes: 200 })
    expect(() => JSON.parse(cat.out) as unknown).toThrow()
    seen.set('cat', 'none')
    expect((await json('rm', String(built.digest))).schema).toBe('cfs.rm/1')
    expect((await json('gc')).schema).toBe('cfs.gc/1')
    expect((await json('--version'))).toEqual({ schema: 'cfs.version/1', version: expect.stringMatching(/^\d+\.\d+\.\d+/) })
    const completion = await json('completion')
    expect(completion).toMatchObject({ schema: 'cfs.completion/1', shell: 'bash' })
    for (const entry of commands) {
      const name = entry.command.split(' ')[0]!
      if (!ELSEWHERE.has(name)) expect({ name, covered: seen.has(name) }).toEqual({ name, covered: true })
    }
  })

  it('prints an error as one JSON line on stderr with its code and the same exit status as without --json', async () => {
    const cases: Array<[string[], string, number]> = [
      [['verify', 'missing.cfsm'], 'ERR_CFS_FILE_NOT_FOUND', 4],
      [['inspect', fixturePath('images/layer.tar')], 'ERR_CFS_MANIFEST_CORRUPT', 3],
      [['build', fixturePath('images/oci-archive.tar'), '--erofs-version', '3'], 'ERR_CFS_USAGE', 2],
      [['ls', '--no-such-option', 'x'], 'ERR_CFS_USAGE', 2],
      [['cat', 'missing.cfsm', '/x'], 'ERR_CFS_FILE_NOT_FOUND', 4],
    ]
    for (const [argv, code, exit] of cases) {
      const text = await cfs(c, ...argv)
      expect({ argv, code: text.code }).toEqual({ argv, code: exit })
      expect(text.err).toMatch(new RegExp(`^cfs: .*\\[${code}\\]\\n$`))
      const json = await cfs(c, ...argv, '--json')
      expect({ argv, code: json.code, out: json.out }).toEqual({ argv, code: exit, out: '' })
      expect(json.err.endsWith('\n')).toBe(true)
      expect(json.err.trim().split('\n')).toHaveLength(1)
      const doc = JSON.parse(json.err) as { schema: string, error: { code: string, exit: number, message: string } }
      expect(doc).toMatchObject({ schema: 'cfs.error/1', error: { code, exit } })
      expect(text.err).toContain(doc.error.message)
    }
  })

  it('reports a failed verify with the report on stdout and the error object on stderr', async () => {
    const built = await cfs(c, 'build', fixturePath('images/oci-archive.tar'), '-o', 'b.cfsm', '--json')
    const store = String((JSON.parse(built.out) as { store: string }).store)
    const objects = path.join(store, 'objects')
    const sub = fs.readdirSync(objects).find(d => /^[0-9a-f]{2}$/.test(d))!
    fs.rmSync(path.join(objects, sub), { recursive: true })
    const r = await cfs(c, 'verify', 'b.cfsm', '--json')
    expect(r.code).toBe(6)
    expect(JSON.parse(r.out)).toMatchObject({ schema: 'cfs.verify/1', ok: false })
    expect(JSON.parse(r.err)).toMatchObject({ schema: 'cfs.error/1', error: { code: 'ERR_CFS_OBJECT_CORRUPT', exit: 6 } })
    const text = await cfs(c, 'verify', 'b.cfsm', '-q')
    expect(text.code).toBe(6)
    expect(text.err).toMatch(/^cfs: \d+ problem\(s\) in \d+ objects of b\.cfsm \(\d+ missing\); see the report \[ERR_CFS_OBJECT_CORRUPT\]\n$/)
  })

  it('formats a bug as ERR_CFS_INTERNAL with exit 1, and a CfsError with its hint, in both forms', () => {
    expect(JSON.parse(formatError(new Error('boom'), true))).toEqual({
      schema: 'cfs.error/1',
      error: { code: 'ERR_CFS_INTERNAL', exit: 1, message: 'internal error: boom', hint: 'this is a bug, please report it with --debug output' },
    })
    expect(formatError(new Error('boom'), false)).toBe('cfs: internal error: boom; this is a bug, please report it with --debug output\n')
    const e = new CfsError('ERR_CFS_IMAGE_NOT_FOUND', 'no image 4f2a', { hint: 'see cfs images' })
    expect(formatError(e, false)).toBe('cfs: no image 4f2a; see cfs images [ERR_CFS_IMAGE_NOT_FOUND]\n')
    expect(formatError(e, true)).toBe('{"schema":"cfs.error/1","error":{"code":"ERR_CFS_IMAGE_NOT_FOUND","exit":4,"message":"no image 4f2a","hint":"see cfs images"}}\n')
  })
})
