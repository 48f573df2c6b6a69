import * as crypto from 'node:crypto'
import { decodeHeader, headerChecksum, readNumber } from '../src/header.js'
import { encodeEntry } from '../src/encode-entry.js'

describe('decodeHeader', () => {
  it('returns null for a zero block', () => {
    expect(decodeHeader(new Uint8Array(512))).toBeNull()
  })

  it('decodes the ustar fields of a block it wrote', () => {
    const block = encodeEntry({ path: 'etc/passwd', type: 'file', mode: 0o4755, uid: 1000, gid: 100, mtimeSec: 1700000000, uname: 'u', gname: 'g', content: Buffer.from('x') }).subarray(0, 512)
    expect(decodeHeader(block)).toMatchObject({ name: 'etc/passwd', mode: 0o4755, uid: 1000, gid: 100, size: 1, mtime: 1700000000, typeflag: '0', uname: 'u', gname: 'g', format: 'ustar' })
  })

  it('joins the ustar prefix and the name', () => {
    const block = Buffer.from(encodeEntry({ path: 'n', type: 'file' }).subarray(0, 512))
    block.write('some/prefix\0', 345, 'latin1')
    block.write(headerChecksum(block).toString(8).padStart(6, '0') + '\0 ', 148, 'latin1')
    expect(decodeHeader(block)!.name).toBe('some/prefix/n')
  })

  it('sums a header as POSIX says: unsigned bytes, the checksum field counted as eight spaces', () => {
    const rand = crypto.createHash('sha256').update('checksum').digest()
    for (let n = 0; n < 200; n++) {
      // random blocks at every alignment, and the extremes: all 0xff, all zero
      const bytes = n === 0 ? Buffer.alloc(515, 0xff) : n === 1 ? Buffer.alloc(515) : crypto.createHash('sha512').update(rand).update(String(n)).digest()
      const block = n < 2 ? bytes.subarray(n % 4, n % 4 + 512) : Buffer.concat(Array.from({ length: 9 }, () => bytes)).subarray(n % 4, n % 4 + 512)
      let expected = 0
      for (let i = 0; i < 512; i++) expected += i >= 148 && i < 156 ? 32 : block[i]!
      expect(headerChecksum(block)).toBe(expected)
    }
  })

  it('rejects a bad checksum naming the byte offset', () => {
    const block = Buffer.from(encodeEntry({ path: 'a', type: 'file' }).subarray(0, 512))
    block[0] = 0x62
    expect(() => decodeHeader(block, 1536)).toThrow(expect.objectContaining({ code: 'ERR_CFS_TAR_BAD_CHECKSUM', message: expect.stringContaining('1536') }))
  })

  it('reads GNU base-256 numbers, positive and negative', () => {
    const b = new Uint8Array(12)
    b[0] = 0x80; b[10] = 0x01; b[11] = 0x02
    expect(readNumber(b, 0, 12)).toBe(0x0102)
    const n = new Uint8Array(12).fill(0xff); n[11] = 0xfe
    expect(readNumber(n, 0, 12)).toBe(-2)
  })

  it('rejects a numeric field that is not octal', () => {
    const block = Buffer.from(encodeEntry({ path: 'a', type: 'file' }).subarray(0, 512))
    block.write('9999999\0', 100, 'latin1')
    block.write(headerChecksum(block).toString(8).padStart(6, '0') + '\0 ', 148, 'latin1')
    expect(() => decodeHeader(block)).toThrow(expect.objectContaining({ code: 'ERR_CFS_TAR_BAD_HEADER' }))
  })

  const withField = (off: number, bytes: number[]): Buffer => {
    const block = Buffer.from(encodeEntry({ path: 'a', type: 'file', content: Buffer.from('x') }).subarray(0, 512))
    Buffer.from(bytes).copy(block, off)
    block.write(headerChecksum(block).toString(8).padStart(6, '0') + '\0 ', 148, 'latin1')
    return block
  }

  it('rejects a negative base-256 size, uid or gid', () => {
    const minus256 = [...Array<number>(11).fill(0xff), 0x00]
    expect(() => decodeHeader(withField(124, minus256))).toThrow(expect.objectContaining({ code: 'ERR_CFS_TAR_BAD_HEADER', message: expect.stringContaining('size') }))
    expect(() => decodeHeader(withField(108, minus256.slice(4)))).toThrow(expect.objectContaining({ code: 'ERR_CFS_TAR_BAD_HEADER', message: expect.stringContaining('uid') }))
    expect(() => decodeHeader(withField(116, minus256.slice(4)))).toThrow(expect.objectContaining({ code: 'ERR_CFS_TAR_BAD_HEADER', message: expect.stringContaining('gid') }))
  })

  it('rejects a base-256 size past 2^53, and accepts a negative base-256 mtime', () => {
    expect(() => decodeHeader(withField(124, [0x80, 0, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0]))).toThrow(expect.objectContaining({ code: 'ERR_CFS_TAR_BAD_HEADER' }))
    expect(decodeHeader(withField(124, [0x80, 0, 0, 0, 0, 0x01, 0, 0, 0, 0, 0, 0]))!.size).toBe(2 ** 48)
    expect(decodeHeader(withField(136, [...Array<number>(11).fill(0xff), 0xfe]))!.mtime).toBe(-2)
  })
})
