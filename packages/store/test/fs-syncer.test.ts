import { execFileSync, spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { FsSyncer } from '../src/fs-syncer.js'

const DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist/fs-syncer.js')

function alive (pid: number): boolean {
  try { process.kill(pid, 0); return true } catch { return false }
}

async function gone (pid: number): Promise<boolean> {
  for (let i = 0; i < 200 && alive(pid); i++) await new Promise(resolve => setTimeout(resolve, 10))
  return !alive(pid)
}

describe('FsSyncer', () => {
  let dir: string
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-')) })
  afterEach(() => { fs.rmSync(dir, { recursive: true, force: true }) })

  it('answers every flush, one after the other and several at once, and its shell exits on close', async () => {
    const s = new FsSyncer(dir)
    await s.sync()
    await s.sync()
    await Promise.all([s.sync(), s.sync(), s.sync()])
    const pid = s.pid!
    expect(alive(pid)).toBe(true)
    await s.close()
    expect(await gone(pid)).toBe(true)
    await expect(s.sync()).rejects.toMatchObject({ code: 'ERR_CFS_IO' })
  })

  it('reports what sync -f said when the flush fails', async () => {
    const s = new FsSyncer(path.join(dir, 'missing'))
    try {
      await expect(s.sync()).rejects.toMatchObject({ code: 'ERR_CFS_IO', message: expect.stringMatching(/cannot flush .*missing.*No such file/) })
      fs.mkdirSync(path.join(dir, 'missing'))
      await s.sync()
    } finally { await s.close() }
  })

  it('holds its owner while a flush or close is awaited, and never when idle', async () => {
    const run = (body: string): string => execFileSync(process.execPath, ['--input-type=module', '-e',
      `const { FsSyncer } = await import(${JSON.stringify(DIST)}); const s = new FsSyncer(${JSON.stringify(dir)}); ${body}`], { encoding: 'utf8', timeout: 20_000 })
    // a top-level await the event loop gave up on would exit with 13, which execFileSync throws
    expect(run('await s.sync(); console.log(1); await s.sync(); await s.close(); console.log(2)')).toBe('1\n2\n')
    // never closed: the owner still exits, and the shell with it (its stdin closes)
    const pid = Number(run('await s.sync(); console.log(s.pid)'))
    expect(await gone(pid)).toBe(true)
  })

  it('does not outlive its owner when the owner is killed', async () => {
    execFileSync('test', ['-f', DIST])
    const code = `const { FsSyncer } = await import(${JSON.stringify(DIST)}); const s = new FsSyncer(${JSON.stringify(dir)}); await s.sync(); console.log(s.pid); setInterval(() => {}, 1000)`
    const owner = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] })
    const pid = await new Promise<number>((resolve, reject) => {
      owner.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())))
      owner.once('exit', () => reject(new Error('owner exited early')))
    })
    expect(alive(pid)).toBe(true)
    owner.kill('SIGKILL')
    expect(await gone(pid)).toBe(true)
  })
})
