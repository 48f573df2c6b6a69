import type { CommandSpec } from '../command.js'
import { mountCommand } from './mount.js'
import { umountCommand } from './umount.js'

/** Every command `cfs` offers, in the order `--help` lists them. */
export const commands: CommandSpec[] = [
  mountCommand,
  umountCommand,
]
