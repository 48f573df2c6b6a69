/**
 * The manifest body is one MessagePack array of unsigned integers and `bin` strings, written by msgpackr. This
 * reader accepts exactly that subset and only in its shortest form (what msgpackr writes), so a body has one
 * encoding. It checks every length against the bytes left before slicing, so a small hostile header cannot make
 * it allocate: a general MessagePack decoder would happily build a 4-billion-slot array from 5 bytes.
 */
import { CfsError } from '@cfs/errors'

export type EnvelopeItem = number | Buffer

function corrupt (detail: string, pos: number): never {
  throw new CfsError('ERR_CFS_MANIFEST_CORRUPT', `corrupt manifest: ${detail} at body byte ${pos}`)
}

/** Items of the top-level array in `body` (which must hold nothing else). `bin` items are views of `body`. */
export function readEnvelope (body: Buffer, expectedItems: number): EnvelopeItem[] {
  let pos = 0
  const need = (n: number): void => { if (body.length - pos < n) corrupt(`truncated (${n} bytes wanted)`, pos) }
  need(1)
  const head = body[pos]!
  let count: number
  if (head >= 0x90 && head <= 0x9f) { count = head & 0x0f; pos += 1 } else if (head === 0xdc) {
    need(3); count = body.readUInt16BE(pos + 1); pos += 3
    if (count < 16) corrupt('array16 with fewer than 16 items', pos)
  } else corrupt(`expected an array, found byte 0x${head.toString(16)}`, pos)
  if (count !== expectedItems) corrupt(`expected ${expectedItems} items, found ${count}`, pos)
  const items: EnvelopeItem[] = []
  for (let i = 0; i < count; i++) {
    need(1)
    const b = body[pos]!
    const at = pos
    if (b <= 0x7f) { items.push(b); pos += 1; continue }
    let len: number
    let n: number
    switch (b) {
      case 0xcc: need(2); n = body[pos + 1]!; pos += 2; if (n < 0x80) corrupt('overlong integer', at); items.push(n); continue
      case 0xcd: need(3); n = body.readUInt16BE(pos + 1); pos += 3; if (n < 0x100) corrupt('overlong integer', at); items.push(n); continue
      case 0xce: need(5); n = body.readUInt32BE(pos + 1); pos += 5; if (n < 0x10000) corrupt('overlong integer', at); items.push(n); continue
      case 0xc4: need(2); len = body[pos + 1]!; pos += 2; break
      case 0xc5: need(3); len = body.readUInt16BE(pos + 1); pos += 3; if (len < 0x100) corrupt('overlong bin length', at); break
      case 0xc6: need(5); len = body.readUInt32BE(pos + 1); pos += 5; if (len < 0x10000) corrupt('overlong bin length', at); break
      default: corrupt(`unexpected MessagePack type byte 0x${b.toString(16)}`, at)
    }
    need(len)
    items.push(body.subarray(pos, pos + len))
    pos += len
  }
  if (pos !== body.length) corrupt(`${body.length - pos} trailing bytes`, pos)
  return items
}
