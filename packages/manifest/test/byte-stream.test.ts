import { CfsError } from '@cfs/errors'
import { ByteReader, ByteWriter, MAX_VARINT, unzigzag, zigzag } from '../src/byte-stream.js'

const codeOf = (f: () => unknown): string | undefined => {
  try { f(); return undefined } catch (err) { return err instanceof CfsError ? err.code : 'not a CfsError' }
}

describe('varint columns', () => {
  it('round-trips unsigned and zigzag numbers up to 2^53 - 1 in their shortest form', () => {
    const values = [0, 1, 127, 128, 255, 16383, 16384, 2 ** 32 - 1, 2 ** 32, 2 ** 50, MAX_VARINT]
    const w = new ByteWriter(1)
    // signed values are zigzag-doubled, so they stay within ±2^52
    const signed = (v: number): number => Math.min(v, 2 ** 51)
    for (const v of values) { w.uint(v); w.sint(signed(v)); w.sint(-signed(v)) }
    const r = new ByteReader(w.result(), 'test')
    for (const v of values) { expect(r.uint()).toBe(v); expect(r.sint()).toBe(signed(v)); expect(r.sint() + 0).toBe(-signed(v) + 0) }
    r.end()
    for (const n of [-3, -1, 0, 1, 7, -(2 ** 50), 2 ** 50]) expect(unzigzag(zigzag(n))).toBe(n)
    const one = new ByteWriter(); one.uint(300)
    expect([...one.result()]).toEqual([0xac, 0x02])
  })

  it('refuses truncated, overlong and too large numbers and trailing bytes', () => {
    expect(codeOf(() => new ByteReader(Buffer.from([0x80]), 't').uint())).toBe('ERR_CFS_MANIFEST_CORRUPT')
    expect(codeOf(() => new ByteReader(Buffer.from([0x81, 0x00]), 't').uint())).toBe('ERR_CFS_MANIFEST_CORRUPT')
    expect(codeOf(() => new ByteReader(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x10]), 't').uint())).toBe('ERR_CFS_MANIFEST_CORRUPT')
    expect(codeOf(() => new ByteReader(Buffer.from(Array(12).fill(0xff)), 't').uint())).toBe('ERR_CFS_MANIFEST_CORRUPT')
    expect(codeOf(() => { const r = new ByteReader(Buffer.from([1, 2]), 't'); r.uint(); r.end() })).toBe('ERR_CFS_MANIFEST_CORRUPT')
  })

  it('reads NUL-terminated strings only when terminated within their limit', () => {
    const w = new ByteWriter(); w.cstring('ab\xff'); w.cstring('')
    const r = new ByteReader(w.result(), 't')
    expect(r.cstring(3, 's')).toBe('ab\xff')
    expect(r.cstring(3, 's')).toBe('')
    expect(codeOf(() => new ByteReader(Buffer.from('abcd\0'), 't').cstring(3, 's'))).toBe('ERR_CFS_MANIFEST_CORRUPT')
    expect(codeOf(() => new ByteReader(Buffer.from('ab'), 't').cstring(3, 's'))).toBe('ERR_CFS_MANIFEST_CORRUPT')
  })
})
