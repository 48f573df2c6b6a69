/** How the inspection commands (ls, inspect, cat) show and find entries of a decoded tree. */
import { CfsError } from '@cfs/errors'
import { byteStringOfText, findChild, isDir, isSymlink, S_IFMT, S_IFDIR, S_IFLNK, S_IFREG, S_IFCHR, S_IFBLK, S_IFIFO, S_IFSOCK, type Manifest, type Node } from '@cfs/manifest'

const TYPE_CHAR: Record<number, string> = { [S_IFDIR]: 'd', [S_IFLNK]: 'l', [S_IFREG]: '-', [S_IFCHR]: 'c', [S_IFBLK]: 'b', [S_IFIFO]: 'p', [S_IFSOCK]: 's' }

/** `drwxr-xr-x`, with setuid/setgid/sticky as s/S and t/T, as ls -l prints it. */
export function modeString (mode: number): string {
  const bit = (m: number, c: string): string => (mode & m) !== 0 ? c : '-'
  const special = (x: number, special: number, lower: string): string => {
    const on = (mode & special) !== 0
    if ((mode & x) !== 0) return on ? lower : 'x'
    return on ? lower.toUpperCase() : '-'
  }
  return (TYPE_CHAR[mode & S_IFMT] ?? '?') +
    bit(0o400, 'r') + bit(0o200, 'w') + special(0o100, 0o4000, 's') +
    bit(0o040, 'r') + bit(0o020, 'w') + special(0o010, 0o2000, 's') +
    bit(0o004, 'r') + bit(0o002, 'w') + special(0o001, 0o1000, 't')
}

/** Linux new_encode_dev → [major, minor]. */
export function splitDev (rdev: number): [number, number] {
  return [(rdev & 0xfff00) >>> 8, (rdev & 0xff) | ((rdev >>> 12) & 0xfff00)]
}

/** UTC `YYYY-MM-DD HH:MM:SS`, or the raw seconds when out of Date's range. */
export function formatTime (sec: number): string {
  const d = new Date(sec * 1000)
  return Number.isNaN(d.getTime()) ? String(sec) : d.toISOString().slice(0, 19).replace('T', ' ')
}

export interface Resolved { node: Node, path: string, parent: Node | undefined }

const SYMLINK_HOPS = 40

/**
 * Finds the node at `text` (a path typed by the user, UTF-8). With `follow`, symlinks along the way and at the
 * end are followed inside the image (absolute targets start at its root), at most 40 times, as the kernel does.
 * Throws ERR_CFS_PATH_NOT_FOUND naming the path.
 */
export function resolvePath (manifest: Manifest, text: string, follow: boolean): Resolved {
  const notFound = (why: string): never => { throw new CfsError('ERR_CFS_PATH_NOT_FOUND', `${text}: ${why}`) }
  let pending = byteStringOfText(text).split('/').filter(p => p !== '' && p !== '.')
  const stack: Node[] = [manifest.root]
  const names: string[] = []
  let hops = 0
  while (pending.length > 0) {
    const part = pending.shift()!
    if (part === '..') { if (stack.length > 1) { stack.pop(); names.pop() } continue }
    const dir = stack[stack.length - 1]!
    if (dir.children === undefined) notFound(`/${names.join('/')} is not a directory`)
    const i = findChild(dir.children!, part)
    if (i < 0) notFound('no such file or directory in the image')
    const node = dir.children![i]!
    if (isSymlink(node.inode) && (follow || pending.length > 0)) {
      if (++hops > SYMLINK_HOPS) notFound('too many levels of symbolic links')
      const target = node.inode.target ?? ''
      if (target.startsWith('/')) { stack.length = 1; names.length = 0 }
      pending = [...target.split('/').filter(p => p !== '' && p !== '.'), ...pending]
      continue
    }
    stack.push(node)
    names.push(part)
  }
  return { node: stack[stack.length - 1]!, path: '/' + names.join('/'), parent: stack.length > 1 ? stack[stack.length - 2] : undefined }
}

export function isDirNode (node: Node): boolean { return isDir(node.inode) }
