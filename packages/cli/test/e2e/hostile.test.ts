/**
 * The hostile-input corpus (fixtures/hostile/, made by scripts/make-hostile-fixtures.ts) through the real bin:
 * each input gives exactly one documented outcome (an error code with its exit status, or a given tree), and no
 * run writes anything outside its store and its output file. docs/SECURITY.md lists the same table.
 */
import { spawn } from 'node:child_process'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { exitCodeTable, type CfsErrorCode } from '@cfs/errors'
import { decodeManifest, fileKind, walkDepthFirst } from '@cfs/manifest'
import { fixturePath } from '@cfs/fixtures'

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/cfs.js')

interface Case {
  fixture: string
  args?: string[]
  /** feed the fixture on stdin (`cfs build - -o …`) */
  stdin?: boolean
  env?: NodeJS.ProcessEnv
  /** the error, with the exit status it must give */
  error?: [CfsErrorCode, number]
  /** or: the whole tree built, as `flat()` prints it */
  tree?: Record<string, string>
}

const N = 'n'.repeat(255)
const CASES: Record<string, Case> = {
  // paths
  'dotdot': { fixture: 'dotdot.tar', error: ['ERR_CFS_BAD_PATH', 3] },
  'dotdot inside a path': { fixture: 'dotdot-inner.tar', error: ['ERR_CFS_BAD_PATH', 3] },
  'absolute paths and doubled slashes': {
    fixture: 'absolute.tar',
    tree: { '/': 'd 755', '/abs': 'd 755', '/abs/x': 'f 644 slashes', '/etc': 'd 755', '/etc/cfs-pwned': 'f 644 absolute' },
  },
  'a NUL in a name': { fixture: 'name-nul.tar', error: ['ERR_CFS_BAD_PATH', 3] },
  'a 256-byte name': { fixture: 'name-too-long.tar', error: ['ERR_CFS_BAD_PATH', 3] },
  'a 255-byte name': { fixture: 'name-255.tar', tree: { '/': 'd 755', '/d': 'd 755', [`/d/${N}`]: 'f 644 longest name' } },
  'a 4220-byte path': { fixture: 'path-too-long.tar', error: ['ERR_CFS_BAD_PATH', 3] },
  'a file at the root': { fixture: 'root-as-file.tar', error: ['ERR_CFS_IMAGE_BAD', 3] },
  // links
  'a hardlink with ..': { fixture: 'hardlink-dotdot.tar', error: ['ERR_CFS_BAD_PATH', 3] },
  'a hardlink to a path the image lacks': { fixture: 'hardlink-outside.tar', error: ['ERR_CFS_IMAGE_BAD', 3] },
  'a hardlink to a directory': { fixture: 'hardlink-to-dir.tar', error: ['ERR_CFS_IMAGE_BAD', 3] },
  'a hardlink through a symlinked parent to a path the image lacks': { fixture: 'symlink-parent-escape-hardlink.tar', error: ['ERR_CFS_IMAGE_BAD', 3] },
  'an absolute hardlink inside the image': {
    fixture: 'hardlink-absolute.tar',
    tree: { '/': 'd 755', '/etc': 'd 755', '/etc/passwd': 'f 644 n2 image passwd', '/h': 'f 644 n2 image passwd' },
  },
  'symlink targets pointing anywhere': {
    fixture: 'symlink-targets.tar',
    tree: { '/': 'd 755', '/abs': 'l /etc/passwd', '/self': 'l self', '/up': 'l ../../../../etc/shadow' },
  },
  'symlinked parents redirecting later entries': {
    fixture: 'symlink-parent.tar',
    tree: {
      '/': 'd 755', '/a': 'l /etc', '/b': 'l ../../../../sentinel', '/c': 'l /tmp',
      '/etc': 'd 755', '/etc/passwd': 'f 644 n2 written through a',
      '/sentinel': 'd 755', '/sentinel/pwned': 'f 644 clamped',
      '/tmp': 'd 755', '/tmp/h': 'f 644 n2 written through a',
    },
  },
  'a symlink loop': { fixture: 'symlink-loop.tar', error: ['ERR_CFS_BAD_PATH', 3] },
  'a symlink to itself used as a directory': { fixture: 'symlink-self-loop.tar', error: ['ERR_CFS_BAD_PATH', 3] },
  'symlinked parents leading 2100 directories deep': { fixture: 'symlink-deep.tar', error: ['ERR_CFS_BAD_PATH', 3] },
  // layer semantics
  'duplicate entries': { fixture: 'duplicates.tar', tree: { '/': 'd 755', '/d': 'd 750', '/d/kept': 'f 644 kept', '/f': 'f 644 second' } },
  'a file replaced by a directory and back': { fixture: 'file-dir-file.tar', tree: { '/': 'd 755', '/x': 'f 644 file again', '/y': 'd 755' } },
  'whiteouts of missing paths': { fixture: 'whiteout-missing.tar', tree: { '/': 'd 755', '/ok': 'f 644 fine' } },
  'whiteouts of the root, . and ..': { fixture: 'whiteout-root.tar', tree: { '/': 'd 755', '/etc': 'd 755', '/etc/passwd': 'f 644 kept' } },
  'the same across three layers': {
    fixture: 'layers.oci.tar',
    tree: { '/': 'd 755', '/etc': 'd 755', '/etc/passwd': 'f 644 one', '/keep': 'f 644 keep', '/x': 'f 644 x3' },
  },
  // tar framing
  'a tar cut inside a body': { fixture: 'truncated-body.tar', error: ['ERR_CFS_TAR_TRUNCATED', 3] },
  'a tar cut inside a header': { fixture: 'truncated-header.tar', error: ['ERR_CFS_TAR_TRUNCATED', 3] },
  'a bad header checksum': { fixture: 'bad-checksum.tar', error: ['ERR_CFS_TAR_BAD_CHECKSUM', 3] },
  'a negative base-256 size': { fixture: 'size-negative.tar', error: ['ERR_CFS_TAR_BAD_HEADER', 3] },
  'a base-256 size of 2^56': { fixture: 'size-huge.tar', error: ['ERR_CFS_TAR_BAD_HEADER', 3] },
  'a size that is not octal': { fixture: 'size-not-octal.tar', error: ['ERR_CFS_TAR_BAD_HEADER', 3] },
  'a size of 8 GiB with 512 bytes behind it': { fixture: 'size-8g.tar', error: ['ERR_CFS_TAR_TRUNCATED', 3] },
  'a PAX size past 2^53': { fixture: 'pax-size-huge.tar', error: ['ERR_CFS_TAR_BAD_HEADER', 3] },
  'a negative PAX size': { fixture: 'pax-size-negative.tar', error: ['ERR_CFS_TAR_BAD_HEADER', 3] },
  'a sparse entry': { fixture: 'type-sparse.tar', error: ['ERR_CFS_TAR_BAD_HEADER', 3] },
  'an empty file': { fixture: 'empty.tar', tree: { '/': 'd 755' } },
  'a PAX record past 1 MiB': { fixture: 'pax-too-big.tar.gz', error: ['ERR_CFS_TAR_LIMIT', 3] },
  'an xattr key of 305 bytes': { fixture: 'xattr-key-too-long.tar', error: ['ERR_CFS_TREE_INVALID', 3] },
  'a negative base-256 uid': { fixture: 'uid-negative.tar', error: ['ERR_CFS_TAR_BAD_HEADER', 3] },
  // compression
  'truncated gzip': { fixture: 'truncated.tar.gz', error: ['ERR_CFS_DECOMPRESS', 3] },
  'gzip with a bad CRC': { fixture: 'corrupt-crc.tar.gz', error: ['ERR_CFS_DECOMPRESS', 3] },
  'gzip with corrupt data': { fixture: 'corrupt-data.tar.gz', error: ['ERR_CFS_DECOMPRESS', 3] },
  'truncated zstd': { fixture: 'truncated.tar.zst', error: ['ERR_CFS_DECOMPRESS', 3] },
  'corrupt zstd': { fixture: 'corrupt.tar.zst', error: ['ERR_CFS_DECOMPRESS', 3] },
  'a gzip bomb (64 KiB → 64 MiB)': { fixture: 'bomb.tar.gz', error: ['ERR_CFS_DECOMPRESS_LIMIT', 3] },
  'a zstd bomb (8 KiB → 256 MiB)': { fixture: 'bomb.tar.zst', error: ['ERR_CFS_DECOMPRESS_LIMIT', 3] },
  'a zstd bomb on stdin': { fixture: 'bomb.tar.zst', stdin: true, error: ['ERR_CFS_DECOMPRESS_LIMIT', 3] },
  'a gzip-compressed archive that is a bomb (spooled)': { fixture: 'bomb-archive.tar.gz', error: ['ERR_CFS_DECOMPRESS_LIMIT', 3] },
  'a gzip bomb under --max-layer-size 1M and no ratio limit': {
    fixture: 'bomb.tar.gz', args: ['--max-layer-size', '1M'], env: { CFS_MAX_DECOMPRESS_RATIO: '0' }, error: ['ERR_CFS_DECOMPRESS_LIMIT', 3],
  },
  'a gzip bomb with the limits raised by the environment': {
    fixture: 'bomb.tar.gz', env: { CFS_MAX_DECOMPRESS_RATIO: '2000', CFS_MAX_LAYER_SIZE: '1G' }, tree: { '/': 'd 755', '/zeros': 'f 644 67108864 bytes' },
  },
  'a bad CFS_MAX_LAYER_SIZE': { fixture: 'bomb.tar.gz', env: { CFS_MAX_LAYER_SIZE: 'lots' }, error: ['ERR_CFS_USAGE', 2] },
  // archives
  'a layer blob whose digest differs': { fixture: 'blob-digest-mismatch.tar', error: ['ERR_CFS_BLOB_DIGEST_MISMATCH', 6] },
  'a malformed index.json': { fixture: 'index-json-malformed.tar', error: ['ERR_CFS_IMAGE_BAD', 3] },
  'an index.json of the wrong shape': { fixture: 'index-json-wrong-shape.tar', error: ['ERR_CFS_IMAGE_BAD', 3] },
  'an index.json naming a missing blob': { fixture: 'index-missing-blob.tar', error: ['ERR_CFS_BLOB_NOT_FOUND', 4] },
  'an index.json digest with ../': { fixture: 'index-digest-traversal.tar', error: ['ERR_CFS_IMAGE_BAD', 3] },
  'an OCI layout directory whose index digest has ../': { fixture: 'layout-traversal', error: ['ERR_CFS_IMAGE_BAD', 3] },
  'a malformed manifest.json': { fixture: 'manifest-json-malformed.tar', error: ['ERR_CFS_IMAGE_BAD', 3] },
  'a manifest.json of the wrong shape': { fixture: 'manifest-json-wrong-shape.tar', error: ['ERR_CFS_IMAGE_BAD', 3] },
  'a manifest.json naming a missing layer': { fixture: 'manifest-missing-blob.tar', error: ['ERR_CFS_BLOB_NOT_FOUND', 4] },
  'a manifest.json layer path with ../': { fixture: 'manifest-traversal.tar', error: ['ERR_CFS_BLOB_NOT_FOUND', 4] },
}

