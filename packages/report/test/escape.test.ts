import { displayName, escapeHtml, formatBytes, jsonForScript } from '../src/escape.js'

describe('displayName', () => {
  it('shows valid UTF-8 as text and anything else as \\xNN, keeping distinct names distinct', () => {
    expect(displayName('plain-name.txt')).toBe('plain-name.txt')
    expect(displayName('caf\xc3\xa9')).toBe('café')
    expect(displayName('caf\xc3\xa9\xff')).toBe('café\\xff')
    expect(displayName('a\nb\x7f')).toBe('a\\x0ab\\x7f')
    expect(displayName('back\\slash')).toBe('back\\\\slash')
    expect(displayName('\xed\xa0\x80')).toBe('\\xed\\xa0\\x80') // a UTF-16 surrogate is not UTF-8
    expect(displayName('\\xff')).not.toBe(displayName('\xff'))
  })
})

describe('escapeHtml and jsonForScript', () => {
  it('leave no markup in text and no way out of a script element', () => {
    expect(escapeHtml('<a href="x">\'&\'</a>')).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;')
    const value = { n: '</script><!-- <script>&\u2028' }
    const text = jsonForScript(value)
    expect(text).not.toMatch(/[<>&\u2028]/)
    expect(JSON.parse(text)).toEqual(value)
  })

  it('formats byte counts in binary units', () => {
    expect([0, 1023, 1024, 1536, 5 * 2 ** 30].map(formatBytes)).toEqual(['0 B', '1023 B', '1.0 KiB', '1.5 KiB', '5.0 GiB'])
  })
})
