/**
 * fast-check generators of finalized random trees for dump tests: every file type, odd bytes in names, targets,
 * payloads and xattrs, overlay keys that the composefs rules single out, and hardlinks. `rich` adds the keys the
 * writer overwrites, many xattrs per inode (past the 128 shared references) and sizes up to 2^53−1.
 */
import fc from 'fast-check'
import {
  finalizeTree, makeInode, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFREG, S_IFSOCK,
  type Inode, type Manifest, type Node,
} from '@cfs/manifest'

// any byte, with the ones the escaping rules single out (= \\ space LF CR TAB - NUL DEL) made frequent
const byte = fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0x3d, 0x5c, 0x20, 0x0a, 0x0d, 0x09, 0x2d, 0x00, 0x7f))
export const byteString = (min: number, max: number, exclude = ''): fc.Arbitrary<string> =>
  fc.array(byte, { minLength: min, maxLength: max })
    .map(bytes => String.fromCharCode(...bytes.filter(b => !exclude.includes(String.fromCharCode(b)))))
    .filter(s => s.length >= min)
const bytes = (max: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ maxLength: max })

const name = byteString(1, 12, '\0/').filter(s => s !== '.' && s !== '..')
// a pool that hits the overlay rules (escaping, v1 markers) and sharing, plus arbitrary keys
const KEYS = ['user.a', 'user.b', 'security.selinux', 'trusted.overlay.opaque', 'trusted.overlay.redirect',
  'trusted.overlay.overlay.x', 'user.overlay.opaque', 'trusted.foo', 'lustre.x', 'system.posix_acl_access']
const RICH_KEYS = ['trusted.overlay.whiteout', 'user.overlay.whiteout', 'user.overlay.whiteouts', 'trusted.overlay.whiteouts',
  'trusted.overlay.metacopy', 'user.', 'trusted.', 'security.', 'system.posix_acl_default', 'trusted.overlay.overlay.whiteout']
const xattrKey = (rich: boolean): fc.Arbitrary<string> => rich
  ? fc.oneof(fc.constantFrom(...KEYS, ...RICH_KEYS), fc.integer({ min: 0, max: 199 }).map(i => `user.k${i}`), byteString(1, 20, '\0'))
  : fc.oneof(fc.constantFrom(...KEYS), byteString(1, 20, '\0'))
const xattrs = (rich: boolean): fc.Arbitrary<Array<{ key: string, value: Uint8Array }>> => fc.uniqueArray(
  fc.record({ key: xattrKey(rich), value: fc.oneof(fc.constantFrom(Buffer.from('v'), Buffer.alloc(0), Buffer.from('x')), bytes(40)) }),
  { selector: x => x.key, maxLength: rich ? 150 : 4 })
const common = (rich: boolean) => fc.record({
  perm: fc.integer({ min: 0, max: 0o7777 }),
  uid: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffffffff })),
  gid: fc.integer({ min: 0, max: 70000 }),
  nlink: fc.integer({ min: 1, max: 0xffffffff }),
  mtimeSec: fc.oneof(fc.constant(0), fc.integer({ min: -2e9, max: 4e9 })),
  mtimeNsec: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 999999999 })),
  xattrs: xattrs(rich),
})
type Common = ReturnType<typeof common> extends fc.Arbitrary<infer T> ? T : never

const leafInode = (rich: boolean): fc.Arbitrary<Inode> => fc.tuple(common(rich), fc.oneof(
  bytes(300).filter(b => b.length > 0).map(inline => ({ mode: S_IFREG, size: inline.length, inline })),
  fc.record({
    size: rich
      ? fc.oneof(fc.integer({ min: 1, max: 10000 }), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: 8.9e15, max: Number.MAX_SAFE_INTEGER }))
      : fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
    digest: fc.option(fc.uint8Array({ minLength: 32, maxLength: 32 }), { nil: undefined }),
    payload: fc.option(fc.oneof(fc.uint8Array({ minLength: 32, maxLength: 32 }).map(d => { const h = Buffer.from(d).toString('hex'); return h.slice(0, 2) + '/' + h.slice(2) }), byteString(0, 30, '\0')), { nil: undefined }),
  }).map(r => ({ mode: S_IFREG, ...r })),
  fc.constant({ mode: S_IFREG, size: 0 }),
  byteString(1, 60, '\0').map(target => ({ mode: S_IFLNK, target, size: target.length })),
  fc.record({ mode: fc.constantFrom(S_IFCHR, S_IFBLK), rdev: fc.integer({ min: 0, max: 0xffffffff }), size: fc.constantFrom(0, 5) }),
  fc.constant({ mode: S_IFCHR, rdev: 0 }),
  fc.constantFrom({ mode: S_IFIFO }, { mode: S_IFSOCK }),
)).map(([c, t]: [Common, Partial<Inode> & { mode: number }]) => {
  const { perm, ...rest } = c
  return makeInode(t.mode | perm, { ...rest, ...t, mode: t.mode | perm })
})

const dirInode = (rich: boolean): fc.Arbitrary<Inode> => common(rich).map(({ perm, ...rest }) => makeInode(S_IFDIR | perm, rest))

interface Shape { dir: Inode, leaves: Array<[string, Inode]>, subdirs: Array<[string, Shape]> }
const shapeAt = (depth: number, rich: boolean): fc.Arbitrary<Shape> => fc.record({
  dir: dirInode(rich),
  leaves: fc.array(fc.tuple(name, leafInode(rich)), { maxLength: 6 }),
  subdirs: depth === 0 ? fc.constant([]) : fc.array(fc.tuple(name, shapeAt(depth - 1, rich)), { maxLength: 3 }),
})

/** A finalized tree; `links` picks leaves to hardlink again at the root. */
export const randomManifest = (opts: { rich?: boolean } = {}): fc.Arbitrary<Manifest> =>
  fc.tuple(shapeAt(3, opts.rich === true), fc.array(fc.nat(), { maxLength: 4 })).map(([s, links]) => {
    const leaves: Inode[] = []
    const build = (sh: Shape, nodeName: string): Node => {
      const children = new Map<string, Node>()
      for (const [n, inode] of sh.leaves) { children.set(n, { name: n, inode }); leaves.push(inode) }
      for (const [n, sub] of sh.subdirs) children.set(n, build(sub, n))
      return { name: nodeName, inode: sh.dir, children: [...children.values()] }
    }
    const root = build(s, '')
    for (const [i, pick] of links.entries()) {
      if (leaves.length > 0) root.children!.push({ name: `\xfflink${i}`, inode: leaves[pick % leaves.length]! })
    }
    return finalizeTree({ root })
  })
