import * as fs from 'node:fs'
import { gzipSync } from 'node:zlib'
import { fixturePath } from '@cfs/fixtures'
import { encodeManifest, lookupPath, walkDepthFirst, S_IFCHR, S_IFREG, type Manifest, type Node } from '@cfs/manifest'
import { parseDump, readDump } from '../src/parse-dump.js'

const COMPOSEFS = fixturePath('composefs')
const RANDOM = fixturePath('composefs-random')
const dumpsIn = (dir: string, re: RegExp): string[] => fs.readdirSync(dir).filter(f => re.test(f)).sort()

const ROOT = '/ 4096 40755 2 0 0 0 0.0 - - -\n'
const parse = (text: string): Manifest => parseDump(Buffer.from(text, 'latin1'))
const reject = (text: string): unknown => {
  try { parse(text) } catch (err) { return err }
  throw new Error('dump was accepted')
}

async function * chunks (buf: Buffer, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size)
}

describe('parseDump', () => {
  it.each(dumpsIn(COMPOSEFS, /^should-fail-.*\.dump$/))('rejects %s naming the line', (name) => {
    expect(() => parseDump(fs.readFileSync(`${COMPOSEFS}/${name}`))).toThrow(expect.objectContaining({
      code: 'ERR_CFS_DUMP_PARSE', message: expect.stringMatching(/^line \d+: \S/) as unknown,
    }))
  })

  it('gives the reason of each upstream should-fail dump', () => {
    const reason = (name: string): string => {
      try { parseDump(fs.readFileSync(`${COMPOSEFS}/should-fail-${name}.dump`)) } catch (err) { return (err as Error).message }
      return 'accepted'
    }
    expect(reason('big-inline')).toMatch(/line 2: inline content of 5004 bytes/)
    expect(reason('dir-hardlink')).toMatch(/directories can't be hardlinked/)
    expect(reason('dot-name')).toBe("line 2: invalid . or .. in path '/.'")
    expect(reason('dotdot-name')).toBe("line 2: invalid . or .. in path '/..'")
    expect(reason('empty-link-name')).toMatch(/symlink .* has no target/)
    expect(reason('empty-name')).toMatch(/empty name/)
    expect(reason('empty-xattr-key')).toMatch(/empty xattr key/)
    expect(reason('long-link')).toMatch(/symlink target of \d+ bytes exceeds/)
    expect(reason('long-xattr-key')).toMatch(/xattr text of \d+ bytes exceeds/)
    expect(reason('no-ftype')).toMatch(/invalid mode '0'/)
    expect(reason('too-big')).toMatch(/SIZE 9500000000000000 is larger than 2\^53-1/)
  })

  it.each([...dumpsIn(COMPOSEFS, /^(?!should-fail).*\.dump(\.gz)?$/), ...dumpsIn(RANDOM, /^r\d+\.dump\.gz$/).map(f => `../composefs-random/${f}`)])(
    'accepts %s, whole or streamed in small chunks', async (name) => {
      const bytes = fs.readFileSync(`${COMPOSEFS}/${name}`)
      const whole = encodeManifest(parseDump(bytes))
      const streamed = encodeManifest(await readDump(chunks(bytes, 4093)))
      expect(Buffer.from(streamed).equals(Buffer.from(whole))).toBe(true)
    })

  it('reads the same tree one byte at a time', async () => {
    const bytes = fs.readFileSync(`${COMPOSEFS}/special.dump`)
    const a = encodeManifest(await readDump(chunks(bytes, 1)))
    const b = encodeManifest(await readDump(chunks(gzipSync(bytes), 1)))
    expect(Buffer.from(a).equals(Buffer.from(encodeManifest(parseDump(bytes))))).toBe(true)
    expect(Buffer.from(b).equals(Buffer.from(a))).toBe(true)
  })

  it('builds the model: escapes decoded, xattrs sorted, devices keep rdev, whiteouts stay char devices', () => {
    const m = parseDump(fs.readFileSync(`${COMPOSEFS}/special.dump`))
    const inline = lookupPath(m, '/inline')!.inode
    expect(Buffer.from(inline.inline!).toString('latin1')).toBe('FOOBAR\nINAFILE\n')
    expect(lookupPath(m, '/blockdev')!.inode.rdev).toBe(107690)
    const whiteout = lookupPath(m, '/whiteout')!.inode
    expect(whiteout.mode).toBe(S_IFCHR | 0o777)
    expect(whiteout.rdev).toBe(0)
    expect(lookupPath(m, '/escaped-xattr')!.inode.xattrs.map(x => x.key))
      .toEqual(['trusted.overlay.redirect', 'user.foo', 'user.overlay.redirect'])
    expect(m.root.inode.nlink).toBe(2)
  })

  it('gives files with the same xattrs one shared array, and the same manifest as unshared arrays', () => {
    const lines = ['/a', '/b', '/c', '/d'].map((f, i) =>
      `${f} 0 100644 1 0 0 0 0.0 - - - security.selinux=${i === 2 ? 'other' : 'label'}\\x00 user.k=v`)
    const m = parse(ROOT + lines.join('\n') + '\n')
    const xattrs = (p: string): unknown => lookupPath(m, p)!.inode.xattrs
    expect(xattrs('/a')).toBe(xattrs('/b'))
    expect(xattrs('/a')).toBe(xattrs('/d'))
    expect(xattrs('/c')).not.toBe(xattrs('/a'))
    expect(lookupPath(m, '/a')!.inode.xattrs.map(x => [x.key, Buffer.from(x.value).toString('latin1')]))
      .toEqual([['security.selinux', 'label\0'], ['user.k', 'v']])
    walkDepthFirst(m, (_p, n) => { n.inode.xattrs = n.inode.xattrs.map(x => ({ key: x.key, value: Buffer.from(x.value) })) })
    expect(Buffer.from(encodeManifest(m)).equals(Buffer.from(encodeManifest(parse(ROOT + lines.join('\n') + '\n'))))).toBe(true)
  })

  it('keeps external files: size, payload exactly as given, 32-byte digest', () => {
    const hex = 'ab'.repeat(32)
    const m = parse(ROOT + `/x 9000000000000000 100644 3 1 2 0 5.7 ab/cd\\x20e - ${hex}\n/y 10 100600 1 0 0 0 -3.0 - - -\n`)
    const x = lookupPath(m, '/x')!.inode
    expect(x).toMatchObject({ size: 9000000000000000, nlink: 3, uid: 1, gid: 2, mtimeSec: 5, mtimeNsec: 7, payload: 'ab/cd e' })
    expect(Buffer.from(x.digest!).toString('hex')).toBe(hex)
    const y = lookupPath(m, '/y')!.inode
    expect(y.payload).toBeUndefined()
    expect(y.digest).toBeUndefined()
    expect(y.mtimeSec).toBe(-3)
    expect(lookupPath(parse(ROOT + '/z 00000000000000000000007 100644 1 0 0 0 0.0 - - -\n'), '/z')!.inode.size).toBe(7)
  })

  it('resolves hardlinks to one inode, in any order and through chains', () => {
    const m = parse(ROOT + '/a 0 @100644 1 0 0 0 0.0 /b - -\n/b 0 @100644 1 0 0 0 0.0 /c - -\n/c 3 100644 7 0 0 0 0.0 - abc -\n')
    const c = lookupPath(m, '/c')!.inode
    expect(lookupPath(m, '/a')!.inode).toBe(c)
    expect(lookupPath(m, '/b')!.inode).toBe(c)
    expect(c.nlink).toBe(7)
    // the `@` line keeps Node.hardlink: the inode's primary is /c, not the first Node in depth-first order
    const again = parseDump(Buffer.from(ROOT + '/a 0 @100644 1 0 0 0 0.0 /c - -\n/c 3 100644 7 0 0 0 0.0 - abc -\n'))
    const flagged: Node[] = []
    walkDepthFirst(again, (_p, node) => { if (node.hardlink === true) flagged.push(node) })
    expect(flagged).toEqual([lookupPath(again, '/a')])
  })

  it.each([
    ['', /line 0: no entries/],
    ['/a 0 100644 1 0 0 0 0.0 - - -\n', /line 1: the root \/ must be the first entry/],
    [ROOT + ROOT, /line 2: a second root/],
    ['/ 0 100644 1 0 0 0 0.0 - - -\n', /line 1: the root \/ must be a directory/],
    [ROOT + '\n/a 0 100644 1 0 0 0 0.0 - - -\n', /line 2: empty line/],
    [ROOT + 'a 0 100644 1 0 0 0 0.0 - - -\n', /line 2: path 'a' does not start with \//],
    [ROOT + '/a/ 0 40755 1 0 0 0 0.0 - - -\n', /line 2: empty name/],
    [ROOT + '/d/x 0 100644 1 0 0 0 0.0 - - -\n', /line 2: parent directory of '\/d\/x' missing/],
    [ROOT + '/f 0 100644 1 0 0 0 0.0 - - -\n/f/x 0 100644 1 0 0 0 0.0 - - -\n', /line 3: parent of '\/f\/x' is not a directory/],
    [ROOT + '/f 0 100644 1 0 0 0 0.0 - - -\n/f 0 100644 1 0 0 0 0.0 - - -\n', /line 3: duplicate entry/],
    [ROOT + `/${'n'.repeat(256)} 0 100644 1 0 0 0 0.0 - - -\n`, /line 2: name of 256 bytes exceeds/],
    [ROOT + '/a\\q 0 100644 1 0 0 0 0.0 - - -\n', /line 2: PATH: unsupported escape '\\q'/],
    [ROOT + '/a\\x4 0 100644 1 0 0 0 0.0 - - -\n', /line 2: PATH: bad hex escape/],
    [ROOT + '/a\\ 0 100644 1 0 0 0 0.0 - - -\n', /line 2: PATH: backslash at the end/],
    [ROOT + '/a\\x00 0 100644 1 0 0 0 0.0 - - -\n', /line 2: NUL byte in path/],
    [ROOT + '/a 0 100644 1 0 0 0 0.0 - - -\0\n', /line 2: embedded NUL byte/],
    [ROOT + '/a 0 100644 1 0 0 0 0.0 - -\n', /line 2: missing DIGEST field/],
    [ROOT + '/a +1 100644 1 0 0 0 0.0 - - -\n', /line 2: invalid SIZE '\+1'/],
    [ROOT + '/a 0 100644 1 4294967296 0 0 0.0 - - -\n', /line 2: UID 4294967296 is larger than 4294967295/],
    [ROOT + '/a 0 1100644 1 0 0 0 0.0 - - -\n', /line 2: MODE 1100644 is larger/],
    [ROOT + '/a 0 100648 1 0 0 0 0.0 - - -\n', /line 2: invalid MODE '100648': expected octal/],
    [ROOT + '/a 0 100644 1 0 0 0 0 - - -\n', /line 2: invalid MTIME '0'/],
    [ROOT + '/a 0 100644 1 0 0 0 0.1000000000 - - -\n', /line 2: MTIME nanoseconds 1000000000 is larger/],
    [ROOT + '/a 0 100644 1 0 0 5 0.0 - - -\n', /line 2: RDEV 5 on an entry that is not a device/],
    [ROOT + '/a 2 100644 1 0 0 0 0.0 - abc -\n', /line 2: content is 3 bytes but SIZE is 2/],
    [ROOT + '/a 3 20644 1 0 0 0 0.0 - abc -\n', /line 2: CONTENT on an entry that is not a regular file/],
    [ROOT + '/a 5 100644 1 0 0 0 0.0 - - abc\n', /line 2: invalid DIGEST 'abc'/],
    [ROOT + '/a 0 100644 1 0 0 0 0.0 - - - user.x\n', /line 2: missing = in xattr/],
    [ROOT + '/a 0 100644 1 0 0 0 0.0 - - - user.x=1  user.y=2\n', /line 2: empty xattr/],
    [ROOT + `/a 0 100644 1 0 0 0 0.0 - - - ${'k'.repeat(256)}=1\n`, /line 2: xattr key of 256 bytes exceeds/],
    [ROOT + `/a 0 100644 1 0 0 0 0.0 - - - user.a=${'v'.repeat(32743)}\n`, /line 2: xattrs need 32768 bytes/],
    [ROOT + `/a 1 100644 1 0 0 0 0.0 ${'p'.repeat(4096)} - -\n`, /line 2: payload of 4096 bytes exceeds/],
    [ROOT + '/a 0 @100644 1 0 0 0 0.0 /a - -\n', /line 2: self-referential hardlink/],
    [ROOT + '/a 0 @100644 1 0 0 0 0.0 /b - -\n/b 0 @100644 1 0 0 0 0.0 /a - -\n', /hardlink cycle/],
    [ROOT + '/a 0 @100644 1 0 0 0 0.0 /nowhere - -\n', /line 2: hardlink target '\/nowhere' not found/],
    [ROOT + '/d 0 40755 2 0 0 0 0.0 - - -\n/a 0 @100644 1 0 0 0 0.0 /d - -\n', /line 3: hardlink '\/a' points to directory/],
    [ROOT + '/a 0 @100644 1 0 0 0 0.0 - - -\n', /line 2: hardlink '\/a' has no target path/],
    [ROOT + '/b 0 100644 1 0 0 0 0.0 - - -\n/a 0 @100644 1 0 0 0 0.0 /b\n', /line 3: missing DIGEST field/],
  ])('rejects bad input %#', (text, message) => {
    expect(reject(text)).toMatchObject({ code: 'ERR_CFS_DUMP_PARSE', message: expect.stringMatching(message) as unknown })
  })

  it('accepts a 32742-byte value, a trailing space and a missing final LF', () => {
    const m = parse(ROOT + `/a 0 100644 1 0 0 0 0.0 - - - user.a=${'v'.repeat(32742)} user.a=${'w'.repeat(32742)} \n/b 0 100644 1 0 0 0 0.0 - - -`)
    expect(lookupPath(m, '/a')!.inode.xattrs).toHaveLength(1)
    expect(lookupPath(m, '/a')!.inode.xattrs[0]!.value[0]).toBe(0x77)
    expect(lookupPath(m, '/b')!.inode.mode).toBe(S_IFREG | 0o644)
  })

  it('refuses a line longer than 1 MiB, whole or streamed', async () => {
    const long = Buffer.from(ROOT + '/a' + 'x'.repeat(1 << 20) + ' 0 100644 1 0 0 0 0.0 - - -\n')
    expect(() => parseDump(long)).toThrow(/line 2: line longer than 1048576 bytes/)
    await expect(readDump(chunks(long, 65536))).rejects.toThrow(/line 2: line longer than 1048576 bytes/)
  })

  it('reports a broken gzip stream as ERR_CFS_DECOMPRESS', async () => {
    const gz = gzipSync(Buffer.from(ROOT)).subarray(0, 12)
    expect(() => parseDump(gz)).toThrow(expect.objectContaining({ code: 'ERR_CFS_DECOMPRESS' }))
    await expect(readDump(chunks(gz, 5))).rejects.toMatchObject({ code: 'ERR_CFS_DECOMPRESS' })
  })
})
