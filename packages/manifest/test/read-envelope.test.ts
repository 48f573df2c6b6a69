import { Packr } from 'msgpackr'
import { CfsError } from '@cfs/errors'
import { readEnvelope } from '../src/read-envelope.js'

const codeOf = (f: () => unknown): string | undefined => {
  try { f(); return undefined } catch (err) { return err instanceof CfsError ? err.code : 'not a CfsError' }
}
const packr = new Packr({ useRecords: false })

describe('readEnvelope', () => {
  it('reads what msgpackr writes: an array of unsigned integers and bins in shortest form', () => {
    const items = [0, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, Buffer.alloc(0), Buffer.alloc(300, 1), Buffer.alloc(70000, 2),
      ...Array.from({ length: 10 }, (_, i) => i)]
    const got = readEnvelope(packr.pack(items), items.length)
    expect(got).toEqual(items)
  })

  it('refuses other types, longer forms than needed, wrong counts and trailing bytes', () => {
    const corrupt = [
      Buffer.from([0x91, 0xcc, 0x05]), // uint8 holding a fixint value
      Buffer.from([0x91, 0xcd, 0x00, 0x80]), // uint16 holding a uint8 value
      Buffer.from([0x91, 0xc5, 0x00, 0x01, 0x00]), // bin16 for one byte
      Buffer.from([0x91, 0xa1, 0x61]), // a string
      Buffer.from([0x91, 0xcb, 0, 0, 0, 0, 0, 0, 0, 0]), // a float
      Buffer.from([0xdc, 0x00, 0x01, 0x00]), // array16 for one item
      Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff]), // array32 promising 4 billion items
      Buffer.from([0x91, 0xc6, 0xff, 0xff, 0xff, 0xff]), // bin32 promising 4 GiB
      Buffer.from([0x91, 0x01, 0x00]), // trailing byte
      Buffer.from([0x92, 0x01]), // truncated
    ]
    for (const b of corrupt) expect([b.toString('hex'), codeOf(() => readEnvelope(b, b[0] === 0x92 ? 2 : 1))]).toEqual([b.toString('hex'), 'ERR_CFS_MANIFEST_CORRUPT'])
    expect(codeOf(() => readEnvelope(Buffer.from([0x91, 0x01]), 2))).toBe('ERR_CFS_MANIFEST_CORRUPT')
  })
})
