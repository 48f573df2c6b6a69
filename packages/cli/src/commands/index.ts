import type { CommandSpec } from '../command.js'
import { exportErofsCommand } from './export-erofs.js'

/** Every command `cfs` offers, in the order `--help` lists them. */
export const commands: CommandSpec[] = [
  exportErofsCommand,
]
