/** An in-process Io for tests: captured stdout/stderr, a chosen TTY-ness and environment, a temp dir as cwd. */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { PassThrough } from 'node:stream'
import type { Io } from '../src/io.js'

export interface Captured { io: Io, out: () => string, err: () => string, tmp: string, cleanup: () => void }

export function captureIo (opts: { tty?: boolean, env?: NodeJS.ProcessEnv } = {}): Captured {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-'))
  let out = ''
  let err = ''
  const stdout = Object.assign(new PassThrough(), { isTTY: false })
  const stderr = Object.assign(new PassThrough(), { isTTY: opts.tty === true })
  stdout.on('data', (d: Buffer) => { out += d.toString() })
  stderr.on('data', (d: Buffer) => { err += d.toString() })
  const env = { CFS_STORE: path.join(tmp, 'store'), ...opts.env }
  return {
    io: { stdout, stderr, stdin: new PassThrough(), env, cwd: tmp },
    out: () => out,
    err: () => err,
    tmp,
    cleanup: () => { fs.rmSync(tmp, { recursive: true, force: true }) },
  }
}