interface Outcome { code: number, stdout: string, stderr: string, before: string[], after: string[], storeTmp: string[], leases: string[], images: string[], out?: Buffer }

let root: string
const outcomes = new Map<string, Outcome>()
const host = { passwd: '', etcBefore: [] as string[] }

/** Every path under `dir` (but `skip`) with its kind, size and content hash: what a run could have changed. */
function snapshot (dir: string, skip: string[]): string[] {
  const out: string[] = []
  const walk = (d: string): void => {
    for (const name of fs.readdirSync(d).sort()) {
      const p = path.join(d, name)
      if (skip.includes(p)) continue
      const st = fs.lstatSync(p)
      const rel = path.relative(dir, p)
      if (st.isDirectory()) { out.push(`${rel}/ ${(st.mode & 0o7777).toString(8)}`); walk(p) } else if (st.isSymbolicLink()) {
        out.push(`${rel} -> ${fs.readlinkSync(p)}`)
      } else out.push(`${rel} ${st.size} ${crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex')}`)
    }
  }
  walk(dir)
  return out
}

/** a usage error stops before the store is made */
const list = (dir: string): string[] => fs.existsSync(dir) ? fs.readdirSync(dir) : []

/** Runs one case in its own directory: cwd and HOME inside it, a sentinel directory beside them. */
async function runCase (name: string, c: Case, i: number): Promise<void> {
  const dir = path.join(root, String(i))
  for (const d of ['work', 'home', 'sentinel', 'out']) fs.mkdirSync(path.join(dir, d), { recursive: true })
  fs.writeFileSync(path.join(dir, 'sentinel/keep'), 'keep\n')
  fs.writeFileSync(path.join(dir, 'home/.profile'), 'profile\n')
  const input = path.join(dir, 'work', c.fixture)
  fs.cpSync(fixturePath(`hostile/${c.fixture}`), input, { recursive: true })
  const store = path.join(dir, 'store')
  const output = path.join(dir, 'out/image.cfsm')
  const skip = [store, output]
  const before = snapshot(dir, skip)
  const env = { PATH: process.env.PATH, HOME: path.join(dir, 'home'), TMPDIR: path.join(dir, 'home'), ...c.env }
  // --quiet: no summary line, so a warning would be all that stderr holds
  const argv = [BIN, 'build', c.stdin === true ? '-' : c.fixture, '-o', output, '--store', store, '--quiet', ...(c.args ?? [])]
  const r = await new Promise<{ code: number, stdout: string, stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, argv, { env, cwd: path.join(dir, 'work'), stdio: [c.stdin === true ? 'pipe' : 'ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout!.on('data', (d: Buffer) => { stdout += d.toString() })
    child.stderr!.on('data', (d: Buffer) => { stderr += d.toString() })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }))
    // the build may stop reading early: a broken pipe is expected then
    if (c.stdin === true) fs.createReadStream(input).pipe(child.stdin!).on('error', () => {})
  })
  outcomes.set(name, {
    ...r,
    before,
    after: snapshot(dir, skip),
    storeTmp: list(path.join(store, 'tmp')),
    leases: list(path.join(store, 'leases')),
    images: list(path.join(store, 'images')),
    ...(fs.existsSync(output) ? { out: fs.readFileSync(output) } : {}),
  })
}

