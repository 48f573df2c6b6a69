/**
 * Every package is ready to publish and usable as a library: its package.json has what a registry and a
 * TypeScript consumer need, and its README's examples (`<!-- example: examples/usage.ts … -->` followed by the
 * file's exact text; cli also shows examples/library.ts) type-check against the built types and run, printing what
 * their comments say.
 */
import { execFile, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { mountSkipReason } from '../e2e/mount-skip.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..')
const exec = promisify(execFile)
const PACKAGES = fs.readdirSync(path.join(ROOT, 'packages')).filter(d => fs.existsSync(path.join(ROOT, 'packages', d, 'package.json'))).sort()
const EXAMPLE = 'examples/usage.ts'
/** Every example file: each package's examples/usage.ts, and any other examples/*.ts its README shows. */
const EXAMPLES = PACKAGES.flatMap(dir => fs.readdirSync(path.join(ROOT, 'packages', dir, 'examples')).filter(f => f.endsWith('.ts')).sort()
  .map(f => ({ dir, file: `examples/${f}`, key: f === 'usage.ts' ? dir : `${dir}/${f.slice(0, -3)}` })))
const MARKER = /^<!-- example: (\S+) [^\n]*-->\n```ts\n([\s\S]*?)^```$/gm

interface PackageJson {
  name: string, version: string, description?: string, license?: string, private?: boolean, type?: string
  repository?: { type: string, url: string, directory: string }
  exports?: Record<string, unknown>, types?: string, files?: string[], engines?: { node?: string }
  bin?: Record<string, string>, dependencies?: Record<string, string>, devDependencies?: Record<string, string>
}
const pkgJson = (dir: string): PackageJson => JSON.parse(fs.readFileSync(path.join(ROOT, 'packages', dir, 'package.json'), 'utf8')) as PackageJson

