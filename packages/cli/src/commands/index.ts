import type { CommandSpec } from '../command.js'
import { buildCommand } from './build.js'
import { catCommand } from './cat.js'
import { dumpCommand } from './dump.js'
import { inspectCommand } from './inspect.js'
import { lsCommand } from './ls.js'

/** Every command `cfs` offers, in the order `--help` lists them. */
export const commands: CommandSpec[] = [
  buildCommand,
  dumpCommand,
  inspectCommand,
  lsCommand,
  catCommand,
]
