import * as fs from 'node:fs'

export interface MountEntry {
  /** absolute path of the mount point */
  target: string
  /** filesystem type, e.g. `fuse.cfs` */
  fstype: string
  source: string
}

/** `\040` style escapes of /proc/self/mountinfo */
export function unescapeMountField (s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)))
}

/** Every mount visible to this process, from /proc/self/mountinfo (the last entry of a path is on top). */
export function readMountTable (): MountEntry[] {
  const text = fs.readFileSync('/proc/self/mountinfo', 'latin1')
  const entries: MountEntry[] = []
  for (const line of text.split('\n')) {
    if (line === '') continue
    const fields = line.split(' ')
    const sep = fields.indexOf('-')
    if (sep < 0 || fields[4] === undefined) continue
    entries.push({ target: unescapeMountField(fields[4]), fstype: fields[sep + 1] ?? '', source: unescapeMountField(fields[sep + 2] ?? '') })
  }
  return entries
}

/** The topmost mount at exactly `target` (an absolute, resolved path), or undefined. */
export function findMount (target: string): MountEntry | undefined {
  let found: MountEntry | undefined
  for (const e of readMountTable()) if (e.target === target) found = e
  return found
}
