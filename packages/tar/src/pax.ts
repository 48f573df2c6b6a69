/**
 * PAX extended header records: `"<len> <key>=<value>\n"`, where len counts the whole record in bytes. Values are
 * bytes: `path` and `linkpath` are usually UTF-8 but may be anything, SCHILY.xattr.* values are raw binary.
 */
import { CfsError } from '@cfs/errors'

/** Parses PAX records into key (a byte string) → value bytes (a later duplicate wins). Throws ERR_CFS_TAR_BAD_HEADER. */
export function decodePax (data: Uint8Array, offset = 0): Map<string, Buffer> {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  const out = new Map<string, Buffer>()
  let pos = 0
  while (pos < buf.length) {
    if (buf[pos] === 0) break // some writers pad with NULs
    const sp = buf.indexOf(0x20, pos)
    const len = sp < 0 ? NaN : Number(buf.toString('latin1', pos, sp))
    if (!Number.isSafeInteger(len) || len <= sp - pos + 1 || pos + len > buf.length || buf[pos + len - 1] !== 0x0a) {
      throw new CfsError('ERR_CFS_TAR_BAD_HEADER', `bad PAX record at byte ${offset + pos}`)
    }
    const eq = buf.indexOf(0x3d, sp + 1)
    if (eq < 0 || eq >= pos + len - 1) throw new CfsError('ERR_CFS_TAR_BAD_HEADER', `PAX record without '=' at byte ${offset + pos}`)
    // keys are byte strings too: an xattr name in SCHILY.xattr.NAME need not be UTF-8
    const key = buf.toString('latin1', sp + 1, eq)
    out.set(key, Buffer.from(buf.subarray(eq + 1, pos + len - 1)))
    pos += len
  }
  return out
}

/** Encodes records; the inverse of decodePax. Keys and string values are byte strings, values may be raw bytes. */
export function encodePax (records: Iterable<[string, Uint8Array | string]>): Buffer {
  const parts: Buffer[] = []
  for (const [key, value] of records) {
    const v = typeof value === 'string' ? Buffer.from(value, 'latin1') : Buffer.from(value)
    const body = Buffer.concat([Buffer.from(' ' + key + '=', 'latin1'), v, Buffer.from('\n')])
    // the length prefix counts its own digits
    let len = body.length + 1
    while (String(len).length + body.length > len) len++
    parts.push(Buffer.from(String(len), 'latin1'), body)
  }
  return Buffer.concat(parts)
}
