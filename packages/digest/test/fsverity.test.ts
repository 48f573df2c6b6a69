import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { FsVerityHasher, fsverityDigest } from '../src/fsverity.js'
import { fsverityDigestFile } from '../src/fsverity-file.js'

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const pattern = (n: number): Buffer => { const b = Buffer.alloc(n); for (let i = 0; i < n; i++) b[i] = i % 251; return b }

// Vectors from `fsverity digest` (fsverity-utils), listed in the composefs format spec §2.3.
const vectors: Array<[string, () => Buffer, string]> = [
  ['empty', () => Buffer.alloc(0), '3d248ca542a24fc62d1c43b916eae5016878e2533c88238480b26128a1f1af95'],
  ['hello world', () => Buffer.from('hello world\n'), '37061ef2ac4c21bec68489b56138c5780306a4ad7fe6676236ecdf2c9027cd92'],
  ['4096 a', () => Buffer.alloc(4096, 0x61), 'a2a808ddaced77f0b6b3068f47b14b5a1fb3fc43674993ab11b8e7e6f2d089e2'],
  ['4097 zero', () => Buffer.alloc(4097), '093756e4ea9683329106d4a16982682ed182c14bf076463a9e7f97305cbac743'],
  ['1 MiB a', () => Buffer.alloc(1 << 20, 0x61), '3e982f1619f4442c645e71b6bb2e77ca8526b98744453e8ce2e7b2a436848e2d'],
  ['300000 pattern', () => pattern(300000), '9ba81fdc4f8dfd3b0d13b883f7f73f07e6c0c006c6ef81a3bc024508c8a57e3f'],
  ['64 MiB + 1 zero (3 levels)', () => Buffer.alloc(64 * 1024 * 1024 + 1), 'be5993679f703697692cc6ce69e480edc9721baff591795438ae8097275c0687'],
]

describe('fsverityDigest', () => {
  it.each(vectors)('matches the fsverity tool on %s', (_name, make, expected) => {
    expect(hex(fsverityDigest(make()))).toBe(expected)
  })

  it.each([1, 511, 4095, 4096, 4097, 65536, 1 << 20])('gives the same digest when fed in %i-byte chunks', (chunk) => {
    const data = pattern(300000)
    const h = new FsVerityHasher()
    for (let off = 0; off < data.length; off += chunk) h.update(data.subarray(off, off + chunk))
    expect(hex(h.digest())).toBe('9ba81fdc4f8dfd3b0d13b883f7f73f07e6c0c006c6ef81a3bc024508c8a57e3f')
  })

  it('after reset, one hasher gives every vector its digest, in any order (digestInto at an offset)', () => {
    const h = new FsVerityHasher()
    const out = Buffer.alloc(40)
    for (const [, make, expected] of [...vectors, ...[...vectors].reverse()]) {
      h.reset().update(make()).digestInto(out, 8)
      expect(hex(out.subarray(8))).toBe(expected)
    }
  })

  it('does not grow a level for a file of exactly 128 · 4096 bytes', () => {
    const data = pattern(128 * 4096)
    const split = new FsVerityHasher().update(data.subarray(0, 4096)).update(data.subarray(4096)).digest()
    expect(hex(split)).toBe(hex(fsverityDigest(data)))
  })
})

const fsverityTool = ((): string | undefined => {
  try { execFileSync('fsverity', ['--version'], { stdio: 'ignore' }); return 'fsverity' } catch { return undefined }
})()

describe('fsverityDigestFile against `fsverity digest`', () => {
  let dir: string
  beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-')) })
  afterAll(() => { fs.rmSync(dir, { recursive: true, force: true }) })

  const sizes = [0, 1, 4095, 4096, 4097, 1 << 20, 4096 * 128 * 128 + 1]
  it.each(sizes)('agrees on a %i-byte file', async (size) => {
    if (fsverityTool === undefined) {
      console.warn('skipped: the fsverity tool is missing (apt-get install fsverity)')
      return
    }
    const file = path.join(dir, `f${size}`)
    fs.writeFileSync(file, pattern(size))
    const out = execFileSync('fsverity', ['digest', '--compact', file], { encoding: 'utf8' }).trim()
    const mine = await fsverityDigestFile(file)
    expect(mine.size).toBe(size)
    expect(hex(mine.digest)).toBe(out.replace(/^sha256:/, ''))
  })
})
