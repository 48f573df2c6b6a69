import type { CommandSpec } from '../command.js'
import { diffCommand } from './diff.js'

/** Every command `cfs` offers, in the order `--help` lists them. */
export const commands: CommandSpec[] = [
  diffCommand,
]
