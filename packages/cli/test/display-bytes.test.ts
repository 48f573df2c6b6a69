import { displayBytes } from '../src/display-bytes.js'

describe('displayBytes', () => {
  it('prints valid UTF-8 as text and escapes invalid bytes, controls and backslash', () => {
    expect(displayBytes('plain.txt')).toBe('plain.txt')
    expect(displayBytes('caf\xc3\xa9')).toBe('café')
    expect(displayBytes('\xf0\x9f\x98\x80')).toBe('😀')
    expect(displayBytes('a\xffb')).toBe('a\\xffb')
    expect(displayBytes('\xc3')).toBe('\\xc3') // truncated sequence
    expect(displayBytes('\xc0\xaf')).toBe('\\xc0\\xaf') // overlong '/'
    expect(displayBytes('\xed\xa0\x80')).toBe('\\xed\\xa0\\x80') // a UTF-16 surrogate
    expect(displayBytes('a\nb\tc\\d\x7f')).toBe('a\\x0ab\\x09c\\\\d\\x7f')
  })
})
