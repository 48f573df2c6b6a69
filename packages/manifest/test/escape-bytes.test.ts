import fc from 'fast-check'
import { escapeBytes, unescapeBytes } from '../src/escape-bytes.js'

const bytes = (...b: number[]): string => String.fromCharCode(...b)
const utf8 = (text: string): string => Buffer.from(text, 'utf8').toString('latin1')

describe('escapeBytes', () => {
  it('leaves printable ASCII and valid UTF-8 as text', () => {
    expect(escapeBytes('/usr/lib/libz.so.1')).toBe('/usr/lib/libz.so.1')
    expect(escapeBytes(utf8('/home/josé/日本/😀'))).toBe('/home/josé/日本/😀')
  })

  it('escapes invalid bytes, controls, DEL and the backslash itself', () => {
    expect(escapeBytes(bytes(0x2f, 0xff, 0x61))).toBe('/\\xffa')
    expect(escapeBytes('a\nb\tc\x7f')).toBe('a\\x0ab\\x09c\\x7f')
    expect(escapeBytes('a\\xff')).toBe('a\\\\xff')
    expect(escapeBytes(utf8('\u0085'))).toBe('\\xc2\\x85') // C1 control
  })

  it('escapes overlong forms, surrogates, code points past U+10FFFF and truncated sequences', () => {
    expect(escapeBytes(bytes(0xc0, 0xaf))).toBe('\\xc0\\xaf')
    expect(escapeBytes(bytes(0xed, 0xa0, 0x80))).toBe('\\xed\\xa0\\x80')
    expect(escapeBytes(bytes(0xf4, 0x90, 0x80, 0x80))).toBe('\\xf4\\x90\\x80\\x80')
    expect(escapeBytes(bytes(0x61, 0xe6, 0x97))).toBe('a\\xe6\\x97')
  })

  it('round-trips any byte string through unescapeBytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 40 }), (raw) => {
      const s = Buffer.from(raw).toString('latin1')
      const text = escapeBytes(s)
      expect(unescapeBytes(text)).toBe(s)
      if (!text.includes('\\')) expect(Buffer.from(text, 'utf8').toString('latin1')).toBe(s)
    }), { numRuns: 2000 })
  })

  it('rejects a malformed escape', () => {
    expect(() => unescapeBytes('a\\q')).toThrow()
  })
})
