import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { commands } from '../src/commands/index.js'
import { run } from '../src/run.js'
import { captureIo } from './capture-io.js'

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../bin/cfs.js')
const NAMES = commands.map(e => e.command.split(' ')[0]!)

async function cfs (...argv: string[]): Promise<{ code: number, out: string }> {
  const c = captureIo()
  try {
    const code = await run(argv, c.io)
    await new Promise(resolve => setImmediate(resolve))
    return { code, out: c.out() }
  } finally { c.cleanup() }
}

describe('cfs completion', () => {
  it('prints a bash script that asks cfs for completions', async () => {
    const r = await cfs('completion')
    expect(r.code).toBe(0)
    expect(r.out).toContain('complete -o default -o bashdefault -F _cfs_complete cfs')
    expect(r.out).toContain('cfs --get-yargs-completions')
  })

  it('answers --get-yargs-completions with every command name, and with the options of a command', async () => {
    const top = await cfs('--get-yargs-completions', 'cfs', '')
    expect(top.code).toBe(0)
    expect(top.out.trim().split('\n')).toEqual(NAMES)
    const verify = (await cfs('--get-yargs-completions', 'cfs', 'verify', '--')).out.split('\n')
    expect(verify).toEqual(expect.arrayContaining(['--expect', '--rehash', '--store', '--jobs', '--json', '--quiet']))
    expect(verify).not.toContain('--output')
  })

  it('completes in a real bash: a partial command, then an option of it', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-'))
    try {
      // `cfs` on PATH, as the script calls it
      fs.writeFileSync(path.join(tmp, 'cfs'), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} "$@"\n`, { mode: 0o755 })
      const script = execFileSync(path.join(tmp, 'cfs'), ['completion'], { encoding: 'utf8' })
      fs.writeFileSync(path.join(tmp, 'cfs.bash'), script)
      const complete = (...words: string[]): string[] => execFileSync('bash', ['-c',
        `source ${tmp}/cfs.bash; COMP_WORDS=(${words.map(w => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _cfs_complete; printf '%s\\n' "\${COMPREPLY[@]}"`],
      { encoding: 'utf8', env: { ...process.env, PATH: `${tmp}:${process.env.PATH ?? ''}` } }).trim().split('\n').sort()
      expect(complete('cfs', 've')).toEqual(['verify'])
      expect(complete('cfs', 'e')).toEqual(['export-erofs'])
      expect(complete('cfs', 'verify', '--re')).toEqual(['--rehash'])
    } finally { fs.rmSync(tmp, { recursive: true, force: true }) }
  })
})
