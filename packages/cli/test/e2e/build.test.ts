import { execFile, spawn } from 'node:child_process'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { fixturePath } from '@cfs/fixtures'

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/cfs.js')
const exec = promisify(execFile)

interface Ran { code: number, stdout: string, stderr: string }

let tmp: string
beforeEach(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-')) })
afterEach(() => { fs.rmSync(tmp, { recursive: true, force: true }) })

/** Runs the real bin with a clean environment whose default store lives in the test's temp dir. */
async function cfs (args: string[], opts: { stdin?: string, env?: NodeJS.ProcessEnv, cwd?: string } = {}): Promise<Ran> {
  const env = { PATH: process.env.PATH, HOME: path.join(tmp, 'home'), XDG_DATA_HOME: path.join(tmp, 'xdg'), ...opts.env }
  if (opts.stdin === undefined) {
    try {
      const { stdout, stderr } = await exec(process.execPath, [BIN, ...args], { env, cwd: opts.cwd ?? tmp })
      return { code: 0, stdout, stderr }
    } catch (err) {
      const e = err as { code: number, stdout: string, stderr: string }
      return { code: e.code, stdout: e.stdout, stderr: e.stderr }
    }
  }
  return await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, cwd: opts.cwd ?? tmp, stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }))
    fs.createReadStream(opts.stdin!).pipe(child.stdin)
  })
}

const sha256 = (file: string): string => 'sha256:' + crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex')

describe('cfs build', () => {
  it('builds the quick-start fixture into the default store, writes the manifest beside it, prints its digest', async () => {
    fs.copyFileSync(fixturePath('images/docker-archive.tar'), path.join(tmp, 'image.tar'))
    const r = await cfs(['build', 'image.tar'])
    // stderr is a pipe: no bar, one summary line
    expect(r.stderr).toMatch(/^cfs build: \d+ files, [\d.]+ (B|KiB|MiB) in [\d.]+ s \([^)]+\)\n$/)
    expect(r.code).toBe(0)
    const manifest = path.join(tmp, 'image.cfsm')
    expect(r.stdout).toBe(sha256(manifest) + '\n')
    const hex = sha256(manifest).slice(7)
    expect(fs.readdirSync(path.join(tmp, 'xdg/cfs/images')).sort()).toEqual([hex + '.cfsm', hex + '.layers.json'])
  })

  it('prints a JSON summary with --json', async () => {
    const out = path.join(tmp, 'o.cfsm')
    const r = await cfs(['build', fixturePath('images/oci-archive.tar'), '-o', out, '--store', 's', '--json'])
    expect(r.code).toBe(0)
    const j = JSON.parse(r.stdout) as Record<string, unknown>
    expect(j).toMatchObject({
      digest: sha256(out),
      manifest: out,
      store: path.join(tmp, 's'),
      format: 'oci-archive',
      platform: 'linux/amd64',
      bytesIn: expect.any(Number),
      bytesStored: expect.any(Number),
      objectsReused: 0,
      seconds: expect.any(Number),
    })
    expect(j.objectsNew).toBeGreaterThan(0)
    expect(j.entries).toMatchObject({ file: expect.any(Number), dir: expect.any(Number), symlink: 3, chardev: 2, blockdev: 1, fifo: 1, hardlinks: 3 })
    const again = JSON.parse((await cfs(['build', fixturePath('images/docker-archive.tar'), '-o', out, '--store', 's', '--json'])).stdout) as Record<string, unknown>
    expect(again).toMatchObject({ digest: j.digest, objectsNew: 0, objectsReused: j.objectsNew, bytesStored: 0 })
  })

  it('reads a layer from stdin with - and needs -o for it', async () => {
    const out = path.join(tmp, 'l.cfsm')
    const r = await cfs(['build', '-', '-o', out, '--store', 's'], { stdin: fixturePath('images/layer.tar.zst') })
    expect(r.code).toBe(0)
    expect(r.stdout.trim()).toBe(sha256(out))
    const plain = await cfs(['build', fixturePath('images/layer.tar'), '-o', path.join(tmp, 'p.cfsm'), '--store', 's'])
    expect(plain.stdout).toBe(r.stdout)
    const noOut = await cfs(['build', '-', '--store', 's'], { stdin: fixturePath('images/layer.tar') })
    expect(noOut.code).toBe(2)
    expect(noOut.stderr).toContain('ERR_CFS_USAGE')
  })

  it('chooses a platform with --platform and refuses a bad one', async () => {
    const r = await cfs(['build', fixturePath('images/multi-platform.tar'), '--platform', 'linux/arm64', '-o', 'arm.cfsm', '--store', 's', '--json'])
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ platform: 'linux/arm64/v8', entries: { file: 2, dir: 2 } })
    const missing = await cfs(['build', fixturePath('images/multi-platform.tar'), '--platform', 'linux/riscv64', '-o', 'x.cfsm', '--store', 's'])
    expect(missing.code).toBe(4)
    expect(missing.stderr).toMatch(/ERR_CFS_PLATFORM_NOT_FOUND/)
    expect((await cfs(['build', fixturePath('images/multi-platform.tar'), '--platform', 'arm64', '--store', 's'])).code).toBe(2)
  })

  it.each([
    ['bad-digest.tar', 6, 'ERR_CFS_BLOB_DIGEST_MISMATCH'],
    ['escape.tar', 3, 'ERR_CFS_BAD_PATH'],
    ['truncated.tar', 3, 'ERR_CFS_TAR_TRUNCATED'],
    ['not-an-image.txt', 3, 'ERR_CFS_IMAGE_UNKNOWN_FORMAT'],
    ['no-such-file.tar', 4, 'ERR_CFS_FILE_NOT_FOUND'],
  ])('fails on %s with exit %i, one line on stderr and no manifest', async (name, code, errCode) => {
    const out = path.join(tmp, 'out', 'bad.cfsm')
    fs.mkdirSync(path.dirname(out))
    const r = await cfs(['build', fixturePath(`images/${name}`), '-o', out, '--store', 's'])
    expect(r.code).toBe(code)
    expect(r.stdout).toBe('')
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toContain(errCode)
    expect(r.stderr).not.toMatch(/\n\s+at /)
    expect(fs.readdirSync(path.dirname(out))).toEqual([])
    expect(fs.readdirSync(path.join(tmp, 's', 'images'))).toEqual([])
  })

  it('builds a directory with --exclude', async () => {
    const root = path.join(tmp, 'rootfs')
    fs.mkdirSync(path.join(root, 'cache'), { recursive: true })
    fs.writeFileSync(path.join(root, 'cache', 'junk'), 'j')
    fs.writeFileSync(path.join(root, 'keep'), 'k'.repeat(1000))
    const r = await cfs(['build', './rootfs', '--exclude', 'cache/**', '--store', 's', '--json'])
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ format: 'directory', manifest: path.join(tmp, 'rootfs.cfsm'), entries: { file: 1, dir: 1 }, objectsNew: 1 })
  })

  it('refuses --exclude for an image', async () => {
    const r = await cfs(['build', fixturePath('images/layer.tar'), '--exclude', 'x', '-o', 'x.cfsm', '--store', 's'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('ERR_CFS_USAGE')
  })

  it('asks for an input', async () => {
    const r = await cfs(['build'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('ERR_CFS_USAGE')
  })
})
