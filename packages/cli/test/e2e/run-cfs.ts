import { execFile, type ExecFileOptions } from 'node:child_process'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

/** The cfs binary as users run it: bin/cfs.js over the built dist/. */
export const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/cfs.js')
const exec = promisify(execFile)

export interface Ran { code: number, stdout: string, stderr: string }

/** Runs cfs in its own process; a non-zero exit is a result to assert on, not a throw. */
export async function runCfs (args: string[], opts: ExecFileOptions = {}): Promise<Ran> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [BIN, ...args], { ...opts, encoding: 'utf8' })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code: number, stdout: string, stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}