let tmp: string
beforeAll(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-')) })
afterAll(() => {
  // an example that failed half-way may leave its mount behind: detach those first
  const mounts = fs.readFileSync('/proc/self/mounts', 'utf8').split('\n').map(l => l.split(' ')[1] ?? '').filter(t => t.startsWith(tmp + '/'))
  for (const target of mounts.reverse()) spawnSync('umount', ['-l', target])
  fs.rmSync(tmp, { recursive: true, force: true })
})

describe('package.json of every package', () => {
  it('has what publishing needs', () => {
    const repos = new Set<string>()
    for (const dir of PACKAGES) {
      const pj = pkgJson(dir)
      const at = (p: string): string => path.join(ROOT, 'packages', dir, p)
      expect({ dir, name: pj.name, private: pj.private, type: pj.type, license: pj.license })
        .toEqual({ dir, name: `@cfs/${dir}`, private: undefined, type: 'module', license: 'Apache-2.0' })
      expect({ dir, version: /^\d+\.\d+\.\d+$/.test(pj.version), description: (pj.description ?? '').length > 10 }).toEqual({ dir, version: true, description: true })
      expect({ dir, exports: pj.exports, types: pj.types })
        .toEqual({ dir, exports: { '.': { types: './dist/index.d.ts', import: './dist/index.js' } }, types: './dist/index.d.ts' })
      expect({ dir, built: fs.existsSync(at('dist/index.js')) && fs.existsSync(at('dist/index.d.ts')), readme: fs.existsSync(at('README.md')) })
        .toEqual({ dir, built: true, readme: true })
      expect(pj.files).toEqual(expect.arrayContaining(['dist', 'README.md']))
      for (const bin of Object.values(pj.bin ?? {})) {
        expect(fs.existsSync(at(bin))).toBe(true)
        expect(pj.files).toContain(bin.replace(/^\.\//, '').split('/')[0])
      }
      const node = /^>=(\d+)(\.\d+)*$/.exec(pj.engines?.node ?? '')
      expect({ dir, node: node !== null && Number(node[1]) >= 20 }).toEqual({ dir, node: true })
      expect({ dir, type: pj.repository?.type, directory: pj.repository?.directory }).toEqual({ dir, type: 'git', directory: `packages/${dir}` })
      repos.add(pj.repository!.url)
      for (const [dep, range] of Object.entries({ ...pj.dependencies, ...pj.devDependencies })) {
        // internal deps resolve in the workspace (pnpm publish rewrites them); external ones are pinned exactly
        expect({ dir, dep, ok: dep.startsWith('@cfs/') ? range === 'workspace:*' : /^\d+\.\d+\.\d+$/.test(range) }).toEqual({ dir, dep, ok: true })
      }
    }
    expect(repos.size).toBe(1)
  })

  it('packs dist, the README and concrete versions of workspace dependencies (pnpm pack of @cfs/verify)', async () => {
    const dest = path.join(tmp, 'pack')
    await exec('pnpm', ['pack', '--pack-destination', dest], { cwd: path.join(ROOT, 'packages/verify') })
    const tgz = path.join('pack', fs.readdirSync(dest).find(f => f.endsWith('.tgz'))!)
    const { stdout } = await exec('tar', ['-tzf', path.join(tmp, tgz)])
    const files = stdout.split('\n').filter(Boolean)
    expect(files).toEqual(expect.arrayContaining(['package/package.json', 'package/README.md', 'package/dist/index.js', 'package/dist/index.d.ts']))
    expect(files.filter(f => f.startsWith('package/test/') || f.startsWith('package/examples/') || f.endsWith('.tsbuildinfo'))).toEqual([])
    const packed = JSON.parse((await exec('tar', ['-xzOf', path.join(tmp, tgz), 'package/package.json'])).stdout) as PackageJson
    const version = pkgJson('store').version
    expect(packed.dependencies?.['@cfs/store']).toBe(version)
  })
})

/** What each example must print: the claims its comments make. */
const PRINTS: Record<string, RegExp[]> = {
  bench: [/^symlinks 1 true$/m, /^true$/m],
  build: [/^sha256:[0-9a-f]{64} directory/m, /file: 1,/, /dir: 2,/, /symlink: 1,/],
  cli: [/^0 sha256:[0-9a-f]{64}\n0$/m],
  'cli/library': [/^true 2 2 1$/m, /^modified \/etc\/app\.conf \[ 'content' \]$/m],
  diff: [/^modified \/motd \[ 'content', 'size', 'mode' \]$/m, /^added \/new \[\]$/m, /^removed \/old \[\]$/m, /^false 26 cfs\.diff\/1$/m],
  digest: [/^true sha256:[0-9a-f]{64}$/m, /^sha256:5891b5b5/m],
  dump: [/^\/ 4096 40755 2 0 0 0 0\.0 - - -$/m, /^\/hello 3 100644 1 0 0 0 0\.0 - hi\\n -$/m, /^true$/m],
  erofs: [/^16384 [0-9a-f]{64}$/m, /^258$/m],
  errors: [/^ERR_CFS_FILE_NOT_FOUND true read \/nonexistent\/image\.tar: no such file/m, /^2 6$/m],
  fuse: [/^FUSE is usable|ERR_CFS_(FUSE_UNAVAILABLE|PERMISSION)/m],
  'kernel-mount': [/erofs-cache\/[0-9a-f]{64}\.v\d+\.img \/dev\/loop\d+ true$/m],
  manifest: [/^sha256:[0-9a-f]{64} 162 hi$/m],
  mount: [/^\[ 'data' \] 10000$/m],
  report: [/^3 10100 5100$/m, /^true false$/m],
  oci: [/^layer-tar 1$/m, /^0 etc\/motd$/m],
  store: [/^1 1 5000$/m, /^\[\]$/m],
  tar: [/^dir etc\/ 755 ""$/m, /^file etc\/motd 644 "hello\\n"$/m, /^symlink motd 644 ""$/m],
  verify: [/^true rehash$/m, /^corrupt sha256:[0-9a-f]{64} \[ '\/data' \]$/m],
}
/** Examples that mount need root, FUSE and the kernel's erofs + overlay, like the mount tests. */
const NEEDS_MOUNT = new Set(['mount', 'kernel-mount'])

describe('README examples', () => {
  it('every README shows its package\'s example files verbatim, examples/usage.ts first', () => {
    for (const dir of PACKAGES) {
      const readme = fs.readFileSync(path.join(ROOT, 'packages', dir, 'README.md'), 'utf8')
      const shown = [...readme.matchAll(MARKER)].map(m => ({ file: m[1]!, body: m[2]! }))
      const files = EXAMPLES.filter(e => e.dir === dir)
      expect({ dir, first: shown[0]?.file }).toEqual({ dir, first: EXAMPLE })
      expect({ dir, shown: [...shown].sort((a, b) => a.file.localeCompare(b.file)) })
        .toEqual({ dir, shown: files.map(e => ({ file: e.file, body: fs.readFileSync(path.join(ROOT, 'packages', dir, e.file), 'utf8') })) })
    }
    expect(EXAMPLES.map(e => e.key).sort()).toEqual(Object.keys(PRINTS).sort())
  })

  it('type-check against the built types, as a consumer would import them', async () => {
    const config = path.join(tmp, 'tsconfig.examples.json')
    fs.writeFileSync(config, JSON.stringify({
      extends: path.join(ROOT, 'tsconfig.base.json'),
      compilerOptions: { noEmit: true, composite: false, declaration: false, declarationMap: false, types: ['node'], typeRoots: [path.join(ROOT, 'node_modules/@types')] },
      files: EXAMPLES.map(e => path.join(ROOT, 'packages', e.dir, e.file)),
    }))
    const tsc = path.join(ROOT, 'node_modules/typescript/bin/tsc')
    const ran = await exec(process.execPath, [tsc, '-p', config]).then(() => '', (e: { stdout: string }) => e.stdout)
    expect(ran).toBe('')
  })

  const skip = mountSkipReason()
  if (skip !== undefined) console.log(`README examples of ${[...NEEDS_MOUNT].join(', ')} not run: ${skip}`)
  const runnable = EXAMPLES.filter(e => skip === undefined || !NEEDS_MOUNT.has(e.dir))

  it('run and print what their comments say', async () => {
    const results: Array<{ key: string, code: number, stdout: string, stderr: string }> = []
    for (const { dir, file, key } of runnable) {     // one at a time: the machine is shared with the other suites
      const env = { ...process.env, TMPDIR: tmp }
      const r = await exec(process.execPath, ['--import', 'tsx', file], { cwd: path.join(ROOT, 'packages', dir), env })
        .then(({ stdout, stderr }) => ({ code: 0, stdout, stderr }), (e: { code: number, stdout: string, stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }))
      results.push({ key, ...r })
    }
    for (const r of results) {
      expect({ key: r.key, code: r.code, stderr: r.stderr }).toEqual({ key: r.key, code: 0, stderr: '' })
      for (const re of PRINTS[r.key] ?? []) expect({ key: r.key, stdout: r.stdout }).toEqual({ key: r.key, stdout: expect.stringMatching(re) })
    }
    expect(results.map(r => r.key)).toEqual(runnable.map(e => e.key))
    // each example removes what it made
    expect(fs.readdirSync(tmp).filter(f => f.startsWith('cfs-'))).toEqual([])
  }, 180_000)
})
