import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { PassThrough } from 'node:stream'
import { fixturePath } from '@cfs/fixtures'
import { run } from '../src/run.js'
import type { Io } from '../src/io.js'

function capture (tty: boolean): { io: Io, out: () => string, err: () => string, tmp: string } {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-'))
  let out = ''
  let err = ''
  const stdout = Object.assign(new PassThrough(), { isTTY: false })
  const stderr = Object.assign(new PassThrough(), { isTTY: tty })
  stdout.on('data', (d: Buffer) => { out += d.toString() })
  stderr.on('data', (d: Buffer) => { err += d.toString() })
  return { io: { stdout, stderr, stdin: new PassThrough(), env: { CFS_STORE: path.join(tmp, 's') }, cwd: tmp }, out: () => out, err: () => err, tmp }
}

describe('cfs build progress', () => {
  it.each([[true, true], [false, false]])('draws a progress line on stderr only when it is a TTY (tty=%s)', async (tty, shown) => {
    const c = capture(tty)
    try {
      const code = await run(['build', fixturePath('images/oci-archive.tar'), '-o', 'x.cfsm'], c.io)
      expect(code).toBe(0)
      expect(c.out()).toMatch(/^sha256:[0-9a-f]{64}\n$/)
      expect(c.err().includes('\rcfs build:')).toBe(shown)
    } finally { fs.rmSync(c.tmp, { recursive: true, force: true }) }
  })
})
