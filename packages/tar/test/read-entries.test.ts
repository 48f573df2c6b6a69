import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { encodeEntry, encodeTar } from '../src/encode-entry.js'
import { ByteReader, readEntries, type TarHeader } from '../src/read-entries.js'

async function * chunked (data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size)
}

interface Seen { header: TarHeader, content: Buffer }

async function readAll (data: Uint8Array, size: number, readBodies = true): Promise<Seen[]> {
  const out: Seen[] = []
  for await (const { header, body } of readEntries(chunked(data, size))) {
    const parts: Buffer[] = []
    if (readBodies) for await (const c of body) parts.push(Buffer.from(c))
    out.push({ header, content: Buffer.concat(parts) })
  }
  return out
}

const CHUNKS = [1, 511, 512, 513, 65536]
const long = 'd/' + 'x'.repeat(150) + '/\xff\xfe-name'
const big = Buffer.alloc(70000, 0x61)

const sample = encodeTar([
  { path: 'dir/', type: 'dir', mode: 0o1755, mtimeSec: 1 },
  { path: 'dir/file', type: 'file', mode: 0o4755, uid: 5, gid: 6, mtimeSec: 1700000000, mtimeNsec: 123456789, content: Buffer.from('hello') },
  { path: long, type: 'file', content: big },
  { path: 'gnu/' + 'y'.repeat(120), type: 'symlink', linkname: 'z'.repeat(130), longNames: 'gnu' },
  { path: 'hl', type: 'hardlink', linkname: 'dir/file' },
  { path: 'dev', type: 'chardev', devmajor: 1, devminor: 3 },
  { path: 'cap', type: 'file', xattrs: [{ key: 'security.capability', value: Buffer.from([1, 0, 0, 2, 0xff, 0]) }, { key: 'user.a', value: Buffer.from('') }], content: Buffer.alloc(0) },
  { path: 'old', type: 'file', mtimeSec: -2, mtimeNsec: 500000000 },
  { path: 'bigid', type: 'fifo', uid: 3000000, gid: 4000000 },
])

