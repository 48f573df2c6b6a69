import { S_IFDIR, S_IFREG, makeInode, type Manifest } from '@cfs/manifest'
import { diffManifests, type Change, type DiffResult } from '../src/diff-manifests.js'
import { device, dir, fifo, file, symlink, tree, xattr } from './trees.js'

/** `path kind attr,attr` lines: what a reader of the diff sees. */
function lines (r: DiffResult): string[] {
  return r.changes.map(c => `${c.from === undefined ? '' : c.from + ' -> '}${c.path} ${c.kind} ${c.attributes.map(a => a.attribute).join(',')}`.trim())
}

function attr<K extends string> (c: Change | undefined, name: K): unknown {
  return c?.attributes.find(a => a.attribute === name)
}

function base (): Manifest {
  return tree({
    '/etc': dir(),
    '/etc/passwd': file('root:x:0:0'),
    '/bin/sh': file(1),
    '/bin/ls': file(2),
    '/lib/ld.so': symlink('ld-2.so'),
    '/dev/null': device('char', 0x103),
  })
}

describe('diffManifests', () => {
  it('finds nothing between a tree and itself or an equal copy', () => {
    const a = base()
    expect(diffManifests(a, a)).toEqual({ changes: [], identical: true })
    expect(diffManifests(a, base())).toEqual({ changes: [], identical: true })
  })

  it('lists added and removed subtrees path by path, a directory before its children', () => {
    const a = tree({ '/keep': file('k'), '/old/x': file('x1'), '/old/y': file('y1') })
    const b = tree({ '/keep': file('k'), '/new/sub/z': file('z1') })
    expect(lines(diffManifests(a, b))).toEqual([
      '/new added', '/new/sub added', '/new/sub/z added',
      '/old removed', '/old/x removed', '/old/y removed',
    ])
  })

  it('orders siblings by name bytes and descends before the next sibling', () => {
    const a = tree({})
    const b = tree({ '/a/b': file('1'), '/a-c': file('2'), '/\xff': file('3') })
    expect(diffManifests(a, b).changes.map(c => c.path)).toEqual(['/a', '/a/b', '/a-c', '/\xff'])
  })

  it('reports each changed attribute with its values on both sides', () => {
    const a = tree({
      '/digest': file(1),
      '/inline': file('abc'),
      '/mode': file('m'),
      '/owner': file('o'),
      '/mtime': file('t', { mtimeSec: 10, mtimeNsec: 5 }),
      '/nsec': file('n', { mtimeSec: 10, mtimeNsec: 5 }),
      '/link': symlink('a'),
      '/dev': device('block', 0x801),
      '/x': file('x', { xattrs: [xattr('user.gone', '1'), xattr('user.same', 's'), xattr('user.val', 'v1')] }),
    })
    const b = tree({
      '/digest': file(2, { size: 1001 }),
      '/inline': file('abd'),
      '/mode': file('m', { mode: S_IFREG | 0o4755 }),
      '/owner': file('o', { uid: 1000, gid: 100 }),
      '/mtime': file('t', { mtimeSec: 11, mtimeNsec: 5 }),
      '/nsec': file('n', { mtimeSec: 10, mtimeNsec: 6 }),
      '/link': symlink('bb'),
      '/dev': device('block', 0x802),
      '/x': file('x', { xattrs: [xattr('user.new', '1'), xattr('user.same', 's'), xattr('user.val', 'v2')] }),
    })
    const r = diffManifests(a, b)
    expect(lines(r)).toEqual([
      '/dev modified rdev',
      '/digest modified content',
      '/inline modified content',
      '/link modified size,target',
      '/mode modified mode',
      '/mtime modified mtime',
      '/nsec modified mtime',
      '/owner modified uid,gid',
      '/x modified xattrs',
    ])
    const at = (p: string): Change | undefined => r.changes.find(c => c.path === p)
    expect(attr(at('/digest'), 'content')).toEqual({ attribute: 'content', before: { digest: Buffer.alloc(32, 1) }, after: { digest: Buffer.alloc(32, 2) } })
    expect(attr(at('/inline'), 'content')).toEqual({ attribute: 'content', before: { inline: Buffer.from('abc') }, after: { inline: Buffer.from('abd') } })
    expect(attr(at('/mode'), 'mode')).toEqual({ attribute: 'mode', before: 0o644, after: 0o4755 })
    expect(attr(at('/owner'), 'gid')).toEqual({ attribute: 'gid', before: 0, after: 100 })
    expect(attr(at('/nsec'), 'mtime')).toEqual({ attribute: 'mtime', before: { sec: 10, nsec: 5 }, after: { sec: 10, nsec: 6 } })
    expect(attr(at('/link'), 'target')).toEqual({ attribute: 'target', before: 'a', after: 'bb' })
    expect(attr(at('/dev'), 'rdev')).toEqual({ attribute: 'rdev', before: 0x801, after: 0x802 })
    expect(attr(at('/x'), 'xattrs')).toEqual({ attribute: 'xattrs', added: ['user.new'], removed: ['user.gone'], changed: ['user.val'] })
  })

  it('reports a size change of a file with the same digest, and a content change between inline and external', () => {
    const a = tree({ '/s': file(1), '/moved': file('abc') })
    const b = tree({ '/s': file(1, { size: 5 }), '/moved': makeInode(S_IFREG | 0o644, { size: 3, digest: Buffer.alloc(32, 9) }) })
    expect(lines(diffManifests(a, b))).toEqual(['/moved modified content', '/s modified size'])
  })

  it('never reports a directory size or the derived directory link count', () => {
    const a = tree({ '/d/f': file('1') })
    const b = tree({ '/d/f': file('1'), '/d/sub': dir() })
    b.root.children![0]!.inode.size = 4096
    expect(lines(diffManifests(a, b))).toEqual(['/d/sub added'])
  })

  it('reports paths that became or stopped being hardlinked, with the other paths of each group', () => {
    const shared = file(5)
    const a = tree({ '/a': file(5), '/b': file(5), '/c': shared, '/d': shared })
    const linked = file(5, { nlink: 2 })
    const b = tree({ '/a': linked, '/b': linked, '/c': file(5), '/d': file(5) })
    const r = diffManifests(a, b)
    expect(lines(r)).toEqual(['/a modified hardlinks', '/b modified hardlinks', '/c modified hardlinks', '/d modified hardlinks'])
    expect(attr(r.changes[0], 'hardlinks')).toEqual({ attribute: 'hardlinks', before: { nlink: 1, paths: [] }, after: { nlink: 2, paths: ['/b'] } })
    expect(attr(r.changes[2], 'hardlinks')).toEqual({ attribute: 'hardlinks', before: { nlink: 1, paths: ['/d'] }, after: { nlink: 1, paths: [] } })
  })

  it('reports a hardlink group that changed partner', () => {
    const g1 = file(5)
    const g2 = file(5)
    const a = tree({ '/a': g1, '/b': g1, '/c': file(5) })
    const b = tree({ '/a': g2, '/b': file(5), '/c': g2 })
    expect(lines(diffManifests(a, b))).toEqual(['/a modified hardlinks', '/b modified hardlinks', '/c modified hardlinks'])
  })

  it('reports a file that became a directory as a type change, and its new subtree as added', () => {
    const a = tree({ '/x': file(1, { uid: 7 }), '/y': file(2) })
    const b = tree({ '/x/a': file(3), '/x/b/c': file(4), '/y': file(2) })
    const r = diffManifests(a, b)
    expect(lines(r)).toEqual(['/x modified type,content,mode,uid', '/x/a added', '/x/b added', '/x/b/c added'])
    expect(attr(r.changes[0], 'type')).toEqual({ attribute: 'type', before: 'file', after: 'dir' })
    expect(attr(r.changes[0], 'content')).toEqual({ attribute: 'content', before: { digest: Buffer.alloc(32, 1) }, after: null })
    expect(lines(diffManifests(b, a))).toEqual(['/x modified type,content,mode,uid', '/x/a removed', '/x/b removed', '/x/b/c removed'])
  })

  it('reports a file that became a symlink with the type-dependent attributes', () => {
    const a = tree({ '/f': file('abc', { mode: S_IFREG | 0o777 }) })
    const b = tree({ '/f': symlink('tgt') })
    expect(lines(diffManifests(a, b))).toEqual(['/f modified type,content,target'])
  })

  it('reports device, fifo and char changes through type and rdev', () => {
    const a = tree({ '/p': fifo(), '/c': device('char', 0x105, { mode: 0o020644 }) })
    const b = tree({ '/p': device('char', 0x105, { mode: 0o020644 }), '/c': device('block', 0x105, { mode: 0o060644 }) })
    expect(lines(diffManifests(a, b))).toEqual(['/c modified type', '/p modified type,rdev'])
  })

  it('pairs a moved file with identical content as a rename, keeping other attribute changes', () => {
    const a = tree({ '/usr/lib/libz.so.1': file(7), '/etc/motd': file('hello world'), '/l': symlink('x') })
    const b = tree({ '/usr/lib64/libz.so.1': file(7, { mtimeSec: 99 }), '/etc/motd.d/10': file('hello world'), '/m': symlink('x') })
    const r = diffManifests(a, b)
    expect(lines(r)).toEqual([
      '/etc/motd.d added',
      '/etc/motd -> /etc/motd.d/10 renamed',
      '/l -> /m renamed',
      '/usr/lib removed',
      '/usr/lib64 added',
      '/usr/lib/libz.so.1 -> /usr/lib64/libz.so.1 renamed mtime',
    ])
  })

  it('does not pair removals and additions when the content match is ambiguous', () => {
    const a = tree({ '/a': file(7), '/b': file(7), '/e1': file('') })
    const b = tree({ '/c': file(7), '/e2': file('') })
    expect(lines(diffManifests(a, b))).toEqual(['/a removed', '/b removed', '/c added', '/e1 removed', '/e2 added'])
    const twoAdded = tree({ '/c': file(7), '/d': file(7) })
    expect(lines(diffManifests(tree({ '/a': file(7) }), twoAdded))).toEqual(['/a removed', '/c added', '/d added'])
  })

  it('does not pair a file with a symlink or entries of different content', () => {
    const a = tree({ '/a': file('x'), '/b': file(1) })
    const b = tree({ '/c': symlink('x'), '/d': file(2) })
    expect(lines(diffManifests(a, b)).map(l => l.split(' ')[1])).toEqual(['removed', 'removed', 'added', 'added'])
  })

  it('drops ignored attribute groups, and changes left with nothing', () => {
    const a = tree({ '/f': file('1', { mtimeSec: 1, uid: 1, xattrs: [xattr('user.a', '1')] }), '/g': file('g', { mode: S_IFREG | 0o600 }) })
    const b = tree({ '/f': file('2', { mtimeSec: 2, uid: 2 }), '/g': file('g', { gid: 5 }) })
    expect(lines(diffManifests(a, b))).toEqual(['/f modified content,uid,mtime,xattrs', '/g modified mode,gid'])
    expect(lines(diffManifests(a, b, { ignore: ['mtime', 'owner', 'xattrs'] }))).toEqual(['/f modified content', '/g modified mode'])
    expect(diffManifests(a, b, { ignore: ['owner', 'mode'] }).changes.map(c => c.path)).toEqual(['/f'])
    const s = file(1)
    const linked = tree({ '/a': s, '/b': s })
    const unlinked = tree({ '/a': file(1), '/b': file(1) })
    expect(diffManifests(linked, unlinked, { ignore: ['hardlinks'] }).identical).toBe(true)
  })

  it('refuses an unknown ignore name and a relative path prefix', () => {
    const a = base()
    expect(() => diffManifests(a, a, { ignore: ['size' as 'mtime'] })).toThrow(expect.objectContaining({ code: 'ERR_CFS_USAGE' }))
    expect(() => diffManifests(a, a, { paths: ['etc'] })).toThrow(expect.objectContaining({ code: 'ERR_CFS_USAGE' }))
  })

  it('limits the view to path prefixes, matching whole components, and keeps renames crossing the prefix', () => {
    const a = tree({ '/usr/a': file('1'), '/usr2/b': file('2'), '/etc/c': file('3'), '/opt/m': file(9) })
    const b = tree({ '/usr/a': file('1x'), '/usr2/b': file('2x'), '/etc/c': file('3x'), '/usr/m': file(9) })
    expect(lines(diffManifests(a, b, { paths: ['/usr/'] }))).toEqual(['/usr/a modified content,size', '/opt/m -> /usr/m renamed'])
    expect(lines(diffManifests(a, b, { paths: ['/opt'] }))).toEqual(['/opt removed', '/opt/m -> /usr/m renamed'])
    expect(diffManifests(a, b, { paths: ['/'] }).changes).toHaveLength(diffManifests(a, b).changes.length)
    expect(diffManifests(a, b, { paths: ['/var'] }).identical).toBe(true)
  })

  it('handles a tree as deep as a 4096-byte path allows', () => {
    const deep = '/d'.repeat(2000)
    const a = tree({ [deep + '/f']: file('1') })
    const b = tree({ [deep + '/f']: file('2') })
    expect(lines(diffManifests(a, b))).toEqual([`${deep}/f modified content`])
  })

  it('compares the root like any directory', () => {
    const a = tree({ '/': dir({ mode: S_IFDIR | 0o755 }) })
    const b = tree({ '/': dir({ mode: S_IFDIR | 0o700, mtimeSec: 3 }) })
    expect(lines(diffManifests(a, b))).toEqual(['/ modified mode,mtime'])
  })
})

