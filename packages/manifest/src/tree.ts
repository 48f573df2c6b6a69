/**
 * Operations on the image tree that every consumer needs: canonical ordering, derived directory values, walking
 * and lookup. They work on the model in model.ts and never touch the disk.
 */
import { CfsError } from '@cfs/errors'
import { normalizeHardlinks } from './hardlinks.js'
import { isDir, S_IFDIR, S_IFMT, type Inode, type Manifest, type Node } from './model.js'

/** Byte-order comparison of byte strings (unsigned bytes, a prefix sorts first). */
export function compareBytes (a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

function compareNodes (a: Node, b: Node): number { return compareBytes(a.name, b.name) }
function compareXattrs (a: { key: string }, b: { key: string }): number { return compareBytes(a.key, b.key) }

/**
 * Puts a tree built in any order into canonical form, in place: children and xattrs sorted in byte order,
 * directory nlink = 2 + number of subdirectories, hardlink flags normalized (`normalizeHardlinks`). Throws
 * ERR_CFS_TREE_INVALID on a duplicate name.
 */
export function finalizeTree (manifest: Manifest): Manifest {
  const stack: Node[] = [manifest.root]
  while (stack.length > 0) {
    const node = stack.pop()!
    const inode = node.inode
    if (inode.xattrs.length > 1) inode.xattrs.sort(compareXattrs)
    if (node.children === undefined) continue
    node.children.sort(compareNodes)
    let subdirs = 0
    for (let i = 0; i < node.children.length; i++) {
      const child = node.children[i]!
      if (i > 0 && node.children[i - 1]!.name === child.name) {
        throw new CfsError('ERR_CFS_TREE_INVALID', `duplicate name '${child.name}' in one directory`)
      }
      if (child.children !== undefined) { subdirs++; stack.push(child) } else if (child.inode.xattrs.length > 1) {
        child.inode.xattrs.sort(compareXattrs)
      }
    }
    inode.nlink = 2 + subdirs
    inode.size = 0
  }
  return normalizeHardlinks(manifest)
}

export type Visit = (path: string, node: Node, parent: Node | undefined) => void | 'skip'

/**
 * Depth-first pre-order walk (the composefs dump order): a directory, then each child in name order. `path` is the
 * absolute byte-string path ('/' for the root). Returning 'skip' from `visit` skips a directory's children.
 */
export function walkDepthFirst (manifest: Manifest, visit: Visit): void {
  const rec = (node: Node, path: string, parent: Node | undefined): void => {
    if (visit(path, node, parent) === 'skip' || node.children === undefined) return
    const prefix = path === '/' ? '/' : path + '/'
    for (const child of node.children) rec(child, prefix + child.name, node)
  }
  rec(manifest.root, '/', undefined)
}

/** Index of `name` among sorted `children`, or -1; binary search, so one lookup costs O(depth · log width). */
export function findChild (children: readonly Node[], name: string): number {
  let lo = 0
  let hi = children.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1
    const n = children[mid]!.name
    if (n === name) return mid
    if (n < name) lo = mid + 1; else hi = mid - 1
  }
  return -1
}

/** Node at an absolute or relative byte-string path ('' and '/' are the root), or undefined. */
export function lookupPath (manifest: Manifest, path: string): Node | undefined {
  let node: Node = manifest.root
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue
    if (node.children === undefined) return undefined
    const i = findChild(node.children, part)
    if (i < 0) return undefined
    node = node.children[i]!
  }
  return node
}

/** Directory entry size in bytes of composefs/EROFS dirents: 8 nid + 2 nameoff + 1 type + 1 reserved */
const DIRENT_SIZE = 12
const EROFS_BLOCK = 4096
/** Names of the 256 whiteouts mkcomposefs adds to the root (`00`…`ff`) unless the root has them already. */
export const ROOT_WHITEOUT_NAMES: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))

/**
 * The size a directory has in the composefs EROFS image (what `stat` shows on a composefs mount and what
 * `composefs-info dump` prints): its dirents packed into 4096-byte blocks, `.` and `..` included, plus an inline
 * tail of at most 2048 bytes. For the root, the 256 `00`…`ff` whiteouts the image adds count too.
 */
export function directorySize (dir: Node, isRoot: boolean): number {
  const children = dir.children ?? []
  let names: string[] = children.map(c => c.name)
  names.push('.', '..')
  if (isRoot) {
    const have = new Set(names)
    for (const w of ROOT_WHITEOUT_NAMES) if (!have.has(w)) names.push(w)
  }
  names = names.sort(compareBytes)
  let cur = 0
  let blocks = 0
  for (const name of names) {
    const need = DIRENT_SIZE + name.length
    if (cur + need > EROFS_BLOCK) { blocks++; cur = 0 }
    cur += need
  }
  if (cur > EROFS_BLOCK / 2) { blocks++; cur = 0 }
  return blocks * EROFS_BLOCK + cur
}

/** Numbers every distinct Inode in depth-first order (hardlinks share a number). */
export function numberInodes (manifest: Manifest): Map<Inode, number> {
  const ids = new Map<Inode, number>()
  walkDepthFirst(manifest, (_path, node) => { if (!ids.has(node.inode)) ids.set(node.inode, ids.size) })
  return ids
}

export function isDirMode (mode: number): boolean { return (mode & S_IFMT) === S_IFDIR }
export { isDir }
