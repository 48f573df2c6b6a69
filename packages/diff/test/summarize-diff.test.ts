import { diffManifests } from '../src/diff-manifests.js'
import { summarizeDiff } from '../src/summarize-diff.js'
import { file, symlink, tree } from './trees.js'

describe('summarizeDiff', () => {
  it('counts paths and content bytes by kind and attribute, and ranks directories by changed bytes', () => {
    const a = tree({
      '/usr/lib/big': file(1, { size: 5000 }),
      '/usr/lib/gone': file(2, { size: 300 }),
      '/etc/conf': file('abcd'),
      '/etc/mode': file('m'),
      '/old/name': file(3, { size: 777 }),
    })
    const b = tree({
      '/usr/lib/big': file(4, { size: 6000 }),
      '/usr/lib/new': symlink('big'),
      '/etc/conf': file('abcdef'),
      '/etc/mode': file('m', { uid: 1 }),
      '/etc/added': file(5, { size: 10 }),
      '/new/name': file(3, { size: 777 }),
    })
    const s = summarizeDiff(diffManifests(a, b))
    expect(s.byKind).toEqual({
      added: { paths: 3, bytesRemoved: 0, bytesAdded: 10 }, // /etc/added, /new, /usr/lib/new
      removed: { paths: 2, bytesRemoved: 300, bytesAdded: 0 }, // /old, /usr/lib/gone
      modified: { paths: 3, bytesRemoved: 5004, bytesAdded: 6006 },
      renamed: { paths: 1, bytesRemoved: 0, bytesAdded: 0 },
    })
    expect(s.byAttribute).toMatchObject({ content: 2, size: 2, uid: 1, mode: 0, hardlinks: 0 })
    expect(s.changedBytes).toBe(10 + 300 + 5004 + 6006)
    expect(s.topDirectories).toEqual([
      { path: '/usr/lib', changedBytes: 11300, changes: 3 },
      { path: '/etc', changedBytes: 20, changes: 3 },
    ])
    expect(summarizeDiff(diffManifests(a, b), 1).topDirectories).toHaveLength(1)
  })
})
