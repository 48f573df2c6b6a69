/**
 * The HTML page of a real report loads in headless Chromium without script errors, draws one bar per figure, and
 * a screenshot is written. Chromium must run as root with --no-sandbox; the test says why when it skips.
 */
import { execFile } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { promisify } from 'node:util'
import { fixturePath } from '@cfs/fixtures'
import { benchImages } from '../src/bench-images.js'
import { renderHtml } from '../src/render-html.js'

const CHROMIUM = '/usr/bin/chromium'
const skip = !fs.existsSync(CHROMIUM) ? `no ${CHROMIUM}` : undefined
if (skip !== undefined) console.log(`render-html: Chromium test skipped: ${skip}`)
const chromiumIt = skip === undefined ? it : it.skip

describe('renderHtml', () => {
  let dir: string
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-')) })
  afterEach(() => { fs.rmSync(dir, { recursive: true, force: true }) })

  chromiumIt('renders in headless Chromium without script errors and draws every figure', async () => {
    const report = await benchImages({ inputs: [fixturePath('images/layer.tar.gz')], runs: 2, only: ['symlinks'], tmpDir: dir })
    // a hostile input name must stay text
    report.images[0]!.input = '</script><script>throw new Error("injected")</script>'
    const page = path.join(dir, 'bench.html')
    fs.writeFileSync(page, renderHtml(report))
    const shot = path.join(dir, 'shot.png')
    const { stderr } = await promisify(execFile)(CHROMIUM, [
      '--headless=new', '--no-sandbox', '--disable-gpu', '--enable-logging=stderr', '--v=0', `--user-data-dir=${path.join(dir, 'profile')}`,
      '--window-size=1200,1200', `--screenshot=${shot}`, `file://${page}`,
    ], { timeout: 60_000 })
    const consoleLines = stderr.split('\n').filter(l => l.includes(':CONSOLE'))
    expect(consoleLines.filter(l => /Uncaught|Error/.test(l))).toEqual([])
    // symlinks has prepare, cold and warm figures and a disk bar (no mount)
    expect(consoleLines.some(l => l.includes('"cfs-bench: drew 4 bars"'))).toBe(true)
    const png = fs.readFileSync(shot)
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG')
    expect(png.length).toBeGreaterThan(5000)
  })
})