describe('readEntries', () => {
  it.each(CHUNKS)('reads every kind of entry fed in %i-byte chunks', async (size) => {
    const seen = await readAll(sample, size)
    expect(seen.map(s => s.header.path)).toEqual(['dir/', 'dir/file', long, 'gnu/' + 'y'.repeat(120), 'hl', 'dev', 'cap', 'old', 'bigid'])
    expect(seen[0]!.header).toMatchObject({ type: 'dir', mode: 0o1755, mtimeSec: 1 })
    expect(seen[1]!.header).toMatchObject({ type: 'file', mode: 0o4755, uid: 5, gid: 6, size: 5, mtimeSec: 1700000000, mtimeNsec: 123456789 })
    expect(seen[1]!.content.toString()).toBe('hello')
    expect(seen[2]!.content.equals(big)).toBe(true)
    expect(seen[3]!.header).toMatchObject({ type: 'symlink', linkname: 'z'.repeat(130) })
    expect(seen[4]!.header).toMatchObject({ type: 'hardlink', linkname: 'dir/file', size: 0 })
    expect(seen[5]!.header).toMatchObject({ type: 'chardev', devmajor: 1, devminor: 3 })
    expect(seen[6]!.header.xattrs).toEqual([{ key: 'security.capability', value: Buffer.from([1, 0, 0, 2, 0xff, 0]) }, { key: 'user.a', value: Buffer.alloc(0) }])
    expect(seen[7]!.header).toMatchObject({ mtimeSec: -2, mtimeNsec: 500000000 })
    expect(seen[8]!.header).toMatchObject({ uid: 3000000, gid: 4000000 })
  })

  it.each(CHUNKS)('skips the unread body of the previous entry (%i-byte chunks)', async (size) => {
    const seen = await readAll(sample, size, false)
    expect(seen).toHaveLength(9)
    expect(seen[8]!.header.path).toBe('bigid')
  })

  it('keeps xattr names and values byte for byte, also when they are not UTF-8', async () => {
    const data = encodeTar([{ path: 'x', type: 'file', xattrs: [{ key: 'user.\xff\x80', value: Buffer.from([0xc3, 0x28, 0]) }] }])
    const [seen] = await readAll(data, 7)
    expect(seen!.header.xattrs).toEqual([{ key: 'user.\xff\x80', value: Buffer.from([0xc3, 0x28, 0]) }])
  })

  it('reads libarchive xattr records (URL-encoded name, base64 value)', async () => {
    const data = encodeTar([{ path: 'x', type: 'file', pax: [['LIBARCHIVE.xattr.user.a%20b', Buffer.from([1, 2, 255]).toString('base64')]] }])
    const [seen] = await readAll(data, 512)
    expect(seen!.header.xattrs).toEqual([{ key: 'user.a b', value: Buffer.from([1, 2, 255]) }])
  })

  it('ends cleanly at the end of the source between entries (no end marker)', async () => {
    const data = Buffer.concat([encodeEntry({ path: 'a', type: 'file', content: Buffer.from('1') })])
    expect((await readAll(data, 512)).map(s => s.header.path)).toEqual(['a'])
  })

  it('throws ERR_CFS_TAR_TRUNCATED when the source ends inside a body', async () => {
    const data = encodeTar([{ path: 'a', type: 'file', content: Buffer.alloc(2000) }]).subarray(0, 1024)
    await expect(readAll(data, 513)).rejects.toMatchObject({ code: 'ERR_CFS_TAR_TRUNCATED' })
  })

  it('throws ERR_CFS_TAR_TRUNCATED when the source ends inside a header', async () => {
    await expect(readAll(sample.subarray(0, 700), 100)).rejects.toMatchObject({ code: 'ERR_CFS_TAR_TRUNCATED' })
  })

  it('throws ERR_CFS_TAR_BAD_CHECKSUM naming the offset of the bad block', async () => {
    const data = Buffer.from(sample)
    const second = 512 // 'dir/' has no body, so 'dir/file' (its PAX header) starts at 512
    data[second + 10] = data[second + 10]! ^ 0x01
    await expect(readAll(data, 1)).rejects.toMatchObject({ code: 'ERR_CFS_TAR_BAD_CHECKSUM', message: expect.stringContaining(`byte ${second}`) })
  })

  it('throws ERR_CFS_TAR_LIMIT for a PAX record over the limit', async () => {
    const data = encodeTar([{ path: 'a', type: 'file', pax: [['comment', Buffer.alloc(2000, 0x41)]] }])
    const run = async (): Promise<void> => { for await (const _ of readEntries(chunked(data, 512), { maxMetaSize: 1024 })) { /* drain */ } }
    await expect(run()).rejects.toMatchObject({ code: 'ERR_CFS_TAR_LIMIT' })
  })

  it('rejects unsupported entry types', async () => {
    const data = Buffer.from(encodeTar([{ path: 'a', type: 'file' }]))
    data[156] = 'S'.charCodeAt(0)
    data.write('000000\0 ', 148, 'latin1')
    let sum = 0
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : data[i]!
    data.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1')
    await expect(readAll(data, 512)).rejects.toMatchObject({ code: 'ERR_CFS_TAR_BAD_HEADER' })
  })

  it('reads an archive written by GNU tar, long names and all', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-'))
    try {
      const deep = path.join(dir, 'src', 'a'.repeat(120), 'b'.repeat(120))
      fs.mkdirSync(deep, { recursive: true })
      fs.writeFileSync(path.join(deep, 'f'), 'data')
      fs.symlinkSync('t'.repeat(150), path.join(dir, 'src', 'sl'))
      for (const format of ['gnu', 'pax']) {
        const tar = execFileSync('tar', ['--format', format, '-C', path.join(dir, 'src'), '-cf', '-', '.'])
        for (const size of CHUNKS) {
          const seen = await readAll(tar, size)
          const f = seen.find(s => s.header.path.endsWith('/f'))!
          expect(f.header.path).toBe(`./${'a'.repeat(120)}/${'b'.repeat(120)}/f`)
          expect(f.content.toString()).toBe('data')
          expect(seen.find(s => s.header.path === './sl')!.header.linkname).toBe('t'.repeat(150))
        }
      }
    } finally { fs.rmSync(dir, { recursive: true, force: true }) }
  })
})

describe('readEntries and its source', () => {
  const tar = encodeTar([1, 2, 3].map(i => ({ path: `f${i}`, type: 'file' as const, content: Buffer.alloc(1000 * i, i) })))
  /** chunks of `tar`, recording whether the consumer let go of the source (return() reached its finally) */
  function tracked (): { source: AsyncGenerator<Uint8Array>, closed: () => boolean } {
    let closed = false
    async function * gen (): AsyncGenerator<Uint8Array> {
      try { yield * chunked(tar, 700) } finally { closed = true }
    }
    return { source: gen(), closed: () => closed }
  }

  it('closes a source it was given when the caller stops early, and after the last entry', async () => {
    const early = tracked()
    for await (const { header } of readEntries(early.source)) { expect(header.path).toBe('f1'); break }
    expect(early.closed()).toBe(true)
    const whole = tracked()
    const paths: string[] = []
    for await (const { header } of readEntries(whole.source)) paths.push(header.path)
    expect([paths, whole.closed()]).toEqual([['f1', 'f2', 'f3'], true])
  })

  it('leaves a ByteReader open: its owner drains and closes it', async () => {
    const t = tracked()
    const reader = new ByteReader(t.source)
    for await (const { header } of readEntries(reader)) { expect(header.path).toBe('f1'); break }
    expect(t.closed()).toBe(false)
    await reader.close()
    expect(t.closed()).toBe(true)
  })
})
