import * as path from 'node:path'
import { runCfs, type Ran } from './run-cfs.js'


const cfs = async (...args: string[]): Promise<Ran> => await runCfs(args)

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
