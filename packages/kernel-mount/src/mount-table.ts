/**
 * Reads /proc/self/mountinfo (proc(5)): one line per mount, `ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [TAGS…] - FSTYPE
 * SOURCE SUPEROPTS`. The kernel escapes space, tab, newline and backslash in paths as `\ooo` octal.
 */
import * as fs from 'node:fs'

export interface MountEntry {
  mountId: number
  mountPoint: string
  fsType: string
  source: string
  /** per-superblock options, e.g. overlay's `lowerdir=…` */
  superOptions: string
}

/** `composefs` is the source name mount.composefs gives its overlay; cfs uses the same, so either can unmount. */
export const COMPOSEFS_SOURCE = 'composefs'

function unescapeOctal (s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)))
}

/** Parses mountinfo text; lines that do not have the documented shape are skipped. */
export function parseMountInfo (text: string): MountEntry[] {
  const entries: MountEntry[] = []
  for (const line of text.split('\n')) {
    const f = line.split(' ')
    const sep = f.indexOf('-', 6)
    if (sep < 0 || f.length < sep + 4) continue
    entries.push({
      mountId: Number(f[0]),
      mountPoint: unescapeOctal(f[4]!),
      fsType: f[sep + 1]!,
      source: unescapeOctal(f[sep + 2]!),
      superOptions: f.slice(sep + 3).join(' '),
    })
  }
  return entries
}

export function readMountTable (): MountEntry[] {
  return parseMountInfo(fs.readFileSync('/proc/self/mountinfo', 'latin1'))
}

/** The topmost mount at exactly `dir` (already resolved with realpath), or undefined. */
export function topMountAt (dir: string, table: MountEntry[] = readMountTable()): MountEntry | undefined {
  let top: MountEntry | undefined
  for (const e of table) if (e.mountPoint === dir) top = e // later lines are mounted on top of earlier ones
  return top
}

function realpathOrUndefined (p: string): string | undefined {
  try { return fs.realpathSync(p) } catch { return undefined }
}

/** True when the topmost mount at `mountpoint` is a composefs overlay (fstype overlay, source `composefs`). */
export function isKernelMount (mountpoint: string): boolean {
  const dir = realpathOrUndefined(mountpoint)
  if (dir === undefined) return false
  const top = topMountAt(dir)
  return top !== undefined && top.fsType === 'overlay' && top.source === COMPOSEFS_SOURCE
}

/** Value of `key=` in a comma-separated option string (overlay escapes commas in values as `\,`). */
export function optionValue (options: string, key: string): string | undefined {
  for (const opt of options.split(/(?<!\\),/)) {
    if (opt.startsWith(key + '=')) return opt.slice(key.length + 1).replace(/\\(.)/g, '$1')
  }
  return undefined
}
