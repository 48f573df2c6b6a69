import type { CommandSpec } from '../command.js'
import { buildCommand } from './build.js'

/** Every command `cfs` offers, in the order `--help` lists them. */
export const commands: CommandSpec[] = [
  buildCommand,
]
