/**
 * The only place where errors become exit statuses and text: handlers return results or throw, `run` prints.
 * A CfsError prints as one line on stderr (what, where, what to do, and its code); anything else is a bug and
 * exits 1. `--debug` adds the stack and the cause chain.
 */
import { createRequire } from 'node:module'
import yargs from 'yargs'
import { CfsError, ExitCode } from '@cfs/errors'
import type { CommandContext, CommandResult } from './command.js'
import { commands } from './commands/index.js'
import type { Io } from './io.js'

const require = createRequire(import.meta.url)
const VERSION = (require('../package.json') as { version: string }).version

export async function run (argv: string[], io: Io): Promise<number> {
  const debug = argv.includes('--debug')
  let result: CommandResult | void = undefined
  let helpShown = false
  try {
    let y = yargs(argv)
      .scriptName('cfs')
      .usage('cfs: build, verify, diff and mount composefs images\n\nUsage: cfs <command> [options]')
      .option('json', { type: 'boolean', default: false, describe: 'print machine-readable JSON on stdout' })
      .option('debug', { type: 'boolean', default: false, describe: 'show stack traces and error causes' })
      .version(VERSION)
      .help()
      .alias('h', 'help')
      .strict()
      .recommendCommands()
      .demandCommand(1, 'give a command; see cfs --help')
      .wrap(null)
      .exitProcess(false)
      .fail((msg, err) => {
        if (err !== undefined && err !== null) throw err
        throw new CfsError('ERR_CFS_USAGE', msg, { hint: 'see cfs --help' })
      })
    // only the command being run is loaded; the others need no more than their name and line for --help
    const name = argv.find((a) => !a.startsWith('-'))
    for (const entry of commands) {
      if (entry.command.split(' ')[0] !== name) { y = y.command(entry.command, entry.describe, (sub) => sub, async () => {}); continue }
      const spec = await entry.load()
      y = y.command(spec.command, spec.describe, (sub) => {
        let b = spec.builder(sub)
        for (const [cmd, what] of spec.examples) b = b.example(cmd, what)
        return b
      }, async (args) => {
        const ctx: CommandContext = { io, json: args.json === true, debug }
        result = await spec.handler(args as Record<string, unknown>, ctx)
      })
    }
    let helpText = ''
    await y.parseAsync(argv, {}, (err, _parsed, output) => {
      if (err === null || err === undefined) helpText = output
    })
    if (helpText !== '') { io.stdout.write(helpText + '\n'); helpShown = true }
  } catch (err) {
    return report(err, io, debug)
  }
  if (helpShown || result === undefined) return ExitCode.OK
  const r = result as CommandResult
  if (argv.includes('--json') && r.json !== undefined) io.stdout.write(JSON.stringify(r.json, null, 2) + '\n')
  else if (r.text !== undefined && r.text !== '') io.stdout.write(r.text.endsWith('\n') ? r.text : r.text + '\n')
  return r.exitCode ?? ExitCode.OK
}

function report (err: unknown, io: Io, debug: boolean): number {
  if (err instanceof CfsError) {
    const hint = err.hint === undefined ? '' : `; ${err.hint}`
    io.stderr.write(`cfs: ${err.message}${hint} [${err.code}]\n`)
    if (debug) io.stderr.write(describeDebug(err))
    return err.exitCode
  }
  io.stderr.write(`cfs: internal error: ${(err as Error)?.message ?? String(err)}; this is a bug, please report it with --debug output\n`)
  if (debug) io.stderr.write(describeDebug(err))
  return ExitCode.INTERNAL
}

function describeDebug (err: unknown): string {
  let out = ''
  let cur: unknown = err
  for (let depth = 0; cur !== undefined && cur !== null && depth < 8; depth++) {
    out += (depth === 0 ? '' : 'caused by: ') + ((cur as Error).stack ?? String(cur)) + '\n'
    cur = (cur as Error).cause
  }
  return out
}
