import * as fs from 'node:fs'
import { readMountTable } from '@cfs/kernel-mount'
import { runProcess } from './run-process.js'

/** Mount points at or under `dir` (realpath), deepest first. */
export function mountsUnder (dir: string): string[] {
  const prefix = dir.replace(/\/+$/, '') + '/'
  return readMountTable().map(e => e.mountPoint)
    .filter(m => m === dir || m.startsWith(prefix))
    .sort((a, b) => b.length - a.length)
}

/** Loop devices whose backing file is at or under `dir`, e.g. `/dev/loop3`. */
export function loopDevicesUnder (dir: string): string[] {
  const prefix = dir.replace(/\/+$/, '') + '/'
  const found: string[] = []
  let names: string[] = []
  try { names = fs.readdirSync('/sys/block').filter(n => n.startsWith('loop')) } catch { return found }
  for (const name of names) {
    let backing: string
    try { backing = fs.readFileSync(`/sys/block/${name}/loop/backing_file`, 'latin1').trim() } catch { continue }
    if (backing.startsWith(prefix)) found.push(`/dev/${name}`)
  }
  return found
}

/**
 * The last line of defence after every undo action has run: lazily unmounts anything still mounted under `dir`
 * and detaches loop devices backed by files under it. Returns what it had to remove.
 */
export async function removeLeftovers (dir: string): Promise<string[]> {
  const removed: string[] = []
  for (const m of mountsUnder(dir)) {
    await runProcess('umount', ['-l', m])
    removed.push(`mount ${m}`)
  }
  for (const dev of loopDevicesUnder(dir)) {
    await runProcess('losetup', ['-d', dev])
    removed.push(`loop device ${dev}`)
  }
  return removed
}