/** The tree as `path → 'd MODE' | 'f MODE [nN] CONTENT' | 'l TARGET'`. */
function flat (bytes: Buffer): Record<string, string> {
  const out: Record<string, string> = {}
  walkDepthFirst(decodeManifest(bytes), (p, node) => {
    const ino = node.inode
    const mode = (ino.mode & 0o7777).toString(8)
    const kind = fileKind(ino.mode)
    const links = ino.nlink > 1 ? ` n${ino.nlink}` : ''
    if (kind === 'dir') out[p] = `d ${mode}`
    else if (kind === 'symlink') out[p] = `l ${ino.target!}`
    else if (kind === 'file') out[p] = `f ${mode}${links} ${ino.inline !== undefined ? Buffer.from(ino.inline).toString('latin1') : `${ino.size} bytes`}`
    else out[p] = `${kind ?? '?'} ${mode}`
  })
  return out
}

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-'))
  host.passwd = fs.readFileSync('/etc/passwd', 'latin1')
  host.etcBefore = fs.readdirSync('/etc').sort()
  // a few at a time: most of a run is node starting up
  const queue = Object.entries(CASES).map(([name, c], i) => async () => { await runCase(name, c, i) })
  await Promise.all(Array.from({ length: 4 }, async () => { for (let job = queue.shift(); job !== undefined; job = queue.shift()) await job() }))
}, 120_000)

