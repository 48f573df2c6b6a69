/** The real bin on a real terminal (a pty from script(1)): the bar needs process.stderr.isTTY, and CI=true stops it. */
import { execFileSync, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { fixturePath } from '@cfs/fixtures'

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/cfs.js')
const hasScript = spawnSync('script', ['--version']).status === 0

/** Runs `cfs build` with stdout and stderr on a pty; returns what the terminal got. */
function buildOnPty (tmp: string, env: NodeJS.ProcessEnv): string {
  const cmd = [process.execPath, BIN, 'build', fixturePath('images/docker-archive.tar'), '-o', path.join(tmp, 'x.cfsm'), '--store', path.join(tmp, 's')]
    .map(a => `'${a}'`).join(' ')
  return execFileSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', env: { PATH: process.env.PATH, HOME: tmp, ...env } })
}

describe('cfs build progress on a terminal', () => {
  let tmp: string
  beforeEach(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-')) })
  afterEach(() => { fs.rmSync(tmp, { recursive: true, force: true }) })

  it('draws the bar, then the summary line', () => {
    if (!hasScript) { console.warn('skipped: no script(1) to make a pty'); return }
    const out = buildOnPty(tmp, {})
    expect(out).toMatch(/\rcfs build \[[# ]{24}\] \d+% /)
    expect(out).toMatch(/\r\x1b\[Kcfs build: \d+ files, [^\n]+ in [\d.]+ s \([^)]+\)\r?\n/)
    expect(out).toMatch(/sha256:[0-9a-f]{64}/)
  })

  it('draws no bar with CI=true, only the summary line', () => {
    if (!hasScript) { console.warn('skipped: no script(1) to make a pty'); return }
    const out = buildOnPty(tmp, { CI: 'true' })
    expect(out).not.toContain('cfs build [')
    expect(out).not.toContain('\x1b[K')
    // the pty turns each \n into \r\n; no other \r is written
    expect(out.replace(/\r\n/g, '\n')).not.toContain('\r')
    expect(out).toMatch(/^cfs build: \d+ files, [^\n]+ in [\d.]+ s \([^)]+\)\r\n/)
  })
})
