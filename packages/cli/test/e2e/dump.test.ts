import { execFile, spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { gunzipSync } from 'node:zlib'
import { fixturePath } from '@cfs/fixtures'

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/cfs.js')
const exec = promisify(execFile)

interface Ran { code: number, stdout: Buffer, stderr: string }

async function cfs (args: string[], cwd: string, stdin?: Buffer): Promise<Ran> {
  if (stdin === undefined) {
    try {
      const { stdout, stderr } = await exec(process.execPath, [BIN, ...args], { cwd, encoding: 'buffer', maxBuffer: 1 << 28 })
      return { code: 0, stdout, stderr: stderr.toString() }
    } catch (err) {
      const e = err as { code: number, stdout: Buffer, stderr: Buffer }
      return { code: e.code, stdout: e.stdout, stderr: e.stderr.toString() }
    }
  }
  return await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (c: Buffer) => out.push(c))
    child.stderr.on('data', (c: Buffer) => err.push(c))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString() }))
    child.stdin.end(stdin)
  })
}

describe('cfs build --from-dump and cfs dump', () => {
  let dir: string
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-')) })
  afterEach(() => { fs.rmSync(dir, { recursive: true, force: true }) })

  it('round-trips config.dump.gz byte for byte and prints the manifest digest', async () => {
    const built = await cfs(['build', '--from-dump', fixturePath('composefs/config.dump.gz'), '-o', 'config.cfsm'], dir)
    expect(built.stderr).toBe('')
    expect(built.code).toBe(0)
    expect(built.stdout.toString().trim()).toMatch(/^sha256:[0-9a-f]{64}$/)
    const dumped = await cfs(['dump', 'config.cfsm'], dir)
    expect(dumped.code).toBe(0)
    expect(dumped.stdout.equals(gunzipSync(fs.readFileSync(fixturePath('composefs/config.dump.gz'))))).toBe(true)
  })

  it('reads a gzip dump from stdin, registers it in a store and writes the canonical dump to a file', async () => {
    const built = await cfs(['build', '--from-dump', '-', '-o', 'r.cfsm', '--store', 'store', '--json'], dir,
      fs.readFileSync(fixturePath('composefs-random/r5003.dump.gz')))
    expect(built.code).toBe(0)
    const summary = JSON.parse(built.stdout.toString()) as { digest: string, entries: number }
    expect(summary.entries).toBe(450)
    expect(fs.readdirSync(path.join(dir, 'store/images'))).toEqual([`${summary.digest.slice(7)}.cfsm`])
    const dumped = await cfs(['dump', 'r.cfsm', '-o', 'r.dump', '--json'], dir)
    expect(dumped.code).toBe(0)
    const want = gunzipSync(fs.readFileSync(fixturePath('composefs-random/r5003.canonical.dump.gz')))
    expect(fs.readFileSync(path.join(dir, 'r.dump')).equals(want)).toBe(true)
    expect(JSON.parse(dumped.stdout.toString())).toMatchObject({ bytes: want.length })
  })

  it('honours --erofs-version', async () => {
    await cfs(['build', '--from-dump', fixturePath('composefs/special.dump'), '-o', 's.cfsm'], dir)
    const v0 = await cfs(['dump', 's.cfsm', '--erofs-version', '0'], dir)
    expect(v0.stdout.equals(fs.readFileSync(fixturePath('composefs/special.dump')))).toBe(true)
    const v1 = await cfs(['dump', 's.cfsm'], dir)
    expect(v1.stdout.toString().split('\n')[0]).toContain(' user.overlay.opaque=x')
  })

  it('stops quietly with exit 0 when its reader goes away', async () => {
    await cfs(['build', '--from-dump', fixturePath('composefs/config.dump.gz'), '-o', 'config.cfsm'], dir)
    const r = await new Promise<{ code: number | null, stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, 'dump', 'config.cfsm'], { cwd: dir })
      let stderr = ''
      child.stderr.on('data', (c: Buffer) => { stderr += c.toString() })
      child.stdout.once('data', () => child.stdout.destroy())
      child.on('error', reject)
      child.on('close', (code) => resolve({ code, stderr }))
    })
    expect(r).toEqual({ code: 0, stderr: '' })
  })

  it('rejects a bad dump with exit 3 and one stderr line naming the line, writing nothing', async () => {
    const r = await cfs(['build', '--from-dump', fixturePath('composefs/should-fail-dotdot-name.dump'), '-o', 'x.cfsm'], dir)
    expect(r.code).toBe(3)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(/line 2: invalid \. or \.\. in path '\/\.\.'.*\[ERR_CFS_DUMP_PARSE\]/)
    expect(fs.readdirSync(dir)).toEqual([])
  })

  it('reports a missing dump with exit 4 and a missing -o with exit 2', async () => {
    expect((await cfs(['build', '--from-dump', 'nope.dump', '-o', 'x.cfsm'], dir)).code).toBe(4)
    expect((await cfs(['build', '--from-dump', fixturePath('composefs/special.dump')], dir)).code).toBe(2)
    expect((await cfs(['dump', 'nope.cfsm'], dir)).code).toBe(4)
  })
})
