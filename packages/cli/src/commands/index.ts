import type { CommandSpec } from '../command.js'
import { fsckCommand } from './fsck.js'
import { gcCommand } from './gc.js'
import { imagesCommand } from './images.js'
import { rmCommand } from './rm.js'
import { storeCommand } from './store.js'
import { verifyCommand } from './verify.js'

/** Every command `cfs` offers, in the order `--help` lists them. */
export const commands: CommandSpec[] = [
  verifyCommand,
  imagesCommand,
  rmCommand,
  gcCommand,
  fsckCommand,
  storeCommand,
]
