import * as zlib from 'node:zlib'
import * as fs from 'node:fs'
import { Unpackr } from 'msgpackr'
import { encodeManifest } from './src/index.js'
import { COLUMNS } from './src/codec.js'
import { syntheticTree } from './test/synthetic-tree.js'
import { readDump } from '../../scripts/bench-dump-text.js'
const m = process.argv[2] === 'config' ? readDump(zlib.gunzipSync(fs.readFileSync('../../fixtures/composefs/config.dump.gz')).toString('latin1')) : syntheticTree(65536, 1)
const b = Buffer.from(encodeManifest(m))
console.log('total', b.length)
const items = new Unpackr({ useRecords: false }).unpack(b.subarray(5)) as any[]
let tot = 0
COLUMNS.forEach((c, k) => {
  const raw: number = items[2 + 2 * k]; const packed: Buffer = items[3 + 2 * k]
  let t = performance.now(); const r = packed.length ? zlib.brotliDecompressSync(packed) : Buffer.alloc(0); const td = performance.now() - t
  t = performance.now(); for (const q of [9]) zlib.brotliCompressSync(r, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: q, [zlib.constants.BROTLI_PARAM_LGWIN]: 22 } }); const te = performance.now() - t
  const q5 = r.length ? zlib.brotliCompressSync(r, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 5, [zlib.constants.BROTLI_PARAM_LGWIN]: 22 } }).length : 0
  const q11 = r.length ? zlib.brotliCompressSync(r, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_LGWIN]: 22 } }).length : 0
  const gz = r.length ? zlib.deflateRawSync(r, { level: 9 }).length : 0
  tot += packed.length
  console.log(c.padEnd(10), String(raw).padStart(8), String(packed.length).padStart(8), 'q5', q5, 'q11', q11, 'gz', gz, 'dec', td.toFixed(1), 'enc', te.toFixed(1))
})
console.log('objects', items[36].length, 'cols', tot)
