import { execFile } from 'node:child_process'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { promisify } from 'node:util'
import { fixturePath } from '@cfs/fixtures'
import { runCfs, type Ran } from './run-cfs.js'

const exec = promisify(execFile)

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find(p => fs.existsSync(p))
if (CHROMIUM === undefined) console.log('html-report: no chromium (apt-get install chromium): pages are written but not loaded in a browser')

/** the hostile names: with its parent `x<`, the second reads `/x</script><img …>` in a path */
const HOSTILE_DIR = 'x<'
const HOSTILE_FILE = 'script><img src=x onerror="document.title=\'pwned\'">'

let dir: string
const cfs = async (...args: string[]): Promise<Ran> => await runCfs(args, { cwd: dir, env: { ...process.env, CFS_STORE: path.join(dir, 'store') } })

/** Loads a page in headless Chromium: its DOM after the scripts ran, and a 1200×900 screenshot. */
async function load (page: string, name: string): Promise<{ dom: string, png: Buffer }> {
  const png = path.join(dir, `${name}.png`)
  const { stdout } = await exec(CHROMIUM!, [
    '--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', `--user-data-dir=${path.join(dir, `chromium-${name}`)}`,
    `--screenshot=${png}`, '--window-size=1200,900', '--dump-dom', 'file://' + page,
  ], { maxBuffer: 64 << 20, timeout: 60000 })
  return { dom: stdout, png: fs.readFileSync(png) }
}

/** What every page must show once loaded: drawn, no script error, a real screenshot. */
function expectRendered ({ dom, png }: { dom: string, png: Buffer }): void {
  expect(dom).toContain('data-rendered="yes"')
  expect(dom).not.toMatch(/<html[^>]*data-errors=/)
  expect(dom).toContain('<pre id="cfs-errors"></pre>')
  expect(png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true)
  expect(png.readUInt32BE(16)).toBe(1200) // IHDR width
  expect(png.readUInt32BE(20)).toBe(900)
  expect(png.length).toBeGreaterThan(20000) // a blank 1200×900 PNG is a few KB
}

/** A page may load nothing from the network: no URL anywhere in it. */
function expectOffline (html: string): void {
  expect(html).not.toMatch(/https?:\/\//)
  expect(html).toContain('Content-Security-Policy')
}

beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-')) })
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

describe('--html pages in headless Chromium', () => {
  it('leaves the store sections out without a default store, and refuses a missing --store', async () => {
    expect((await cfs('build', fixturePath('images/layer.tar'), '-o', 'layer.cfsm', '--store', path.join(dir, 'other-store'))).code).toBe(0)
    const r = await cfs('inspect', 'layer.cfsm', '--html', 'no-store.html')
    expect(r).toMatchObject({ code: 0, stderr: '' })
    expect(r.stdout).toContain(`html report:     ${path.join(dir, 'no-store.html')}`)
    const page = fs.readFileSync(path.join(dir, 'no-store.html'), 'utf8')
    expect(page).toContain(`No cfs store at ${path.join(dir, 'store')}`)
    expect(page).toContain('No layer record')
    const missing = await cfs('inspect', 'layer.cfsm', '--html', 'x.html', '--store', path.join(dir, 'nonexistent'))
    expect(missing.code).toBe(4)
    expect(missing.stderr).toMatch(/\[ERR_CFS_FILE_NOT_FOUND\]/)
    expect(fs.existsSync(path.join(dir, 'x.html'))).toBe(false)
    const kept = await cfs('inspect', 'layer.cfsm', '--html', 'kept.html', '--store', path.join(dir, 'other-store'))
    expect(kept.code).toBe(0)
    expect(fs.readFileSync(path.join(dir, 'kept.html'), 'utf8')).toContain('Dedup per layer</h2>\n<p class="note">Recorded')
  })


  it('inspect --html and diff --html write self-contained pages that load without errors', async () => {
    const store = path.join(dir, 'store')
    expect((await cfs('build', fixturePath('images/layer.tar'), '-o', 'a.cfsm', '--store', store)).code).toBe(0)
    expect((await cfs('build', fixturePath('images/docker-archive.tar'), '-o', 'b.cfsm', '--store', store)).code).toBe(0)
    const rootfs = path.join(dir, 'rootfs')
    fs.mkdirSync(path.join(rootfs, HOSTILE_DIR), { recursive: true })
    fs.writeFileSync(path.join(rootfs, HOSTILE_DIR, HOSTILE_FILE), Buffer.alloc(3000, 1))
    fs.writeFileSync(Buffer.concat([Buffer.from(rootfs + '/'), Buffer.from('caf\xc3\xa9\xff', 'latin1')]), 'x') // not UTF-8

    const inspect = await cfs('inspect', 'b.cfsm', '--html', 'image.html', '--store', store, '--json')
    expect(inspect).toMatchObject({ code: 0, stderr: '' })
    expect(JSON.parse(inspect.stdout).html).toBe(path.join(dir, 'image.html'))
    const diff = await cfs('diff', 'a.cfsm', 'b.cfsm', '--html', 'diff.html')
    expect(diff.code).toBe(6)
    const hostile = await cfs('diff', 'b.cfsm', rootfs, '--store', store, '--html', 'hostile.html', '--quiet')
    expect(hostile).toEqual({ code: 6, stdout: '', stderr: '' })

    const pages = ['image', 'diff', 'hostile'].map(n => path.join(dir, `${n}.html`))
    for (const p of pages) expectOffline(fs.readFileSync(p, 'utf8'))
    const image = fs.readFileSync(pages[0]!, 'utf8')
    const hex = crypto.createHash('sha256').update(fs.readFileSync(path.join(dir, 'b.cfsm'))).digest('hex')
    const record = JSON.parse(fs.readFileSync(path.join(store, 'images', `${hex}.layers.json`), 'utf8')) as { layers: Array<{ name: string, files: number }> }
    expect(record.layers).toHaveLength(2)
    for (const l of record.layers) expect(image).toContain(`>${l.name}</td><td class="num">`)
    expect(image).toMatch(/shared with other kept images<\/td><td class="num">[1-9]/)
    if (CHROMIUM === undefined) return

    const [img, dif, bad] = await Promise.all([load(pages[0]!, 'image'), load(pages[1]!, 'diff'), load(pages[2]!, 'hostile')])
    for (const r of [img, dif, bad]) expectRendered(r)
    // the treemaps were drawn by the script: one rect per entry with bytes (and more for nested levels)
    expect((img.dom.match(/<rect /g) ?? []).length).toBeGreaterThanOrEqual(8)
    expect(img.dom).toContain('data-name="b-link"')
    expect((dif.dom.match(/<rect /g) ?? []).length).toBeGreaterThanOrEqual(3)
    expect(dif.dom).toContain('class="k kA"')
    // the hostile names are text in the tree and the treemap, never markup
    expect(bad.dom).not.toMatch(/<img/i)
    expect(bad.dom).not.toContain('pwned</title>')
    expect(bad.dom).toContain('script&gt;&lt;img src=x onerror="document.title=\'pwned\'"&gt;</span>')
    expect(bad.dom).toContain('café\\xff')
  })
})