describe('diffManifests mirror', () => {
  it('diff(B, A) swaps added and removed, rename ends and every before/after', () => {
    const s = file(4)
    const a = tree({
      '/a': file(1), '/gone': file('g'), '/mv': file(8), '/t': file(3), '/s1': s, '/s2': s,
      '/x': symlink('p', { xattrs: [xattr('user.k', '1')] }), '/dev': device('char', 1),
    })
    const b = tree({
      '/a': file(2, { mode: S_IFREG | 0o600 }), '/new/f': file('n'), '/moved': file(8), '/t/x': file(5), '/s1': file(4), '/s2': file(4),
      '/x': symlink('q', { xattrs: [xattr('user.j', '2')] }), '/dev': device('char', 2, { uid: 3 }),
    })
    const ab = diffManifests(a, b).changes
    const ba = diffManifests(b, a).changes
    expect(ab.length).toBe(ba.length)
    const mirror = (c: Change): unknown => ({
      kind: c.kind === 'added' ? 'removed' : c.kind === 'removed' ? 'added' : c.kind,
      path: c.kind === 'renamed' ? c.from : c.path,
      from: c.kind === 'renamed' ? c.path : undefined,
      before: c.after,
      after: c.before,
      attributes: c.attributes.map(x => x.attribute === 'xattrs'
        ? { ...x, added: x.removed, removed: x.added }
        : { ...x, before: (x as { after: unknown }).after, after: (x as { before: unknown }).before }),
    })
    const norm = (c: unknown): unknown => JSON.parse(JSON.stringify(c, (_k, v: unknown) => v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v))
    const byPath = (cs: unknown[]): Map<string, unknown> => new Map(cs.map(c => [(c as { path: string }).path, norm(c)]))
    expect(byPath(ba)).toEqual(byPath(ab.map(mirror)))
    expect(new Set(ab.map(c => c.kind))).toEqual(new Set(['added', 'removed', 'modified', 'renamed']))
  })
})
