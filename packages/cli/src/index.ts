export { run, formatError, ERROR_SCHEMA } from './run.js'
export { processIo } from './io.js'
export type { Io } from './io.js'
export type { CommandSpec, CommandContext, CommandResult } from './command.js'
