/** `cfs bench` through the bin: the table, --json, --html, and usage errors. The strategies themselves are tested in @cfs/bench. */
import { execFile } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { promisify } from 'node:util'
import { fixturePath } from '@cfs/fixtures'
import { BIN, runCfs, type Ran } from './run-cfs.js'

const exec = promisify(execFile)

const cfs = async (...args: string[]): Promise<Ran> => await runCfs(args)

describe('cfs bench', () => {
  let dir: string
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-')) })
  afterEach(() => { fs.rmSync(dir, { recursive: true, force: true }) })

  it('prints a table, or the report as JSON, and writes the HTML page', async () => {
    const html = path.join(dir, 'out.html')
    const image = fixturePath('images/docker-archive.tar')
    const text = await cfs('bench', image, '--only', 'symlinks', '--runs', '1', '--tmp', dir)
    expect(text.code).toBe(0)
    expect(text.stdout).toMatch(/^symlink farm into the store +1 +[\d.]+ +– +[\d.]+ +[\d.]+$/m)
    const json = await cfs('bench', image, '--only', 'symlinks', '--runs', '2', '--tmp', dir, '--json', '--html', html)
    expect(json.code).toBe(0)
    const report = JSON.parse(json.stdout) as { schema: string, runs: number, html: string, strategies: Array<{ strategy: string, results: Array<{ coldLs: { runs: number[] } }> }> }
    expect(report.schema).toBe('cfs.bench/1')
    expect(report.runs).toBe(2)
    expect(report.html).toBe(html)
    expect(report.strategies.map(s => s.strategy)).toEqual(['symlinks'])
    expect(report.strategies[0]!.results[0]!.coldLs.runs).toHaveLength(2)
    expect(fs.readFileSync(html, 'utf8')).toContain('<!doctype html>')
    expect(fs.readdirSync(dir).sort()).toEqual(['out.html'])
  })

  // as an unprivileged user: the root-only strategies are skipped with their reason, or refused when chosen alone
  const asNobody = process.getuid?.() === 0 && fs.existsSync('/usr/sbin/runuser') ? it : it.skip
  if (process.getuid?.() !== 0) console.log('cfs bench: the unprivileged-user test needs root to switch to nobody; skipped')
  asNobody('skips the strategies that need root, saying why, when not root', async () => {
    fs.chmodSync(dir, 0o777)
    const nobody = async (...args: string[]): Promise<{ code: number, stdout: string, stderr: string }> => {
      try {
        const { stdout, stderr } = await exec('/usr/sbin/runuser', ['-u', 'nobody', '--', 'env', `HOME=${dir}`, process.execPath, BIN, ...args])
        return { code: 0, stdout, stderr }
      } catch (err) { return err as { code: number, stdout: string, stderr: string } }
    }
    const image = fixturePath('images/docker-archive.tar')
    const r = await nobody('bench', image, '--runs', '1', '--tmp', dir, '--json')
    expect(r.code).toBe(0)
    const report = JSON.parse(r.stdout) as { cachesDropped: boolean, cacheNote: string, strategies: Array<{ strategy: string }>, skipped: Array<{ strategy: string, reason: string }> }
    expect(report.strategies.map(s => s.strategy)).toEqual(['symlinks'])
    expect(report.skipped.map(s => s.strategy)).toEqual(['overlayfs', 'kernel', 'fuse'])
    for (const s of report.skipped) expect(s.reason).toMatch(/root/)
    expect(report.cachesDropped).toBe(false)
    expect(report.cacheNote).toMatch(/root/)
    const refused = await nobody('bench', image, '--runs', '1', '--tmp', dir, '--only', 'kernel,fuse')
    expect(refused.code).toBe(5)
    expect(refused.stderr).toMatch(/ERR_CFS_PERMISSION/)
    expect(fs.readdirSync(dir)).toEqual([])
  })

  it('rejects unknown strategies and bad run counts with exit 2', async () => {
    const image = fixturePath('images/docker-archive.tar')
    expect((await cfs('bench', image, '--only', 'symlinks,zfs')).code).toBe(2)
    expect((await cfs('bench', image, '--runs', '0')).code).toBe(2)
    const r = await cfs('bench', fixturePath('images/docker-archive.tar.expected.json'), '--only', 'symlinks', '--tmp', dir)
    expect(r.code).toBe(3)
    expect(r.stderr).toMatch(/ERR_CFS_IMAGE_UNKNOWN_FORMAT/)
  })
})
