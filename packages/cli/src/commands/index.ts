import type { CommandSpec } from '../command.js'
import { buildCommand } from './build.js'
import { diffCommand } from './diff.js'
import { dumpCommand } from './dump.js'
import { exportErofsCommand } from './export-erofs.js'

/** Every command `cfs` offers, in the order `--help` lists them. */
export const commands: CommandSpec[] = [
  buildCommand,
  diffCommand,
  dumpCommand,
  exportErofsCommand,
]
