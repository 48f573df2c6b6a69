import * as fs from 'node:fs'
import { Writable } from 'node:stream'
import { gunzipSync } from 'node:zlib'
import { writeErofs } from '@cfs/erofs'
import { fixturePath } from '@cfs/fixtures'
import { decodeManifest, encodeManifest, lookupPath, type Manifest } from '@cfs/manifest'
import { parseDump } from '../src/parse-dump.js'
import { defaultFormatVersion, encodeDump, writeDump } from '../src/write-dump.js'

const COMPOSEFS = fixturePath('composefs')
const RANDOM = fixturePath('composefs-random')

const read = (file: string): Buffer => {
  const raw = fs.readFileSync(file)
  return raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw
}
const versionOf = (file: string): 0 | 1 | undefined =>
  fs.existsSync(file) ? Number(fs.readFileSync(file, 'utf8').trim()) as 0 | 1 : undefined
const lines = (b: Buffer): string[] => b.toString('latin1').split('\n')
const ROOT = '/ 4096 40755 2 0 0 0 0.0 - - -\n'
const parse = (text: string): Manifest => parseDump(Buffer.from(text, 'latin1'))

const SEEDS = fs.readdirSync(RANDOM).map(f => /^(r\d+)\.dump\.gz$/.exec(f)?.[1]).filter((s): s is string => s !== undefined).sort()

