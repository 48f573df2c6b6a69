import type { Argv } from 'yargs'
import type { CfsError } from '@cfs/errors'
import type { Io } from './io.js'

export interface CommandContext {
  io: Io
  /** --json: print `CommandResult.json` instead of `text` */
  json: boolean
  /** --quiet: no progress bar or summary line on stderr */
  quiet: boolean
  debug: boolean
}

/** What a handler gives back; `run` prints it and turns it into the exit status. */
export interface CommandResult {
  exitCode?: number
  /** printed (with a trailing newline) when --json is not given */
  text?: string
  /** printed as JSON when --json is given */
  json?: unknown
  /**
   * a failure found after the command did its work (verify's bad objects): printed on stderr like a thrown error
   * (one line, or a `cfs.error/1` object with --json) while the result still goes to stdout; its exit code is the
   * default for `exitCode`
   */
  error?: CfsError
}

/** One subcommand. Only finished commands are registered in commands/index.ts, so `--help` lists what works. */
export interface CommandSpec {
  command: string
  describe: string
  builder: (y: Argv) => Argv
  examples: Array<[string, string]>
  handler: (args: Record<string, unknown>, ctx: CommandContext) => Promise<CommandResult | void>
}
