import type { CommandContext } from './command.js'

/** Version of the JSON warning line printed on stderr with --json (docs/cli.md). */
export const WARNING_SCHEMA = 'cfs.warning/1'

/**
 * Something the user should know that does not fail the command: one line on stderr, `cfs: warning: <message>`,
 * or with --json one `cfs.warning/1` object, so that every stderr line of a --json run is JSON.
 */
export function warn (ctx: CommandContext, message: string): void {
  ctx.io.stderr.write(ctx.json ? JSON.stringify({ schema: WARNING_SCHEMA, warning: { message } }) + '\n' : `cfs: warning: ${message}\n`)
}
