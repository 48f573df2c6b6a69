import { S_IFREG } from '@cfs/manifest'
import { diffManifests } from '../src/diff-manifests.js'
import { DIFF_JSON_SCHEMA, diffToJson, splitDev } from '../src/diff-to-json.js'
import { device, dir, file, symlink, tree, xattr } from './trees.js'

describe('diffToJson', () => {
  const a = tree({
    '/f': file(1, { mode: S_IFREG | 0o644, xattrs: [xattr('user.\xff', '1')] }),
    '/\xff\\name': file('bytes'),
    '/gone': symlink('t\xe9'),
    '/dev': device('char', 0x103),
  })
  const b = tree({
    '/f': file(2, { mode: S_IFREG | 0o4755, mtimeSec: 1, mtimeNsec: 2 }),
    '/ok': file('bytes'),
    '/d/new': file('', { uid: 5 }),
    '/dev': device('char', (1 << 8) | 5 | (0x123 << 20)),
  })
  const json = diffToJson(diffManifests(a, b))

  it('gives the schema name, identical flag and summary', () => {
    expect(json.schema).toBe(DIFF_JSON_SCHEMA)
    expect(json.identical).toBe(false)
    expect(json.summary.byKind.added.paths).toBe(2)
    expect(diffToJson(diffManifests(a, a))).toMatchObject({ identical: true, changes: [] })
    expect(diffToJson(diffManifests(a, b), { withChanges: false }).changes).toBeUndefined()
  })

  it('escapes byte-string paths and adds their raw bytes in base64 only when escaping was needed', () => {
    const r = json.changes!.find(c => c.status === 'renamed')!
    expect(r).toMatchObject({ path: '/ok', from: '/\\xff\\\\name', fromBase64: Buffer.from('/\xff\\name', 'latin1').toString('base64') })
    expect(r).not.toHaveProperty('pathBase64')
    expect(json.changes!.find(c => c.path === '/gone')!.entry!.target).toBe('t\\xe9')
  })

  it('writes attribute values in their documented forms', () => {
    const f = json.changes!.find(c => c.path === '/f')!
    expect(f.status).toBe('modified')
    expect(f.attributes).toEqual({
      content: { before: { digest: '01'.repeat(32) }, after: { digest: '02'.repeat(32) } },
      size: { before: 1001, after: 1002 },
      mode: { before: '0644', after: '4755' },
      mtime: { before: { sec: 0, nsec: 0 }, after: { sec: 1, nsec: 2 } },
      xattrs: { added: [], removed: ['user.\\xff'], changed: [] },
    })
    expect(json.changes!.find(c => c.path === '/dev')!.attributes).toEqual({
      rdev: { before: { major: 1, minor: 3 }, after: { major: 1, minor: 5 | (0x123 << 8) } },
    })
  })

  it('describes added and removed entries whole', () => {
    expect(json.changes!.find(c => c.path === '/d')).toMatchObject({ status: 'added', type: 'dir', entry: { type: 'dir', mode: '0755' } })
    expect(json.changes!.find(c => c.path === '/d')!.entry).not.toHaveProperty('size')
    expect(json.changes!.find(c => c.path === '/d/new')!.entry).toEqual({
      type: 'file', mode: '0644', uid: 5, gid: 0, mtime: { sec: 0, nsec: 0 }, size: 0, nlink: 1, content: { inline: '' },
    })
    expect(json.changes!.find(c => c.path === '/gone')).toMatchObject({ status: 'removed', type: 'symlink' })
  })

  it('splits device numbers the way Linux new_encode_dev packs them', () => {
    expect(splitDev(0x103)).toEqual({ major: 1, minor: 3 })
    expect(splitDev((0xabc << 8) | 0x12 | (0x345 << 20))).toEqual({ major: 0xabc, minor: 0x12 | (0x345 << 8) })
  })

  it('survives JSON.stringify without losing anything', () => {
    expect(JSON.parse(JSON.stringify(json))).toEqual(json)
    void dir
  })
})
