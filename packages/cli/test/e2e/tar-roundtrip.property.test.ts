/**
 * Property: a random valid layer tar (byte names that are not UTF-8, directories, files of sizes around the
 * inline and block limits, symlinks, hardlinks, modes, large ids, nanosecond and negative mtimes via PAX, xattrs
 * via PAX SCHILY.xattr) built into a store and dumped as `cfs dump` does (decode the manifest, write the dump)
 * parses back to exactly the tree the generator meant. Seeded: a failure prints the seed and path to replay;
 * FUZZ_SEED and FUZZ_RUNS override the seed and the number of cases.
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import fc from 'fast-check'
import { buildImage } from '@cfs/build'
import { fsverityDigest } from '@cfs/digest'
import { encodeDump, parseDump } from '@cfs/dump'
import { S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, decodeManifest, walkDepthFirst, type Inode, type Manifest } from '@cfs/manifest'
import { Store } from '@cfs/store'
import { encodeTar, type TarEntryInput } from '@cfs/tar'

const SEED = Number(process.env.FUZZ_SEED ?? 20261127)

interface Spec {
  kind: 'dir' | 'file' | 'symlink' | 'hardlink'
  name: string
  parent: number
  link: number
  perm: number
  uid: number
  gid: number
  mtimeSec: number
  mtimeNsec: number
  size: number
  fill: number
  target: string
  xattrs: Array<{ key: string, value: Uint8Array }>
}

/** Byte string without NUL or '/', not '.', '..' or a whiteout name. */
const name = fc.oneof(
  { arbitrary: fc.uint8Array({ minLength: 1, maxLength: 12 }), weight: 9 },
  { arbitrary: fc.uint8Array({ minLength: 90, maxLength: 200 }), weight: 1 },
).map(b => Buffer.from(b.map(c => c === 0 || c === 0x2f ? 0x61 : c)).toString('latin1'))
  .filter(n => n !== '.' && n !== '..' && !n.startsWith('.wh.'))
/** xattr key: a namespace, then bytes without NUL or '=' (which ends a PAX keyword) */
const xattrKey = fc.tuple(fc.constantFrom('user.', 'trusted.', 'security.x'), fc.uint8Array({ minLength: 1, maxLength: 16 }))
  .map(([ns, b]) => ns + Buffer.from(b.map(c => c === 0 || c === 0x3d ? 0x62 : c)).toString('latin1'))
const spec: fc.Arbitrary<Spec> = fc.record({
  kind: fc.constantFrom('dir', 'file', 'file', 'symlink', 'hardlink'),
  name,
  parent: fc.nat(),
  link: fc.nat(),
  perm: fc.integer({ min: 0, max: 0o7777 }),
  uid: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffffffff })),
  gid: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffffffff })),
  mtimeSec: fc.oneof(fc.integer({ min: 0, max: 0o77777777777 }), fc.integer({ min: -2e9, max: 2 ** 34 })),
  mtimeNsec: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 999_999_999 })),
  size: fc.oneof(fc.constantFrom(0, 1, 63, 64, 65, 4095, 4096, 4097, 8193), fc.integer({ min: 0, max: 20000 })),
  fill: fc.nat(),
  target: fc.uint8Array({ minLength: 1, maxLength: 150 }).map(b => Buffer.from(b.map(c => c === 0 ? 0x2f : c)).toString('latin1')),
  xattrs: fc.uniqueArray(fc.record({ key: xattrKey, value: fc.uint8Array({ maxLength: 40 }) }), { maxLength: 3, selector: x => x.key }),
})

/** Deterministic content of `size` bytes. */
function content (size: number, seed: number): Buffer {
  const b = Buffer.alloc(size)
  let s = seed | 1
  for (let i = 0; i < size; i++) { s ^= s << 13; s ^= s >>> 17; s ^= s << 5; b[i] = s & 0xff }
  return b
}

interface Expected { mode: number, uid: number, gid: number, mtime: string, xattrs: string, target?: string, content?: Buffer, names: string[] }

