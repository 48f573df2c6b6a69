/**
 * Seeded mutation fuzzing of the decoder: every mutated manifest either decodes to a tree the encoder accepts, or
 * throws one of the typed manifest errors. Never a crash, a hang or a huge allocation. Reproduce a failure with
 * its seed (the assertion message names it).
 */
import * as zlib from 'node:zlib'
import { CfsError } from '@cfs/errors'
import { decodeManifest, encodeManifest } from '../src/codec.js'
import { finalizeTree } from '../src/tree.js'
import { makeInode, S_IFDIR, S_IFLNK, S_IFREG, S_IFCHR, type Manifest } from '../src/model.js'
import { columnsOf, repack, type ColumnName } from './repack.js'
import { prng, syntheticTree } from './synthetic-tree.js'

const ITERATIONS = 10000
const ALLOWED = new Set(['ERR_CFS_MANIFEST_CORRUPT', 'ERR_CFS_MANIFEST_INVALID', 'ERR_CFS_MANIFEST_VERSION'])

function handmade (): Manifest {
  const shared = makeInode(S_IFREG | 0o644, { size: 9, digest: Buffer.alloc(32, 3), payload: 'weird payload', nlink: 2 })
  return finalizeTree({
    root: {
      name: '',
      inode: makeInode(S_IFDIR | 0o755, { xattrs: [{ key: 'user.a', value: Buffer.from([0, 1, 2]) }] }),
      children: [
        { name: 'h1', inode: shared },
        { name: 'h2', inode: shared },
        { name: 'l', inode: makeInode(S_IFLNK | 0o777, { target: 'h1', size: 2, mtimeSec: -5, mtimeNsec: 7 }) },
        { name: 'c', inode: makeInode(S_IFCHR | 0o600, { rdev: 259, uid: 1000, gid: 1000 }) },
        { name: 'd', inode: makeInode(S_IFDIR | 0o700), children: [{ name: 'i', inode: makeInode(S_IFREG | 0o600, { size: 3, inline: Buffer.from('abc') }) }] },
      ],
    },
  })
}

type Mutator = (b: Buffer, rnd: () => number) => Buffer

const int = (rnd: () => number, n: number): number => Math.floor(rnd() * n)

/** Byte-level mutations of the whole file. */
const byteMutators: Mutator[] = [
  (b, r) => { const c = Buffer.from(b); for (let k = 1 + int(r, 4); k > 0; k--) { const at = int(r, c.length); c[at] = c[at]! ^ (1 << int(r, 8)) }; return c },
  (b, r) => { const c = Buffer.from(b); for (let k = 1 + int(r, 4); k > 0; k--) c[int(r, c.length)] = int(r, 256); return c },
  (b, r) => b.subarray(0, int(r, b.length)),
  (b, r) => { const at = int(r, b.length); return Buffer.concat([b.subarray(0, at), Buffer.from(Array.from({ length: 1 + int(r, 8) }, () => int(r, 256))), b.subarray(at)]) },
  (b, r) => { const at = int(r, b.length); return Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + int(r, 16))]) },
  (b, r) => { const c = Buffer.from(b); const at = int(r, c.length); c.fill(pick(r, [0x00, 0xff, 0x7f, 0x80]), at, Math.min(c.length, at + 1 + int(r, 8))); return c },
]

function pick<T> (r: () => number, xs: readonly T[]): T { return xs[int(r, xs.length)]! }

const COLUMN_NAMES: ColumnName[] = ['names', 'links', 'dirs', 'modes', 'owners', 'nlinks', 'rdevs', 'mtimes', 'nsecs', 'sizes', 'xattrs', 'flags', 'tables', 'targets', 'inline', 'payloads', 'objects']

/** Mutations inside one decompressed column, recompressed: these reach the tree checks behind brotli. */
/** the counts and the declared column lengths */
const NUMBER_ITEMS = [0, 1, ...COLUMN_NAMES.map((_, k) => 2 + 2 * k)]

const parsedCache = new Map<Buffer, ReturnType<typeof columnsOf>>()
const columnMutator: Mutator = (b, r) => {
  const column = pick(r, COLUMN_NAMES)
  const edit = pick(r, byteMutators)
  let parsed = parsedCache.get(b)
  if (parsed === undefined) { parsed = columnsOf(b); parsedCache.set(b, parsed) }
  return repack(b, column, raw => raw.length === 0 ? Buffer.from([int(r, 256)]) : edit(raw, r),
    r() < 0.1 ? items => { items[pick(r, NUMBER_ITEMS)] = pick(r, [0, 1, int(r, 70000), 0xffffffff]) } : undefined, parsed)
}

describe('decodeManifest under fuzzing', () => {
  const bases = [handmade(), syntheticTree(40, 11), syntheticTree(90, 12)].map(m => Buffer.from(encodeManifest(m)))

  it(`survives ${ITERATIONS} seeded mutations with typed errors only`, () => {
    const outcomes = { decoded: 0, rejected: 0 }
    const failures: string[] = []
    for (let seed = 0; seed < ITERATIONS && failures.length < 5; seed++) {
      const rnd = prng(seed)
      const base = bases[seed % bases.length]!
      const mutate = rnd() < 0.5 ? columnMutator : pick(rnd, byteMutators)
      const bytes = mutate(base, rnd)
      try {
        const m = decodeManifest(bytes)
        encodeManifest(m) // whatever decodes must be a tree the encoder accepts
        outcomes.decoded++
      } catch (err) {
        if (err instanceof CfsError && ALLOWED.has(err.code)) outcomes.rejected++
        else failures.push(`seed ${seed}: ${(err as Error).stack ?? String(err)}`)
      }
    }
    expect(failures).toEqual([])
    expect(outcomes.rejected).toBeGreaterThan(ITERATIONS / 2)
  })

  it('survives hostile headers that promise huge sizes', () => {
    const base = bases[0]!
    const { items } = columnsOf(base)
    const huge = [0xffff, 0xffffffff, 70000]
    for (let k = 0; k < items.length; k++) {
      if (typeof items[k] !== 'number') continue
      for (const n of huge) {
        const b = repack(base, 'names', raw => raw, it => { it[k] = n })
        expect(() => decodeManifest(b)).toThrow(CfsError)
      }
    }
    // a brotli bomb: 32 MiB of zeros in a few bytes, declared honestly (over the budget) or as 100 bytes
    const bomb = zlib.brotliCompressSync(Buffer.alloc(32 * 1024 * 1024), { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 1 } })
    for (const declared of [32 * 1024 * 1024, 100]) {
      const b = repack(base, 'nsecs', raw => raw, it => { it[2 + 2 * 8] = declared; it[3 + 2 * 8] = bomb })
      expect(() => decodeManifest(b)).toThrow(expect.objectContaining({ code: 'ERR_CFS_MANIFEST_CORRUPT' }))
    }
  })
})