afterAll(() => { fs.rmSync(root, { recursive: true, force: true }) })

describe('cfs build on hostile input', () => {
  it.each(Object.entries(CASES))('%s', (name, c) => {
    const o = outcomes.get(name)!
    // nothing outside the store and the output file changed, and the store keeps no temp files or leases
    expect(o.after).toEqual(o.before)
    expect(o.storeTmp).toEqual([])
    expect(o.leases).toEqual([])
    if (c.error !== undefined) {
      const [code, exit] = c.error
      expect(exitCodeTable[code]).toBe(exit)
      expect({ code: o.code, stdout: o.stdout }).toEqual({ code: exit, stdout: '' })
      expect(o.stderr).toMatch(new RegExp(`^cfs: .*\\[${code}\\]\\n$`, 's'))
      expect(o.out).toBeUndefined()
      expect(o.images).toEqual([])
    } else {
      expect({ code: o.code, stderr: o.stderr }).toEqual({ code: 0, stderr: '' })
      expect(flat(o.out!)).toEqual(c.tree)
      expect(o.images.filter(n => n.endsWith('.cfsm'))).toHaveLength(1)
    }
  })

  it('left the host alone: /etc as it was, nothing at the absolute paths the entries named', () => {
    expect(fs.readFileSync('/etc/passwd', 'latin1')).toBe(host.passwd)
    expect(fs.readdirSync('/etc').sort()).toEqual(host.etcBefore)
    for (const p of ['/etc/cfs-pwned', '/sentinel', '/abs', '/tmp/h']) expect(fs.existsSync(p)).toBe(false)
  })
})
