/**
 * Test helper: rewrites one column of a manifest and packs it again, so tests can build well-formed bytes that
 * describe broken trees (which encodeManifest refuses to write).
 */
import * as zlib from 'node:zlib'
import { Packr, unpack } from 'msgpackr'
import { COLUMNS } from '../src/codec.js'

export type ColumnName = typeof COLUMNS[number]

export function columnsOf (bytes: Uint8Array): { items: unknown[], raw: Map<ColumnName, Buffer> } {
  const items = unpack(Buffer.from(bytes).subarray(5)) as unknown[]
  const raw = new Map<ColumnName, Buffer>()
  COLUMNS.forEach((c, k) => {
    const packed = items[3 + 2 * k] as Uint8Array
    raw.set(c, packed.length === 0 ? Buffer.alloc(0) : zlib.brotliDecompressSync(packed))
  })
  return { items, raw }
}

export function repack (bytes: Uint8Array, column: ColumnName, edit: (raw: Buffer) => Buffer, itemsEdit?: (items: unknown[]) => void,
  parsed = columnsOf(bytes)): Buffer {
  const items = parsed.items.slice()
  const raw = parsed.raw
  const k = COLUMNS.indexOf(column)
  const next = edit(Buffer.from(raw.get(column)!))
  items[2 + 2 * k] = next.length
  items[3 + 2 * k] = next.length === 0 ? Buffer.alloc(0) : zlib.brotliCompressSync(next, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 1 } })
  itemsEdit?.(items)
  return Buffer.concat([Buffer.from(bytes).subarray(0, 5), new Packr({ useRecords: false }).pack(items)])
}
