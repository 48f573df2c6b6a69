/**
 * Field escaping of the composefs dump (spec §1.3). Fields are handled as byte strings (one latin1 char per byte).
 * Decoding knows `\\ \n \r \t \xHH`; encoding writes exactly what `composefs-info dump` writes, so outputs can be
 * compared textually: lowercase `\xHH` for bytes outside 0x21–0x7E, `=` escaped only in xattrs.
 */

/** Thrown by `unescapeField`; the parser adds the line number. */
export class EscapeError extends Error {}

function hexValue (c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30
  if (c >= 0x61 && c <= 0x66) return c - 0x57
  if (c >= 0x41 && c <= 0x46) return c - 0x37
  return -1
}

/** Decodes an escaped field into a byte string. Throws EscapeError on an unknown or truncated escape. */
export function unescapeField (s: string): string {
  let bs = s.indexOf('\\')
  if (bs < 0) return s
  let out = ''
  let from = 0
  while (bs >= 0) {
    out += s.slice(from, bs)
    const c = s.charCodeAt(bs + 1)
    if (Number.isNaN(c)) throw new EscapeError('backslash at the end of a field')
    let skip = 2
    switch (c) {
      case 0x5c: out += '\\'; break
      case 0x6e: out += '\n'; break
      case 0x72: out += '\r'; break
      case 0x74: out += '\t'; break
      case 0x78: {
        const hi = hexValue(s.charCodeAt(bs + 2))
        const lo = hexValue(s.charCodeAt(bs + 3))
        if (hi < 0 || lo < 0) throw new EscapeError(`bad hex escape '${s.slice(bs, bs + 4)}'`)
        out += String.fromCharCode(hi * 16 + lo)
        skip = 4
        break
      }
      default:
        throw new EscapeError(`unsupported escape '\\${s[bs + 1]}'`)
    }
    from = bs + skip
    bs = s.indexOf('\\', from)
  }
  return out + s.slice(from)
}

const HEX = '0123456789abcdef'
/** Per byte: undefined = written raw, else its escape; one table for plain fields, one for xattrs. */
const PLAIN: Array<string | undefined> = []
const XATTR: Array<string | undefined> = []
for (let b = 0; b < 256; b++) {
  let e: string | undefined
  if (b === 0x5c) e = '\\\\'
  else if (b === 0x0a) e = '\\n'
  else if (b === 0x0d) e = '\\r'
  else if (b === 0x09) e = '\\t'
  else if (b < 0x21 || b > 0x7e) e = '\\x' + HEX[b >> 4]! + HEX[b & 15]!
  PLAIN.push(e)
  XATTR.push(b === 0x3d ? '\\x3d' : e)
}

function escapeWith (s: string, table: Array<string | undefined>): string {
  let out = ''
  let from = 0
  for (let i = 0; i < s.length; i++) {
    const e = table[s.charCodeAt(i)]
    if (e !== undefined) {
      if (i > from) out += s.slice(from, i)
      out += e
      from = i + 1
    }
  }
  return from === 0 ? s : out + s.slice(from)
}

/** PATH (byte string) as composefs-info prints it. */
export function escapePath (s: string): string { return escapeWith(s, PLAIN) }

/** PAYLOAD or CONTENT: `-` when absent, a lone `-` byte as `\x2d`. */
export function escapeOptional (s: string | undefined): string {
  if (s === undefined) return '-'
  if (s === '-') return '\\x2d'
  return escapeWith(s, PLAIN)
}

/** Xattr key or value: like PATH, plus `=` as `\x3d`. */
export function escapeXattr (s: string): string { return escapeWith(s, XATTR) }
