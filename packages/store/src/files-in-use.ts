/**
 * Which files the kernel holds as the backing of a mount: the backing file of every attached loop device
 * (`/sys/block/loopN/loop/backing_file`) and the source of every mount in /proc/self/mountinfo (a file-backed
 * EROFS mount names its image there). gc asks this before removing a cached composefs image, so it never pulls
 * one out from under a mount. The loop device outlives the EROFS helper mount, which is detached right after
 * mounting, so the loop table is the check that matters.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'

const SYS_BLOCK = '/sys/block'
const DELETED_SUFFIX = ' (deleted)'

function unescapeOctal (s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)))
}

/** Absolute paths of files backing loop devices or named as a mount's source, as the kernel prints them. */
export function filesInUse (): Set<string> {
  const out = new Set<string>()
  let devices: string[] = []
  try { devices = fs.readdirSync(SYS_BLOCK).filter(d => d.startsWith('loop')) } catch { /* no sysfs: nothing known */ }
  for (const dev of devices) {
    let file: string
    try { file = fs.readFileSync(path.join(SYS_BLOCK, dev, 'loop', 'backing_file'), 'latin1').replace(/\n$/, '') } catch { continue }
    out.add(file.endsWith(DELETED_SUFFIX) ? file.slice(0, -DELETED_SUFFIX.length) : file)
  }
  let table = ''
  try { table = fs.readFileSync('/proc/self/mountinfo', 'latin1') } catch { /* not Linux */ }
  for (const line of table.split('\n')) {
    const f = line.split(' ')
    const sep = f.indexOf('-', 6)
    const source = sep < 0 ? undefined : f[sep + 2]
    if (source?.startsWith('/') === true) out.add(unescapeOctal(source))
  }
  return out
}
