/** Small builders for image trees in tests: paths map to inodes; passing one Inode at two paths makes a hardlink. */
import {
  finalizeTree, makeInode, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFREG,
  type Inode, type Manifest, type Node,
} from '@cfs/manifest'

export function dir (fields: Partial<Inode> = {}): Inode { return makeInode(S_IFDIR | 0o755, fields) }

/** A string gives inline content; a number n gives external content with digest bytes all n. */
export function file (content: string | number, fields: Partial<Inode> = {}): Inode {
  if (typeof content === 'string') {
    const bytes = Buffer.from(content, 'latin1')
    return makeInode(S_IFREG | 0o644, bytes.length === 0 ? { size: 0, ...fields } : { size: bytes.length, inline: bytes, ...fields })
  }
  return makeInode(S_IFREG | 0o644, { size: 1000 + content, digest: Buffer.alloc(32, content), ...fields })
}

export function symlink (target: string, fields: Partial<Inode> = {}): Inode {
  return makeInode(S_IFLNK | 0o777, { target, size: target.length, ...fields })
}

export function device (kind: 'char' | 'block', rdev: number, fields: Partial<Inode> = {}): Inode {
  return makeInode((kind === 'char' ? S_IFCHR : S_IFBLK) | 0o600, { rdev, ...fields })
}

export function fifo (fields: Partial<Inode> = {}): Inode { return makeInode(S_IFIFO | 0o644, fields) }

export function xattr (key: string, value: string): { key: string, value: Uint8Array } {
  return { key, value: Buffer.from(value, 'latin1') }
}

/** Builds a finalized tree; missing parent directories are created as `dir()`. */
export function tree (entries: Record<string, Inode>): Manifest {
  const root: Node = { name: '', inode: entries['/'] ?? dir(), children: [] }
  const nodes = new Map<string, Node>([['/', root]])
  const ensure = (path: string): Node => {
    const found = nodes.get(path)
    if (found !== undefined) return found
    const cut = path.lastIndexOf('/')
    const parent = ensure(cut === 0 ? '/' : path.slice(0, cut))
    const inode = entries[path] ?? dir()
    const node: Node = { name: path.slice(cut + 1), inode }
    if ((inode.mode & 0o170000) === S_IFDIR) node.children = []
    parent.children!.push(node)
    nodes.set(path, node)
    return node
  }
  for (const path of Object.keys(entries)) ensure(path)
  return finalizeTree({ root })
}
