/**
 * Printable, reversible form of a byte string (names, paths, targets, xattr keys). Valid UTF-8 prints as itself;
 * a byte that is not part of valid UTF-8, a C0/C1 control character or DEL prints as `\xNN` (lower-case hex), and
 * a backslash prints as `\\`. So a string without `\` is exactly the UTF-8 of the raw bytes, and `unescapeBytes`
 * recovers the bytes of any escaped string.
 */

/** Byte string (one byte per char, see @cfs/manifest model.ts) → escaped text. */
export function escapeBytes (s: string): string {
  if (isPlainAscii(s)) return s
  let out = ''
  let i = 0
  const n = s.length
  while (i < n) {
    const c = s.charCodeAt(i)
    if (c >= 0x20 && c < 0x7f) {
      out += c === 0x5c ? '\\\\' : s[i]
      i++
      continue
    }
    const len = c < 0x80 ? 0 : utf8SequenceLength(s, i)
    if (len === 0) {
      out += '\\x' + hex2(c)
      i++
      continue
    }
    const cp = decodeCodePoint(s, i, len)
    if (cp >= 0x80 && cp < 0xa0) {
      for (let k = 0; k < len; k++) out += '\\x' + hex2(s.charCodeAt(i + k))
    } else {
      out += String.fromCodePoint(cp)
    }
    i += len
  }
  return out
}

/** Inverse of `escapeBytes`: `\\` → `\`, `\xNN` → byte NN, other text → its UTF-8 bytes. Returns a byte string. */
export function unescapeBytes (text: string): string {
  if (!text.includes('\\')) return Buffer.from(text, 'utf8').toString('latin1')
  let out = ''
  let i = 0
  while (i < text.length) {
    const j = text.indexOf('\\', i)
    const end = j < 0 ? text.length : j
    out += Buffer.from(text.slice(i, end), 'utf8').toString('latin1')
    if (j < 0) break
    if (text[j + 1] === '\\') { out += '\\'; i = j + 2; continue }
    const h = text.slice(j + 2, j + 4)
    if (text[j + 1] !== 'x' || !/^[0-9a-fA-F]{2}$/.test(h)) throw new Error(`bad escape at ${j} in ${JSON.stringify(text)}`)
    out += String.fromCharCode(parseInt(h, 16))
    i = j + 4
  }
  return out
}

function isPlainAscii (s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x20 || c >= 0x7f || c === 0x5c) return false
  }
  return true
}

function hex2 (c: number): string { return c.toString(16).padStart(2, '0') }

/** Length of the well-formed UTF-8 sequence starting at i (Unicode table 3-7), or 0 if it is not one. */
function utf8SequenceLength (s: string, i: number): number {
  const b0 = s.charCodeAt(i)
  const cont = (k: number, lo = 0x80, hi = 0xbf): boolean => {
    const b = s.charCodeAt(i + k)
    return b >= lo && b <= hi
  }
  if (b0 >= 0xc2 && b0 <= 0xdf) return cont(1) ? 2 : 0
  if (b0 === 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0
  if ((b0 >= 0xe1 && b0 <= 0xec) || b0 === 0xee || b0 === 0xef) return cont(1) && cont(2) ? 3 : 0
  if (b0 === 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0 // no UTF-16 surrogates
  if (b0 === 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0
  if (b0 >= 0xf1 && b0 <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0
  if (b0 === 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0
  return 0
}

function decodeCodePoint (s: string, i: number, len: number): number {
  const b0 = s.charCodeAt(i)
  let cp = len === 2 ? b0 & 0x1f : len === 3 ? b0 & 0x0f : b0 & 0x07
  for (let k = 1; k < len; k++) cp = (cp << 6) | (s.charCodeAt(i + k) & 0x3f)
  return cp
}
