import type { CommandSpec } from '../command.js'
import { buildCommand } from './build.js'
import { catCommand } from './cat.js'
import { diffCommand } from './diff.js'
import { dumpCommand } from './dump.js'
import { exportErofsCommand } from './export-erofs.js'
import { fsckCommand } from './fsck.js'
import { gcCommand } from './gc.js'
import { imagesCommand } from './images.js'
import { inspectCommand } from './inspect.js'
import { lsCommand } from './ls.js'
import { mountCommand } from './mount.js'
import { rmCommand } from './rm.js'
import { storeCommand } from './store.js'
import { umountCommand } from './umount.js'
import { verifyCommand } from './verify.js'

/** Every command `cfs` offers, in the order `--help` lists them. */
export const commands: CommandSpec[] = [
  buildCommand,
  verifyCommand,
  diffCommand,
  mountCommand,
  umountCommand,
  inspectCommand,
  lsCommand,
  catCommand,
  dumpCommand,
  exportErofsCommand,
  imagesCommand,
  rmCommand,
  gcCommand,
  fsckCommand,
  storeCommand,
]
