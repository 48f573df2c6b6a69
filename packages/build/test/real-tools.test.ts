/**
 * Builds images made by real tools (umoci for OCI layouts, skopeo for docker-archive) and compares cfs's tree
 * with the rootfs `umoci unpack` extracts from the same image, entry by entry.
 */
import { execFileSync } from 'node:child_process'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { Store } from '@cfs/store'
import { buildImage } from '../src/build-image.js'
import { flatten, type Flat } from './flatten.js'

const have = (tool: string): boolean => { try { execFileSync(tool, ['--version'], { stdio: 'ignore' }); return true } catch { return false } }
const tools = have('umoci') && have('skopeo') && process.getuid?.() === 0
if (!tools) console.log('skipping real-tools tests: they need umoci, skopeo and root')
const maybe = tools ? describe : describe.skip

let tmp: string
beforeEach(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-')) })
afterEach(() => { fs.rmSync(tmp, { recursive: true, force: true }) })

const run = (cmd: string, ...args: string[]): void => { execFileSync(cmd, args, { stdio: 'pipe' }) }

/** The same flattened form as flatten(), read from a directory on disk (mtimes left out). */
function scan (root: string): Record<string, Omit<Flat, 'mtime' | 'xattrs'>> {
  const out: Record<string, Omit<Flat, 'mtime' | 'xattrs'>> = {}
  const walk = (abs: string, rel: string): void => {
    const st = fs.lstatSync(abs)
    const type = st.isDirectory() ? 'dir' : st.isFile() ? 'file' : st.isSymbolicLink() ? 'symlink' : st.isFIFO() ? 'fifo' : st.isCharacterDevice() ? 'chardev' : st.isBlockDevice() ? 'blockdev' : 'socket'
    const f: Omit<Flat, 'mtime' | 'xattrs'> = { type, mode: st.mode.toString(8), uid: st.uid, gid: st.gid, size: type === 'dir' ? 0 : st.size }
    if (type !== 'dir') f.nlink = st.nlink
    if (type === 'symlink') f.target = fs.readlinkSync(abs)
    if (type === 'file') f.sha256 = crypto.createHash('sha256').update(fs.readFileSync(abs)).digest('hex')
    if (type === 'chardev' || type === 'blockdev') f.rdev = st.rdev
    out[rel === '' ? '/' : rel] = f
    if (type === 'dir') for (const name of fs.readdirSync(abs).sort()) walk(path.join(abs, name), `${rel}/${name}`)
  }
  walk(root, '')
  return out
}

maybe('images made by umoci and skopeo', () => {
  it('builds to the tree umoci unpacks, from the OCI layout and from a docker-archive of it', async () => {
    const src = path.join(tmp, 'src')
    fs.mkdirSync(path.join(src, 'etc/sub'), { recursive: true })
    fs.mkdirSync(path.join(src, 'usr/bin'), { recursive: true })
    fs.writeFileSync(path.join(src, 'etc/small'), 'small\n')
    fs.writeFileSync(path.join(src, 'etc/sub/old'), 'to be whited out')
    fs.writeFileSync(path.join(src, 'usr/bin/tool'), crypto.randomBytes(300_000))
    fs.chmodSync(path.join(src, 'usr/bin/tool'), 0o4755)
    fs.linkSync(path.join(src, 'usr/bin/tool'), path.join(src, 'usr/bin/tool-link'))
    fs.symlinkSync('../etc/small', path.join(src, 'usr/small-link'))
    fs.writeFileSync(path.join(src, 'owned'), 'owned by 1234')
    fs.chownSync(path.join(src, 'owned'), 1234, 5678)
    fs.chmodSync(path.join(src, 'etc/sub'), 0o2750)
    run('mkfifo', path.join(src, 'fifo'))
    run('mknod', path.join(src, 'null'), 'c', '1', '3')
    const upper = path.join(tmp, 'upper')
    fs.mkdirSync(upper)
    fs.writeFileSync(path.join(upper, 'small'), 'replaced\n')
    const layout = path.join(tmp, 'oci')
    run('umoci', 'init', '--layout', layout)
    run('umoci', 'new', '--image', `${layout}:img`)
    run('umoci', 'insert', '--image', `${layout}:img`, src, '/')
    run('umoci', 'insert', '--image', `${layout}:img`, '--whiteout', '/etc/sub/old')
    run('umoci', 'insert', '--image', `${layout}:img`, path.join(upper, 'small'), '/etc/small')
    run('umoci', 'unpack', '--image', `${layout}:img`, path.join(tmp, 'bundle'))
    run('skopeo', 'copy', '-q', `oci:${layout}:img`, `docker-archive:${path.join(tmp, 'docker.tar')}:img:latest`)

    const store = await Store.open(path.join(tmp, 'store'), { create: true })
    const fromLayout = await buildImage(layout, { store })
    const fromDocker = await buildImage(path.join(tmp, 'docker.tar'), { store })
    expect(fromLayout.format).toBe('oci-layout')
    expect(fromDocker.format).toBe('docker-archive')
    expect(fromDocker.digest).toBe(fromLayout.digest)

    const built = flatten(fromLayout.manifest, store.objectsDir).entries
    const want = scan(path.join(tmp, 'bundle', 'rootfs'))
    const got = Object.fromEntries(Object.entries(built).map(([p, { mtime: _m, xattrs: _x, ...rest }]) => [p, rest]))
    // the root directory is the bundle's, made by umoci itself
    delete got['/']; delete want['/']
    expect(got).toEqual(want)
    expect(built['/etc/small']!.sha256).toBe(crypto.createHash('sha256').update('replaced\n').digest('hex'))
    expect(built['/etc/sub/old']).toBeUndefined()
  })
})
