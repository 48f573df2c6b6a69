import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { makeInode, S_IFREG } from '@cfs/manifest'
import { objectRef, resolveObject } from '../src/resolve-object.js'

const file = (fields: { payload?: string, digest?: Uint8Array }): ReturnType<typeof makeInode> => makeInode(S_IFREG | 0o644, { size: 1, ...fields })

describe('objectRef', () => {
  it('uses the payload, else the digest path', () => {
    expect(objectRef(file({ payload: 'ab/cd' }))).toBe('ab/cd')
    expect(objectRef(file({ digest: Buffer.alloc(32, 0x12) }))).toBe('12/' + '12'.repeat(31))
    expect(objectRef(file({}))).toBeUndefined()
  })

  it('rejects absolute paths, .. components and NUL', () => {
    for (const payload of ['/etc/passwd', '../x', 'ab/../../x', 'ab/..', 'a\0b', '']) {
      expect(objectRef(file({ payload }))).toBeUndefined()
    }
    expect(objectRef(file({ payload: 'ab/..cd' }))).toBe('ab/..cd')
  })
})

describe('resolveObject', () => {
  let dir: string
  let objects: Buffer
  beforeAll(() => {
    dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-')))
    fs.mkdirSync(path.join(dir, 'objects/ab'), { recursive: true })
    fs.writeFileSync(path.join(dir, 'objects/ab/cd'), 'object')
    fs.writeFileSync(path.join(dir, 'secret'), 'outside')
    fs.symlinkSync('../../secret', path.join(dir, 'objects/ab/escape'))
    fs.symlinkSync('cd', path.join(dir, 'objects/ab/inside'))
    fs.symlinkSync(dir, path.join(dir, 'objects/up'))
    objects = Buffer.from(path.join(dir, 'objects'))
  })
  afterAll(() => { fs.rmSync(dir, { recursive: true, force: true }) })

  it('finds an object and follows symlinks that stay in the store', () => {
    expect(resolveObject(objects, 'ab/cd')?.toString()).toBe(path.join(dir, 'objects/ab/cd'))
    expect(resolveObject(objects, 'ab/inside')?.toString()).toBe(path.join(dir, 'objects/ab/cd'))
  })

  it('refuses anything that resolves outside the store, and missing objects', () => {
    expect(resolveObject(objects, 'ab/escape')).toBeUndefined()
    expect(resolveObject(objects, 'up/secret')).toBeUndefined()
    expect(resolveObject(objects, 'ab/none')).toBeUndefined()
    expect(resolveObject(objects, '.')).toBeUndefined()
  })
})
