import { xxh32 } from '../src/xxh32.js'

const bytes = (s: string): Uint8Array => Buffer.from(s, 'latin1')

describe('xxh32', () => {
  it('matches the reference check values', () => {
    expect(xxh32(bytes(''), 0)).toBe(0x02CC5D05)
    expect(xxh32(bytes('a'), 0)).toBe(0x550D7456)
    expect(xxh32(bytes('abcdefghijklmnopqrstuvwxyz'), 0)).toBe(0x63A14D5F)
  })

  it('gives the EROFS name-filter bits of common xattr names', () => {
    const bit = (suffix: string, index: number): number => xxh32(bytes(suffix), (0x25BBE08F + index) >>> 0) & 31
    expect(bit('overlay.opaque', 4)).toBe(20)
    expect(bit('overlay.metacopy', 4)).toBe(31)
    expect(bit('overlay.redirect', 4)).toBe(17)
    expect(bit('selinux', 6)).toBe(11)
    expect(bit('a', 1)).toBe(21)
    expect(bit('b', 1)).toBe(23)
    expect(bit('', 2)).toBe(30)
    expect(bit('', 3)).toBe(21)
  })
})
