/**
 * The only place where errors become exit statuses and text: handlers return results or throw, `run` prints.
 * A CfsError prints as one line on stderr (what, where, what to do, and its code), or with --json as one line of
 * JSON (`cfs.error/1`); anything else is a bug and exits 1. `--debug` adds the stack and the cause chain.
 */
import { createRequire } from 'node:module'
import yargs from 'yargs'
import { CfsError, ExitCode } from '@cfs/errors'
import type { CommandContext, CommandResult } from './command.js'
import { commands } from './commands/index.js'
import type { Io } from './io.js'
import { COMPLETIONS_FLAG } from './commands/completion.js'

const require = createRequire(import.meta.url)
const VERSION = (require('../package.json') as { version: string }).version

/** Version of the JSON error object printed on stderr with --json (docs/cli.md). */
export const ERROR_SCHEMA = 'cfs.error/1'
/** Version of `cfs --version --json`. */
export const VERSION_SCHEMA = 'cfs.version/1'

// yargs answers --get-yargs-completions only once .completion() named a command for its own script; that command
// gets a name nobody types, since `cfs completion` (commands/completion.ts) prints cfs's script
const COMPLETION_HOOK = '__yargs-completion'

const flag = (argv: string[], name: string): boolean => argv.includes(`--${name}`) || argv.includes(`--${name}=true`)

export async function run (argv: string[], io: Io): Promise<number> {
  const debug = flag(argv, 'debug')
  const json = flag(argv, 'json')
  let result: CommandResult | void = undefined
  let helpShown = false
  try {
    let y = yargs(argv)
      .scriptName('cfs')
      .usage('cfs: build, verify, diff and mount composefs images\n\nUsage: cfs <command> [options]')
      .option('json', { type: 'boolean', default: false, describe: 'print machine-readable JSON on stdout (and errors as JSON on stderr)' })
      .option('quiet', { alias: 'q', type: 'boolean', describe: 'no progress bar or summary line on stderr' })
      .option('debug', { type: 'boolean', default: false, describe: 'show stack traces and error causes' })
      .version(VERSION)
      .help()
      .alias('h', 'help')
      .strict()
      .recommendCommands()
      .demandCommand(1, 'give a command; see cfs --help')
      .wrap(null)
      .exitProcess(false)
      // answers the completion script's `cfs --get-yargs-completions …`; `cfs completion` prints that script
      .completion(COMPLETION_HOOK, false)
      .fail((msg, err) => {
        if (err !== undefined && err !== null) throw err
        throw new CfsError('ERR_CFS_USAGE', msg, { hint: 'see cfs --help' })
      })
    // only the command being run is loaded; the others need no more than their name and line for --help
    const completing = argv[0] === `--${COMPLETIONS_FLAG}`
    const name = (completing ? argv.slice(2) : argv).find((a) => !a.startsWith('-'))
    for (const entry of commands) {
      if (entry.command.split(' ')[0] !== name) { y = y.command(entry.command, entry.describe, (sub) => sub, async () => {}); continue }
      const spec = await entry.load()
      y = y.command(spec.command, spec.describe, (sub) => {
        let b = spec.builder(sub)
        for (const [cmd, what] of spec.examples) b = b.example(cmd, what)
        return b
      }, async (args) => {
        const ctx: CommandContext = { io, json: args.json === true, quiet: args.quiet === true, debug }
        result = await spec.handler(args as Record<string, unknown>, ctx)
      })
    }
    let helpText = ''
    await y.parseAsync(argv, {}, (err, _parsed, output) => {
      if (err === null || err === undefined) helpText = output
    })
    if (helpText !== '') {
      // --version --json: the version as a document, like every other --json output
      const versionOnly = flag(argv, 'version') && !flag(argv, 'help') && !argv.includes('-h')
      io.stdout.write(json && versionOnly ? JSON.stringify({ schema: VERSION_SCHEMA, version: VERSION }, null, 2) + '\n' : helpText + '\n')
      helpShown = true
    }
  } catch (err) {
    return report(err, io, debug, json)
  }
  if (helpShown || result === undefined) return ExitCode.OK
  const r = result as CommandResult
  if (r.error !== undefined) report(r.error, io, debug, json)
  if (json && r.json !== undefined) io.stdout.write(JSON.stringify(r.json, null, 2) + '\n')
  else if (r.text !== undefined && r.text !== '') io.stdout.write(r.text.endsWith('\n') ? r.text : r.text + '\n')
  return r.exitCode ?? r.error?.exitCode ?? ExitCode.OK
}

/**
 * The one-line form of an error: `cfs: <message>; <hint> [ERR_CFS_…]`, or with `json` the `cfs.error/1` object.
 * Anything but a CfsError is a bug: ERR_CFS_INTERNAL, exit 1.
 */
export function formatError (err: unknown, json: boolean): string {
  const e = err instanceof CfsError
    ? { code: err.code, exit: err.exitCode, message: err.message, ...(err.hint !== undefined ? { hint: err.hint } : {}) }
    : { code: 'ERR_CFS_INTERNAL', exit: ExitCode.INTERNAL, message: `internal error: ${(err as Error)?.message ?? String(err)}`, hint: 'this is a bug, please report it with --debug output' }
  if (json) return JSON.stringify({ schema: ERROR_SCHEMA, error: e }) + '\n'
  return err instanceof CfsError
    ? `cfs: ${e.message}${e.hint === undefined ? '' : `; ${e.hint}`} [${e.code}]\n`
    : `cfs: ${e.message}; ${e.hint!}\n`
}

function report (err: unknown, io: Io, debug: boolean, json: boolean): number {
  io.stderr.write(formatError(err, json))
  if (debug) io.stderr.write(describeDebug(err))
  return err instanceof CfsError ? err.exitCode : ExitCode.INTERNAL
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
