/**
 * Getting names into a page safely. Names are byte strings (model.ts): `displayName` turns one into text, and
 * `escapeHtml` / `jsonForScript` put text into markup. Nothing from an image ever reaches the page any other way.
 */

/**
 * A byte string as text: valid UTF-8 shows as itself; invalid bytes, control characters and backslash show as
 * `\xHH` / `\\`, so every name is visible and distinct names stay distinct.
 */
export function displayName (s: string): string {
  if (!/[^\x20-\x5b\x5d-\x7e]/.test(s)) return s
  let out = ''
  let i = 0
  const hex = (c: number): string => '\\x' + c.toString(16).padStart(2, '0')
  while (i < s.length) {
    const c = s.charCodeAt(i)
    if (c < 0x80) {
      out += c === 0x5c ? '\\\\' : c < 0x20 || c === 0x7f ? hex(c) : s[i]!
      i++
      continue
    }
    const len = utf8Length(s, i)
    if (len === 0) { out += hex(c); i++; continue }
    out += Buffer.from(s.slice(i, i + len), 'latin1').toString('utf8')
    i += len
  }
  return out
}

/** Length of the well-formed UTF-8 sequence (RFC 3629) starting at `i`, or 0. */
function utf8Length (s: string, i: number): number {
  const c = s.charCodeAt(i)
  const len = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0
  if (len === 0 || i + len > s.length) return 0
  for (let k = 1; k < len; k++) {
    const b = s.charCodeAt(i + k)
    let lo = 0x80
    let hi = 0xbf
    if (k === 1) {
      if (c === 0xe0) lo = 0xa0
      else if (c === 0xed) hi = 0x9f
      else if (c === 0xf0) lo = 0x90
      else if (c === 0xf4) hi = 0x8f
    }
    if (b < lo || b > hi) return 0
  }
  return len
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

/** Text for an HTML text node or a quoted attribute value. */
export function escapeHtml (text: string): string {
  return text.replace(/[&<>"']/g, ch => HTML_ESCAPES[ch]!)
}

/**
 * JSON to place inside `<script type="application/json">`: `<`, `>` and `&` become `\u003c` etc., so no string
 * in the data can close the element or open a comment; JSON.parse gives the same value back.
 */
export function jsonForScript (value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, ch => '\\u' + ch.charCodeAt(0).toString(16).padStart(4, '0'))
}

/** 1536 → `1.5 KiB`; below 1 KiB exact bytes. */
export function formatBytes (n: number): string {
  if (n < 1024) return `${n} B`
  const units = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB']
  let v = n / 1024
  let u = 0
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++ }
  return `${v.toFixed(1)} ${units[u]!}`
}
