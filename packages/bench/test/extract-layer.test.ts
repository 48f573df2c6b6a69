/**
 * The overlayfs strategy must show the image's tree: the fixture's two layers extracted with extractLayer and
 * mounted with overlayfs give exactly the paths, types, modes and contents of its expected tree (whiteouts,
 * opaque directories, replacements and cross-layer hardlinks included). Needs root (tar restoring owners and
 * devices, trusted.* xattrs, mount).
 */
import { execFileSync } from 'node:child_process'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fixturePath } from '@cfs/fixtures'
import { openImage } from '@cfs/oci'
import { extractLayer } from '../src/extract-layer.js'
import { mountsUnder } from '../src/remove-leftovers.js'

const skip = process.getuid?.() !== 0 ? 'not root' : undefined
if (skip !== undefined) console.log(`extract-layers tests skipped: ${skip}`)
const rootIt = skip === undefined ? it : it.skip

interface Expected { entries: Record<string, { type: string, mode: string, sha256?: string, target?: string }> }

function walk (root: string): Map<string, string> {
  const seen = new Map<string, string>()
  const rec = (rel: string): void => {
    const full = Buffer.from(root + rel, 'latin1')
    const st = fs.lstatSync(full)
    let what = `${st.mode.toString(8)}`
    if (st.isFile()) what += ' ' + crypto.createHash('sha256').update(fs.readFileSync(full)).digest('hex')
    if (st.isSymbolicLink()) what += ' ' + fs.readlinkSync(full, { encoding: 'buffer' }).toString('latin1')
    seen.set(rel === '' ? '/' : rel, what)
    if (st.isDirectory()) for (const n of fs.readdirSync(full, { encoding: 'buffer' })) rec(`${rel}/${n.toString('latin1')}`)
  }
  rec('')
  return seen
}

describe('extractLayer', () => {
  let dir: string
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-')) })
  afterEach(() => {
    for (const m of mountsUnder(fs.realpathSync(dir))) execFileSync('umount', ['-l', m])
    fs.rmSync(dir, { recursive: true, force: true })
  })

  rootIt('gives layers that overlayfs shows as the image tree', async () => {
    const image = await openImage(fixturePath('images/docker-archive.tar'), { tmpDir: dir })
    try {
      const dirs: string[] = []
      for (const layer of image.layers) {
        const d = path.join(dir, `l${layer.index}`)
        fs.mkdirSync(d)
        await extractLayer(layer, d, [...dirs].reverse())
        dirs.push(d)
      }
      // the upper layer's whiteouts became 0/0 character devices, its opaque marker an xattr
      const upper = dirs[1]!
      expect(fs.statSync(path.join(upper, 'gone')).rdev).toBe(0)
      expect(fs.statSync(path.join(upper, 'gone')).isCharacterDevice()).toBe(true)
      expect(fs.existsSync(path.join(upper, '.wh.gone'))).toBe(false)
      expect(execFileSync('getfattr', ['--absolute-names', '--only-values', '-n', 'trusted.overlay.opaque', path.join(upper, 'opq')]).toString()).toBe('y')
      const mnt = path.join(dir, 'mnt')
      fs.mkdirSync(mnt)
      execFileSync('mount', ['-t', 'overlay', 'cfs-test', '-o', `ro,lowerdir=${[...dirs].reverse().join(':')}`, mnt])
      const seen = walk(mnt)
      const expected = JSON.parse(fs.readFileSync(fixturePath('images/docker-archive.tar.expected.json'), 'utf8')) as Expected
      const want = new Map<string, string>()
      for (const [p, e] of Object.entries(expected.entries)) {
        let what = String(Number.parseInt(e.mode, 8).toString(8))
        if (e.type === 'file') what += ' ' + (e.sha256 ?? '')
        if (e.type === 'symlink') what += ' ' + (e.target ?? '')
        want.set(p, what)
      }
      expect(Object.fromEntries([...seen].sort())).toEqual(Object.fromEntries([...want].sort()))
    } finally { await image.close() }
  })
})