describe('writeDump', () => {
  it.each(SEEDS)('turns %s.dump.gz into exactly the composefs-info dump of its image', (seed) => {
    const version = versionOf(`${RANDOM}/${seed}.dump.version`)
    const manifest = parseDump(fs.readFileSync(`${RANDOM}/${seed}.dump.gz`))
    const want = read(`${RANDOM}/${seed}.canonical.dump.gz`)
    expect(encodeDump(manifest, { version }).equals(want)).toBe(true)
    // the manifest codec in the middle changes nothing
    expect(encodeDump(decodeManifest(encodeManifest(manifest)), { version }).equals(want)).toBe(true)
    // and the canonical dump is a fixed point
    expect(encodeDump(parseDump(want), { version }).equals(want)).toBe(true)
  })

  it.each(['bigfile.dump', 'bigfile-xattr.dump', 'config.dump.gz', 'special.dump'])('reproduces %s, which is already canonical', (name) => {
    const version = versionOf(`${COMPOSEFS}/${name.replace(/\.gz$/, '')}.version`)
    const input = read(`${COMPOSEFS}/${name}`)
    const manifest = parseDump(input)
    expect(encodeDump(manifest, { version }).equals(input)).toBe(true)
    expect(encodeDump(decodeManifest(encodeManifest(manifest)), { version }).equals(input)).toBe(true)
  })

  it('rewrites longlink.dump only where the symlink SIZE is not the target length', () => {
    const input = lines(read(`${COMPOSEFS}/longlink.dump`))
    const output = lines(encodeDump(parseDump(read(`${COMPOSEFS}/longlink.dump`))))
    expect(output).toHaveLength(input.length)
    const changed = input.map((l, i) => [l, output[i]!] as const).filter(([a, b]) => a !== b)
    expect(changed.length).toBeGreaterThan(0)
    for (const [before, after] of changed) {
      const f = after.split(' ')
      expect(f[2]).toBe('120777')
      expect(Number(f[1])).toBe(f[8]!.length)
      expect([f[0], ...f.slice(2)]).toEqual(before.split(' ').filter((_, i) => i !== 1))
    }
  })

  it('picks version 1 for a tree with a whiteout and then marks its directory opaque', () => {
    const manifest = parseDump(read(`${COMPOSEFS}/special.dump`))
    expect(defaultFormatVersion(manifest)).toBe(1)
    const v1 = lines(encodeDump(manifest))
    const v0 = lines(encodeDump(manifest, { version: 0 }))
    expect(v0[0]).toBe('/ 4096 40555 2 0 0 0 1633950376.0 - - - trusted.foo1=bar-1 user.foo2=bar-2')
    // inline xattrs in the order of their on-disk keys (trusted.overlay.overlay.opaque, user.overlay.opaque)
    expect(v1[0]).toBe('/ 4096 40555 2 0 0 0 1633950376.0 - - - trusted.foo1=bar-1 trusted.overlay.opaque=x user.foo2=bar-2 user.overlay.opaque=x')
    expect(v1.slice(1)).toEqual(v0.slice(1))
    expect(v0.find(l => l.startsWith('/whiteout '))).toMatch(/^\/whiteout 0 20777 1 0 0 0 /)
  })

  it('prints later hardlinks as @ lines naming the first path in depth-first order', () => {
    const m = parse(ROOT + '/z 3 100644 2 0 0 0 0.0 - abc - user.a=1\n/a 0 @100644 1 0 0 0 0.0 /z - -\n')
    expect(lines(encodeDump(m))).toEqual([
      '/ 4096 40755 2 0 0 0 0.0 - - -',
      '/a 3 100644 2 0 0 0 0.0 - abc - user.a=1',
      '/z 3 @100644 2 0 0 0 0.0 /a abc - user.a=1',
      '',
    ])
  })

  it('marks the directory of a hardlinked whiteout\'s real line, which the hardlink flags of the @ lines tell', () => {
    const text = ROOT + '/d1 0 40755 2 0 0 0 0.0 - - -\n/d1/w 0 @20644 1 0 0 0 0.0 /d2/w - -\n' +
      '/d2 0 40755 2 0 0 0 0.0 - - -\n/d2/w 0 20644 1 0 0 0 0.0 - - -\n'
    const m = parseDump(Buffer.from(text))
    // what composefs-info 1.0.8 printed for the mkcomposefs image of this dump
    expect(lines(encodeDump(m))).toEqual([
      '/ 4096 40755 4 0 0 0 0.0 - - -',
      '/d1 40 40755 2 0 0 0 0.0 - - -',
      '/d1/w 0 20644 1 0 0 0 0.0 - - -',
      '/d2 40 40755 2 0 0 0 0.0 - - - trusted.overlay.opaque=x user.overlay.opaque=x',
      '/d2/w 0 @20644 1 0 0 0 0.0 /d1/w - -',
      '',
    ])
    // without the flag the first depth-first Node holds the inode, as in a canonical dump
    delete lookupPath(m, '/d1/w')!.hardlink
    expect(lines(encodeDump(m))[1]).toBe('/d1 40 40755 2 0 0 0 0.0 - - - trusted.overlay.opaque=x user.overlay.opaque=x')
  })

  it('hides writer xattrs, shows escaped overlay xattrs by their own name and external files as payload and digest', () => {
    const hex = '0f'.repeat(32)
    const m = parse(ROOT + `/f 100000 100644 1 0 0 0 0.0 0f/${'0f'.repeat(31)} - ${hex} trusted.overlay.redirect=x trusted.overlay.overlay.y=\\x3d\n`)
    expect(lines(encodeDump(m))[1]).toBe(`/f 100000 100644 1 0 0 0 0.0 0f/${'0f'.repeat(31)} - ${hex} trusted.overlay.overlay.y=\\x3d trusted.overlay.redirect=x`)
  })

  it('copies composefs-info reading past a redirect value and skipping a bare 4-byte last inline xattr', () => {
    // expected lines are what composefs-info 1.0.8 printed for the mkcomposefs image of this dump
    const m = parse(ROOT + [
      '/a 100 100644 1 0 0 0 0.0 abc - -', // redirect '/abc' fills its entry: the 0xff chunk table follows
      '/b 100 100644 1 0 0 0 0.0 abd - - user.a=1', // followed by the header of user.a (suffix length 1, index 1)
      '/c 100 100644 1 0 0 0 0.0 abcd - -', // padded entry: nothing extra
      '/d 0 100644 1 0 0 0 0.0 - - - user.=', // 4-byte last inline entry: not read back
      '/e 0 100644 1 0 0 0 0.0 - - - user.=v',
      '/f 0 100644 1 0 0 0 0.0 - - - system.posix_acl_default= user.y=2',
    ].join('\n') + '\n')
    expect(lines(encodeDump(m)).slice(1)).toEqual([
      '/a 100 100644 1 0 0 0 0.0 abc\\xff\\xff - -',
      '/b 100 100644 1 0 0 0 0.0 abd\\x01\\x01 - - user.a=1',
      '/c 100 100644 1 0 0 0 0.0 abcd - -',
      '/d 0 100644 1 0 0 0 0.0 - - -',
      '/e 0 100644 1 0 0 0 0.0 - - - user.=v',
      '/f 0 100644 1 0 0 0 0.0 - - - system.posix_acl_default= user.y=2',
      '',
    ])
    // a file of 1024 chunks has no room for its chunk table after the xattrs: zero padding follows instead
    const huge = parse(ROOT + '/a 9007199254740991 100644 1 0 0 0 0.0 abc - -\n/b 8000000000000000 100644 1 0 0 0 0.0 abd - -\n')
    expect(lines(encodeDump(huge)).slice(1, 3)).toEqual([
      '/a 9007199254740991 100644 1 0 0 0 0.0 abc - -',
      '/b 8000000000000000 100644 1 0 0 0 0.0 abd\\xff\\xff - -',
    ])
    // a shared redirect runs into the next entry of the shared table (here the shared metacopy: 16, index 4)
    const digest = 'ab'.repeat(32)
    const shared = parse(ROOT + `/a 100 100644 1 0 0 0 0.0 abc - ${digest}\n/b 100 100644 1 0 0 0 0.0 abc - ${digest}\n`)
    expect(lines(encodeDump(shared))[1]).toBe(`/a 100 100644 1 0 0 0 0.0 abc\\x10\\x04 - ${digest}`)
  })

  it('lists shared xattrs after inline ones, and keeps an inode to 128 shared references', () => {
    const keys = Array.from({ length: 130 }, (_, i) => `user.k${String(i).padStart(3, '0')}`)
    const xattrs = keys.map(k => `${k}=v`).join(' ')
    const m = parse(ROOT + `/a 0 100644 1 0 0 0 0.0 - - - user.only=1 ${xattrs}\n/b 0 100644 1 0 0 0 0.0 - - - ${xattrs}\n`)
    const shown = lines(encodeDump(m))[1]!.split(' ').slice(11).map(x => x.split('=')[0])
    // 130 pairs are shared, but only the first 128 in key order become references; the rest stay inline
    expect(shown).toEqual([...keys.slice(128), 'user.only', ...keys.slice(0, 128)])
  })

  it('still writes the dump of a tree mkcomposefs refuses for the xattr budget it applies to its own markers', () => {
    const m = parse(ROOT + `/d 0 40755 2 0 0 0 0.0 - - - user.overlay.opaque=${'a'.repeat(200)}\n/d/w 0 20644 1 0 0 0 0.0 - - -\n`)
    expect(() => writeErofs(m, { version: 1 })).toThrow(expect.objectContaining({ code: 'ERR_CFS_EROFS_UNSUPPORTED' }))
    expect(lines(encodeDump(m, { version: 1 })).slice(1, 3)).toEqual([
      '/d 40 40755 2 0 0 0 0.0 - - - trusted.overlay.opaque=x user.overlay.opaque=x',
      '/d/w 0 20644 1 0 0 0 0.0 - - -',
    ])
  })

  it('streams the same bytes to a Writable, waiting for drain', async () => {
    const manifest = parseDump(fs.readFileSync(`${COMPOSEFS}/config.dump.gz`))
    const parts: Buffer[] = []
    const out = new Writable({
      highWaterMark: 1024,
      write (chunk: Buffer, _enc, cb) { parts.push(chunk); setImmediate(cb) },
    })
    await writeDump(manifest, out)
    expect(parts.length).toBeGreaterThan(1)
    expect(Buffer.concat(parts).equals(read(`${COMPOSEFS}/config.dump.gz`))).toBe(true)
  })
})
