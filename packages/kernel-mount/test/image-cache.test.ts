import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { createHash } from 'node:crypto'
import { encodeManifest, finalizeTree, makeInode, S_IFDIR, S_IFREG, type Manifest } from '@cfs/manifest'
import { writeErofs } from '@cfs/erofs'
import { ensureImage, readImageHeader, IMAGE_CACHE_VERSION } from '../src/index.js'

const tree = (xattrs: Array<{ key: string, value: Uint8Array }> = []): Manifest => finalizeTree({
  root: { name: '', inode: makeInode(S_IFDIR | 0o755), children: [{ name: 'a', inode: makeInode(S_IFREG | 0o644, { size: 2, inline: Buffer.from('hi'), xattrs }) }] },
})

describe('ensureImage', () => {
  let dir: string
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-')) })
  afterEach(() => { fs.rmSync(dir, { recursive: true, force: true }) })

  it('writes the image under the sha256 of the manifest file, then reuses it', () => {
    const bytes = encodeManifest(tree())
    const file = path.join(dir, 'm.cfsm')
    fs.writeFileSync(file, bytes)
    const cache = path.join(dir, 'cache')
    const first = ensureImage({ manifestPath: file }, cache)
    const sha = createHash('sha256').update(bytes).digest('hex')
    expect(first).toEqual({ path: path.join(cache, `${sha}.v${IMAGE_CACHE_VERSION}.img`), reused: false, hasAcl: false, manifestDigest: sha })
    expect(fs.readFileSync(first.path).equals(Buffer.from(writeErofs(tree())))).toBe(true)
    expect(fs.readdirSync(cache)).toEqual([path.basename(first.path)])
    expect(ensureImage({ manifest: tree() }, cache)).toEqual({ ...first, reused: true })
  })

  it('rewrites a cache entry that is not a composefs image', () => {
    const cache = path.join(dir, 'cache')
    const { path: img } = ensureImage({ manifest: tree() }, cache)
    fs.writeFileSync(img, 'junk')
    expect(readImageHeader(img)).toBeUndefined()
    expect(ensureImage({ manifest: tree() }, cache).reused).toBe(false)
    expect(readImageHeader(img)).toEqual({ flags: 0, version: 0 })
  })

  it('reports the header ACL flag of an image with POSIX ACL xattrs', () => {
    const acl = Buffer.from('0200000001000700ffffffff04000500ffffffff20000400ffffffff', 'hex')
    expect(ensureImage({ manifest: tree([{ key: 'system.posix_acl_access', value: acl }]) }, dir).hasAcl).toBe(true)
  })

  it('fails with the manifest errors for a missing or corrupt manifest file', () => {
    expect(() => ensureImage({ manifestPath: path.join(dir, 'none.cfsm') }, dir)).toThrow(expect.objectContaining({ code: 'ERR_CFS_FILE_NOT_FOUND' }))
    fs.writeFileSync(path.join(dir, 'bad.cfsm'), 'not a manifest')
    expect(() => ensureImage({ manifestPath: path.join(dir, 'bad.cfsm') }, dir)).toThrow(expect.objectContaining({ code: expect.stringMatching(/^ERR_CFS_MANIFEST_/) }))
  })
})
