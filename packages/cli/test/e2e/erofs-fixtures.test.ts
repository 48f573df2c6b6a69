/**
 * The proof that cfs writes what mkcomposefs 1.0.8 writes: every reference dump with a `.sha256` goes through
 * `cfs build --from-dump DUMP -o MANIFEST --erofs OUT [--erofs-version N]`, and then again from the manifest file
 * through `cfs export-erofs`, so the manifest keeps everything the image depends on (hardlink primaries included).
 */
import { execFile } from 'node:child_process'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { fixturePath } from '@cfs/fixtures'

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/cfs.js')
const exec = promisify(execFile)

interface Case { name: string, dump: string, sha256: string, version?: string }

function cases (): Case[] {
  const out: Case[] = []
  for (const dir of ['composefs', 'composefs-random']) {
    for (const f of fs.readdirSync(fixturePath(dir)).sort()) {
      if (!f.endsWith('.sha256')) continue
      const base = f.slice(0, -'.sha256'.length)
      // special_v1.dump.sha256 is special.dump written as version 1 (see fixtures/composefs/README.md)
      // rSEED.dump.sha256 belongs to rSEED.dump.gz
      let dump = fixturePath(path.join(dir, base === 'special_v1.dump' ? 'special.dump' : base))
      if (!fs.existsSync(dump)) dump += '.gz'
      const versionFile = fixturePath(path.join(dir, base + '.version'))
      const c: Case = { name: `${dir}/${base}`, dump, sha256: fs.readFileSync(fixturePath(path.join(dir, f)), 'utf8').trim().split(/\s/)[0]! }
      if (fs.existsSync(versionFile)) c.version = fs.readFileSync(versionFile, 'utf8').trim()
      out.push(c)
    }
  }
  return out
}

const sha = (file: string): string => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex')

describe('composefs images from reference dumps', () => {
  let dir: string
  beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-')) })
  afterAll(() => { fs.rmSync(dir, { recursive: true, force: true }) })

  const all = cases()
  it('covers the composefs assets and the generated dumps', () => {
    expect(all.length).toBeGreaterThanOrEqual(16)
  })

  it.each(all.map(c => [c.name, c] as const))('%s: cfs build --erofs and export-erofs give the mkcomposefs bytes', async (_name, c) => {
    const manifest = path.join(dir, path.basename(c.name) + '.cfsm')
    const direct = path.join(dir, path.basename(c.name) + '.img')
    const exported = path.join(dir, path.basename(c.name) + '.export.img')
    const v = c.version === undefined ? [] : ['--erofs-version', c.version]
    await exec(process.execPath, [BIN, 'build', '--from-dump', c.dump, '-o', manifest, '--erofs', direct, ...v])
    expect(sha(direct)).toBe(c.sha256)
    await exec(process.execPath, [BIN, 'export-erofs', manifest, exported, ...v])
    expect(sha(exported)).toBe(c.sha256)
  })
})
