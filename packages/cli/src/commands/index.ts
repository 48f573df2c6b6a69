import type { CommandSpec } from '../command.js'
import { catCommand } from './cat.js'
import { inspectCommand } from './inspect.js'
import { lsCommand } from './ls.js'

/** Every command `cfs` offers, in the order `--help` lists them. */
export const commands: CommandSpec[] = [
  inspectCommand,
  lsCommand,
  catCommand,
]