/** Places the specs in a tree (parents first, duplicate names dropped); returns the tar entries and the model. */
function layout (specs: Spec[]): { entries: TarEntryInput[], model: Map<string, Expected> } {
  const dirs = ['']
  const files: string[] = []
  const model = new Map<string, Expected>()
  const entries: TarEntryInput[] = []
  for (const s of specs) {
    const parent = dirs[s.parent % dirs.length]!
    const p = parent === '' ? s.name : `${parent}/${s.name}`
    if (model.has(p)) continue
    const meta = { mode: s.perm, uid: s.uid, gid: s.gid, mtimeSec: s.mtimeSec, mtimeNsec: s.mtimeNsec, xattrs: s.xattrs }
    const expected = (type: number, extra: Partial<Expected> = {}): Expected => ({
      mode: type | s.perm, uid: s.uid, gid: s.gid, mtime: `${s.mtimeSec}.${s.mtimeNsec}`, names: [p],
      xattrs: [...s.xattrs].sort((a, b) => a.key < b.key ? -1 : 1).map(x => `${Buffer.from(x.key, 'latin1').toString('hex')}=${Buffer.from(x.value).toString('hex')}`).join(','),
      ...extra,
    })
    if (s.kind === 'hardlink') {
      if (files.length === 0) continue
      const to = files[s.link % files.length]!
      const target = model.get(to)!
      target.names.push(p)
      model.set(p, target)
      entries.push({ path: p, type: 'hardlink', linkname: to })
      continue
    }
    if (s.kind === 'dir') {
      dirs.push(p)
      model.set(p, expected(S_IFDIR))
      entries.push({ path: p, type: 'dir', ...meta })
    } else if (s.kind === 'file') {
      files.push(p)
      const c = content(s.size, s.fill)
      model.set(p, expected(S_IFREG, { content: c }))
      entries.push({ path: p, type: 'file', ...meta, content: c })
    } else {
      model.set(p, expected(S_IFLNK, { target: s.target }))
      entries.push({ path: p, type: 'symlink', ...meta, linkname: s.target })
    }
  }
  return { entries, model }
}

/** Checks the parsed dump against the model; returns a description of the first difference, or undefined. */
function difference (dump: Manifest, model: Map<string, Expected>, store: Store): string | undefined {
  const seen = new Map<Inode, string[]>()
  const paths: string[] = []
  let problem: string | undefined
  walkDepthFirst(dump, (p, node) => {
    const rel = p.replace(/^\//, '')
    paths.push(rel)
    const names = seen.get(node.inode) ?? []
    names.push(rel)
    seen.set(node.inode, names)
    const i = node.inode
    const want = rel === '' ? { mode: S_IFDIR | 0o755, uid: 0, gid: 0, mtime: '0.0', xattrs: '', names: [''] } : model.get(rel)
    if (want === undefined) { problem ??= `unexpected ${JSON.stringify(rel)}`; return }
    const got = {
      mode: i.mode, uid: i.uid, gid: i.gid, mtime: `${i.mtimeSec}.${i.mtimeNsec}`,
      xattrs: i.xattrs.map(x => `${Buffer.from(x.key, 'latin1').toString('hex')}=${Buffer.from(x.value).toString('hex')}`).join(','),
    }
    const wanted = { mode: want.mode, uid: want.uid, gid: want.gid, mtime: want.mtime, xattrs: want.xattrs }
    if (JSON.stringify(got) !== JSON.stringify(wanted)) problem ??= `${JSON.stringify(rel)}: ${JSON.stringify(got)} != ${JSON.stringify(wanted)}`
    if ((i.mode & S_IFMT) === S_IFLNK && i.target !== want.target) problem ??= `${JSON.stringify(rel)}: target`
    if ((i.mode & S_IFMT) === S_IFREG) {
      const c = want.content!
      if (i.size !== c.length || i.nlink !== want.names.length) problem ??= `${JSON.stringify(rel)}: size ${i.size} nlink ${i.nlink}`
      else if (c.length === 0 ? i.inline !== undefined || i.digest !== undefined : c.length <= 64 ? !Buffer.from(i.inline ?? []).equals(c) : !Buffer.from(i.digest ?? []).equals(fsverityDigest(c))) problem ??= `${JSON.stringify(rel)}: content`
      else if (c.length > 64 && !fs.readFileSync(store.objectPath(i.digest!)).equals(c)) problem ??= `${JSON.stringify(rel)}: object`
    }
  })
  for (const [inode, names] of seen) {
    const want = names[0] === '' ? [''] : model.get(names[0]!)?.names
    if ((inode.mode & S_IFMT) === S_IFREG && JSON.stringify([...names].sort()) !== JSON.stringify([...want ?? []].sort())) problem ??= `link group ${JSON.stringify(names)}`
  }
  if (paths.length !== model.size + 1) problem ??= `${paths.length - 1} paths in the dump, ${model.size} generated`
  return problem
}

describe('tar → cfs build → cfs dump round trip', () => {
  let tmp: string
  beforeAll(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-')) })
  afterAll(() => { fs.rmSync(tmp, { recursive: true, force: true }) })

  it('describes exactly the generated tree', async () => {
    const store = await Store.open(path.join(tmp, 'store'), { create: true })
    await fc.assert(fc.asyncProperty(fc.array(spec, { minLength: 1, maxLength: 40 }), async (specs) => {
      const { entries, model } = layout(specs)
      fc.pre(entries.length > 0) // an empty tar is no image (ERR_CFS_IMAGE_UNKNOWN_FORMAT)
      const tar = encodeTar(entries)
      const built = await buildImage((async function * () { yield tar })(), { store, writer: { workers: 1 } })
      const dump = parseDump(encodeDump(decodeManifest(built.bytes)))
      expect(difference(dump, model, store)).toBeUndefined()
    }), { seed: SEED, numRuns: Number(process.env.FUZZ_RUNS ?? 60) })
  }, 120_000)
})
