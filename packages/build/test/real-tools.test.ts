/**
 * Builds images made by real tools (umoci for OCI layouts, skopeo for docker-archive) and compares cfs's tree
 * with the rootfs `umoci unpack` extracts from the same image, entry by entry.
 */
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { makeRichImage, missingImageTools, scanTree, unpackImage, writeDockerArchive } from '@cfs/fixtures'
import { Store } from '@cfs/store'
import { buildImage } from '../src/build-image.js'
import { flatten } from './flatten.js'

const missing = missingImageTools()
if (missing !== undefined) console.log(`skipping real-tools tests: ${missing}`)
const maybe = missing === undefined ? describe : describe.skip

let tmp: string
beforeEach(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-')) })
afterEach(() => { fs.rmSync(tmp, { recursive: true, force: true }) })

maybe('images made by umoci and skopeo', () => {
  it('builds to the tree umoci unpacks, from the OCI layout and from a docker-archive of it', async () => {
    const ref = makeRichImage(tmp)
    const layout = path.join(tmp, 'oci')
    const rootfs = unpackImage(ref, path.join(tmp, 'bundle'))
    writeDockerArchive(ref, path.join(tmp, 'docker.tar'))

    const store = await Store.open(path.join(tmp, 'store'), { create: true })
    const fromLayout = await buildImage(layout, { store })
    const fromDocker = await buildImage(path.join(tmp, 'docker.tar'), { store })
    expect(fromLayout.format).toBe('oci-layout')
    expect(fromDocker.format).toBe('docker-archive')
    expect(fromDocker.digest).toBe(fromLayout.digest)

    const built = flatten(fromLayout.manifest, store.objectsDir).entries
    const want = Object.fromEntries(Object.entries(scanTree(rootfs)).map(([p, { mtime: _m, links: _l, ...rest }]) => [p, rest]))
    const got = Object.fromEntries(Object.entries(built).map(([p, { mtime: _m, xattrs: _x, ...rest }]) => [p, rest]))
    // the root directory is the bundle's, made by umoci itself
    delete got['/']; delete want['/']
    expect(got).toEqual(want)
    expect(built['/etc/small']!.sha256).toBe(crypto.createHash('sha256').update('replaced\n').digest('hex'))
    expect(built['/etc/sub/old']).toBeUndefined()
  })
})
