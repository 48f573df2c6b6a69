import { lookupPath, makeInode, S_IFDIR, S_IFLNK, S_IFREG, type Manifest } from '@cfs/manifest'
import { BuildTree } from '../src/build-tree.js'

const file = (text = ''): ReturnType<typeof makeInode> => makeInode(S_IFREG | 0o644, { size: text.length })
const dir = (): ReturnType<typeof makeInode> => makeInode(S_IFDIR | 0o755)
const link = (target: string): ReturnType<typeof makeInode> => makeInode(S_IFLNK | 0o777, { target, size: target.length })
const p = (s: string): string[] => BuildTree.splitPath(s, () => 'test')
const names = (m: Manifest, path: string): string[] => (lookupPath(m, path)?.children ?? []).map(c => c.name)

describe('BuildTree', () => {
  it('writes through a symlinked parent directory, as extraction would', () => {
    const t = new BuildTree()
    t.set(p('usr/lib'), dir())
    t.set(p('lib'), link('usr/lib'))
    t.layer = 1
    t.set(p('lib/libc.so'), file('x'))
    const m = t.toManifest()
    expect(names(m, '/usr/lib')).toEqual(['libc.so'])
    expect(lookupPath(m, '/lib')!.inode.target).toBe('usr/lib')
  })

  it('keeps symlinks inside the tree: absolute targets restart at the root and .. stops there', () => {
    const t = new BuildTree()
    t.set(p('a'), link('/../../etc'))
    t.set(p('b'), link('../../../opt'))
    t.set(p('a/passwd'), file())
    t.set(p('b/x'), file())
    const m = t.toManifest()
    expect(names(m, '/etc')).toEqual(['passwd'])
    expect(names(m, '/opt')).toEqual(['x'])
  })

  it('refuses a symlink loop', () => {
    const t = new BuildTree()
    t.set(p('a'), link('b'))
    t.set(p('b'), link('a'))
    expect(() => t.set(p('a/x'), file())).toThrow(expect.objectContaining({ code: 'ERR_CFS_BAD_PATH' }))
  })

  it('refuses .. in entry paths', () => {
    expect(() => p('a/../../x')).toThrow(expect.objectContaining({ code: 'ERR_CFS_BAD_PATH' }))
    expect(p('/./a//b/')).toEqual(['a', 'b'])
  })

  it('hides lower content of an opaque directory, also inside subdirectories this layer re-declares', () => {
    const t = new BuildTree()
    t.set(p('d/sub/lower'), file())
    t.set(p('d/other'), file())
    t.layer = 1
    t.set(p('d/sub/upper'), file())
    expect(t.applyWhiteout(p('d/.wh..wh..opq'))).toBe(true)
    const m = t.toManifest()
    expect(names(m, '/d')).toEqual(['sub'])
    expect(names(m, '/d/sub')).toEqual(['upper'])
  })

  it('treats a whiteout of a missing path as a no-op and drops aufs bookkeeping names', () => {
    const t = new BuildTree()
    t.set(p('a'), file())
    expect(t.applyWhiteout(p('nope/.wh.x'))).toBe(true)
    expect(t.applyWhiteout(p('.wh..wh.plnk'))).toBe(true)
    expect(t.applyWhiteout(p('a'))).toBe(false)
    expect(names(t.toManifest(), '/')).toEqual(['a'])
  })

  it('shares the inode of a hardlink target and counts links in the final tree', () => {
    const t = new BuildTree()
    t.set(p('a'), file('content'))
    t.link(p('b'), p('a'), () => 'test')
    t.link(p('c'), p('a'), () => 'test')
    t.applyWhiteout(p('.wh.c'))
    const m = t.toManifest()
    expect(lookupPath(m, '/a')!.inode).toBe(lookupPath(m, '/b')!.inode)
    expect(lookupPath(m, '/a')!.inode.nlink).toBe(2)
    expect(() => t.link(p('x'), p('missing'), () => 'test')).toThrow(expect.objectContaining({ code: 'ERR_CFS_IMAGE_BAD' }))
  })

  it('refuses a NUL byte, a name over 255 bytes and a path of 4096 bytes or more', () => {
    expect(p('d/' + 'n'.repeat(255))).toHaveLength(2)
    expect(() => p('d/' + 'n'.repeat(256))).toThrow(expect.objectContaining({ code: 'ERR_CFS_BAD_PATH' }))
    expect(() => p('a\0b')).toThrow(expect.objectContaining({ code: 'ERR_CFS_BAD_PATH' }))
    const deep = (n: number): string => Array.from({ length: n }, () => 'x'.repeat(255)).join('/')
    expect(p('./' + deep(15) + '/' + 'y'.repeat(254))).toHaveLength(16) // '/' + 4095 - 1 bytes
    expect(() => p(deep(15) + '/' + 'y'.repeat(255))).toThrow(expect.objectContaining({ code: 'ERR_CFS_BAD_PATH' }))
  })

  it('refuses symlinked parents that lead deeper than a path could', () => {
    const t = new BuildTree()
    const down = Array<string>(2000).fill('d').join('/')
    t.set(p('l'), link(down))
    t.set(p('l/m'), link(Array<string>(100).fill('e').join('/')))
    expect(() => t.set(p('l/m/x'), file())).toThrow(expect.objectContaining({ code: 'ERR_CFS_BAD_PATH' }))
  })
})

