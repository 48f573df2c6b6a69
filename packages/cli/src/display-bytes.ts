/**
 * Byte strings (names, targets) as terminal text: valid UTF-8 prints as itself; invalid bytes, control characters
 * and backslash print as `\xHH` / `\\`, so every name is visible, unambiguous and one line.
 */
export function displayBytes (s: string): string {
  let out = ''
  let i = 0
  const n = s.length
  const esc = (c: number): string => '\\x' + c.toString(16).padStart(2, '0')
  while (i < n) {
    const c = s.charCodeAt(i)
    if (c < 0x80) {
      out += c === 0x5c ? '\\\\' : c < 0x20 || c === 0x7f ? esc(c) : s[i]
      i++
      continue
    }
    // the length of a well-formed UTF-8 sequence starting here (RFC 3629 ranges), or 0
    const len = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0
    let ok = len > 0 && i + len <= n
    for (let k = 1; ok && k < len; k++) {
      const b = s.charCodeAt(i + k)
      let lo = 0x80
      let hi = 0xbf
      if (k === 1) {
        if (c === 0xe0) lo = 0xa0
        else if (c === 0xed) hi = 0x9f
        else if (c === 0xf0) lo = 0x90
        else if (c === 0xf4) hi = 0x8f
      }
      if (b < lo || b > hi) ok = false
    }
    if (ok) {
      out += Buffer.from(s.slice(i, i + len), 'latin1').toString('utf8')
      i += len
    } else {
      out += esc(c)
      i++
    }
  }
  return out
}
