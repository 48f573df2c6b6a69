/**
 * The composefs reference dumps through parseDump and writeErofs: the image must be byte-identical to mkcomposefs
 * 1.0.8's (its SHA-256 is stored beside each dump). Here rather than in @cfs/erofs, which does not depend on the
 * dump reader.
 */
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { promisify } from 'node:util'
import { gunzipSync } from 'node:zlib'
import { fixturePath } from '@cfs/fixtures'
import { lookupPath, walkDepthFirst, type Manifest } from '@cfs/manifest'
import { writeErofs, type ErofsOptions } from '@cfs/erofs'
import { parseDump } from '../src/index.js'

const exec = promisify(execFile)
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')

/** Copies the hardlink flags of `from` to the Nodes at the same paths in `to`. */
function copyHardlinkFlags (from: Manifest, to: Manifest): void {
  walkDepthFirst(from, (p, node) => {
    if (node.hardlink !== true) return
    const other = lookupPath(to, p)
    if (other === undefined) throw new Error(`hardlink ${p} not in the other tree`)
    other.hardlink = true
  })
}

interface Case { name: string, dump: string, sha256File: string, version: number | undefined, fsck: boolean, canonical?: string }

function readVersion (file: string): number | undefined {
  return fs.existsSync(file) ? Number(fs.readFileSync(file, 'utf8').trim()) : undefined
}

const composefs = (rel: string): string => fixturePath(path.join('composefs', rel))
const cases: Case[] = [
  ...['bigfile.dump', 'bigfile-xattr.dump', 'config.dump.gz', 'longlink.dump'].map(name => ({
    name, dump: composefs(name), sha256File: composefs(`${name}.sha256`), version: undefined, fsck: name === 'config.dump.gz',
  })),
  { name: 'special.dump', dump: composefs('special.dump'), sha256File: composefs('special.dump.sha256'), version: readVersion(composefs('special.dump.version')), fsck: true },
  { name: 'special_v1.dump', dump: composefs('special.dump'), sha256File: composefs('special_v1.dump.sha256'), version: readVersion(composefs('special_v1.dump.version')), fsck: true },
]
const randomDir = fixturePath('composefs-random')
for (const file of fs.readdirSync(randomDir).sort()) {
  const m = /^(r\d+)\.dump\.gz$/.exec(file)
  if (m === null) continue
  const sha256File = path.join(randomDir, `${m[1]!}.dump.sha256`)
  if (!fs.existsSync(sha256File)) continue
  cases.push({
    name: file,
    dump: path.join(randomDir, file),
    sha256File,
    version: readVersion(path.join(randomDir, `${m[1]!}.dump.version`)),
    fsck: true,
    canonical: path.join(randomDir, `${m[1]!}.canonical.dump.gz`),
  })
}

describe('writeErofs on the composefs reference dumps', () => {
  let dir: string
  beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-')) })
  afterAll(() => { fs.rmSync(dir, { recursive: true, force: true }) })

  it('has the fixtures it expects', () => {
    expect(cases.length).toBeGreaterThanOrEqual(16)
  })

  it.each(cases)('writes $name (version $version) exactly as mkcomposefs 1.0.8 does', async (c) => {
    let raw = fs.readFileSync(c.dump)
    if (c.dump.endsWith('.gz')) raw = gunzipSync(raw)
    const manifest = parseDump(raw, { source: c.name })
    const opts: ErofsOptions = {}
    if (c.version !== undefined) opts.version = c.version
    const image = writeErofs(manifest, opts)
    expect(sha256(image)).toBe(fs.readFileSync(c.sha256File, 'utf8').trim().split(/\s+/)[0])
    if (c.fsck) {
      const file = path.join(dir, `${c.name}.erofs`)
      fs.writeFileSync(file, image)
      await expect(exec('fsck.erofs', [file])).resolves.toBeDefined()
      fs.rmSync(file)
    }
  })

  it.each(cases.filter(c => c.canonical !== undefined))('writes the same image from the canonical form of $name (composefs-info dump of the image)', (c) => {
    const manifest = parseDump(gunzipSync(fs.readFileSync(c.canonical!)), { source: c.canonical! })
    // the canonical dump names the first link in depth-first order as the target; the original dump knows the primary
    copyHardlinkFlags(parseDump(fs.readFileSync(c.dump)), manifest)
    const opts: ErofsOptions = {}
    if (c.version !== undefined) opts.version = c.version
    expect(sha256(writeErofs(manifest, opts))).toBe(fs.readFileSync(c.sha256File, 'utf8').trim().split(/\s+/)[0])
  })
})
