/**
 * Fuzz: valid dumps (random trees, reference fixtures) with random byte edits, line edits, oversized numbers and
 * truncations. parseDump must parse or throw ERR_CFS_DUMP_PARSE (ERR_CFS_DECOMPRESS only for a gzip magic), never
 * anything else and never hang; the streaming readDump must reach the same verdict. Seeded and reproducible;
 * FUZZ_SEED and FUZZ_RUNS override the seed and the number of cases.
 */
import * as fs from 'node:fs'
import fc from 'fast-check'
import { CfsError } from '@cfs/errors'
import { fixturePath } from '@cfs/fixtures'
import { encodeDump } from '../src/write-dump.js'
import { parseDump, readDump } from '../src/parse-dump.js'
import { randomManifest } from './random-tree.js'

const SEED = Number(process.env.FUZZ_SEED ?? 20261127)
const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000)

const SEEDS: Buffer[] = [
  ...fc.sample(randomManifest({ rich: true }), { seed: SEED, numRuns: 40 }).map(m => encodeDump(m)),
  ...['special.dump', 'longlink.dump', 'bigfile-xattr.dump'].map(f => fs.readFileSync(fixturePath(`composefs/${f}`))),
]
const SPECIAL = [0x0a, 0x20, 0x5c, 0x00, 0x3d, 0x40, 0x2d, 0x2f, 0x30, 0x39, 0x78, 0xff]

type Edit = (b: Buffer, r: { pos: number, len: number, byte: number }) => Buffer
const EDITS: Edit[] = [
  (b, r) => { const c = Buffer.from(b); if (c.length > 0) c[r.pos % c.length] = r.byte; return c },
  (b, r) => { const c = Buffer.from(b); if (c.length > 0) c[r.pos % c.length] = SPECIAL[r.byte % SPECIAL.length]!; return c },
  (b, r) => b.subarray(0, r.pos % (b.length + 1)),
  (b, r) => { const p = r.pos % (b.length + 1); return Buffer.concat([b.subarray(0, p), b.subarray(p + r.len)]) },
  (b, r) => { const p = r.pos % (b.length + 1); return Buffer.concat([b.subarray(0, p), Buffer.alloc(r.len, r.byte), b.subarray(p)]) },
  (b, r) => { const p = r.pos % (b.length + 1); return Buffer.concat([b.subarray(0, p), Buffer.from('99999999999999999999'), b.subarray(p)]) },
  (b, r) => { // duplicate or drop a line
    const lines = b.toString('latin1').split('\n')
    const i = r.pos % lines.length
    if (r.byte % 2 === 0) lines.splice(i, 0, lines[(i + r.len) % lines.length]!); else lines.splice(i, 1)
    return Buffer.from(lines.join('\n'), 'latin1')
  },
]

const mutated = fc.tuple(
  fc.nat({ max: SEEDS.length - 1 }),
  fc.array(fc.record({ edit: fc.nat({ max: EDITS.length - 1 }), pos: fc.nat(), len: fc.integer({ min: 1, max: 40 }), byte: fc.nat({ max: 255 }) }), { minLength: 1, maxLength: 6 }),
).map(([s, edits]) => edits.reduce((b, e) => EDITS[e.edit]!(b, e), SEEDS[s]!))

function verdict (run: () => unknown, input: Buffer): string {
  try { run(); return 'ok' } catch (err) {
    const gzip = input[0] === 0x1f && input[1] === 0x8b
    if (err instanceof CfsError && (err.code === 'ERR_CFS_DUMP_PARSE' || (gzip && err.code === 'ERR_CFS_DECOMPRESS'))) return err.code
    throw err
  }
}

describe('parseDump on mutated dumps', () => {
  it(`parses or throws ERR_CFS_DUMP_PARSE, promptly, in ${RUNS} cases; readDump agrees`, async () => {
    let slowest = 0
    let n = 0
    await fc.assert(fc.asyncProperty(mutated, async (input) => {
      const t0 = performance.now()
      const sync = verdict(() => parseDump(input), input)
      slowest = Math.max(slowest, performance.now() - t0)
      if (n++ % 10 !== 0) return
      // the streaming reader, fed in small chunks, must agree
      let streamed: string
      try {
        await readDump((async function * () { for (let i = 0; i < input.length; i += 997) yield input.subarray(i, i + 997) })())
        streamed = 'ok'
      } catch (err) { streamed = verdict(() => { throw err }, input) }
      expect(streamed).toBe(sync)
    }), { seed: SEED, numRuns: RUNS })
    expect(slowest).toBeLessThan(2000)
  }, 120_000)
})
