import { execFile } from 'node:child_process'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/cfs.js')
const exec = promisify(execFile)

async function cfs (...args: string[]): Promise<{ code: number, stdout: string, stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [BIN, ...args])
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code: number, stdout: string, stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}

describe('cfs binary', () => {
  it('prints its version', async () => {
    const r = await cfs('--version')
    expect(r.code).toBe(0)
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/)
  })

  it('prints help with exit 0', async () => {
    const r = await cfs('--help')
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('Usage: cfs <command>')
  })

  it('rejects an unknown option with the usage exit code and one line on stderr', async () => {
    const r = await cfs('--no-such-flag')
    expect(r.code).toBe(2)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toContain('ERR_CFS_USAGE')
  })
})
