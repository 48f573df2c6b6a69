/**
 * The image tree while layers are applied, with OCI layer semantics: a later entry replaces an earlier one at the
 * same path (also file ↔ directory), `.wh.NAME` deletes NAME, `.wh..wh..opq` hides everything a directory got from
 * lower layers, and hardlinks share the Inode of their target (which may come from an earlier layer). Each node
 * remembers the layer that last touched it, which is what opaque directories need. `toManifest` turns it into the
 * shared model in canonical form.
 */
import { CfsError } from '@cfs/errors'
import { finalizeTree, isDir, isSymlink, makeInode, NAME_MAX, S_IFDIR, XattrSets, type Inode, type Manifest, type Node } from '@cfs/manifest'

export const WHITEOUT_PREFIX = '.wh.'
export const OPAQUE_MARKER = '.wh..wh..opq'

interface BNode {
  inode: Inode
  /** directories only */
  children?: Map<string, BNode>
  layer: number
}

/** as Linux's MAXSYMLINKS */
const MAX_SYMLINK_HOPS = 40
/** Linux PATH_MAX, counting the NUL: the longest entry path is 4095 bytes */
export const PATH_MAX = 4096
/** the most components a PATH_MAX path has; also bounds what symlinked parents can reach (and so recursion) */
export const MAX_DEPTH = PATH_MAX / 2

/** Implicit directories (a parent no entry declared) get these, as container runtimes do. */
const IMPLICIT_DIR_MODE = S_IFDIR | 0o755

export class BuildTree {
  private readonly root: BNode = { inode: makeInode(IMPLICIT_DIR_MODE), children: new Map(), layer: -1 }
  /** the layer being applied; nodes it creates or touches carry this number */
  layer = 0
  /** the distinct xattr sets of the entries, shared by every inode that has one */
  readonly xattrSets = new XattrSets()

  /**
   * Splits and checks an entry path: '.' and empty parts are dropped; '..' (never escape the tree), a NUL, a name
   * over NAME_MAX bytes and a path of PATH_MAX bytes or more are refused with ERR_CFS_BAD_PATH.
   */
  static splitPath (path: string, what: () => string): string[] {
    const parts: string[] = []
    const bad = (why: string): CfsError => new CfsError('ERR_CFS_BAD_PATH', `${what()} ${why}: ${JSON.stringify(path.length > 200 ? path.slice(0, 200) + '…' : path)}`)
    if (path.includes('\0')) throw bad('has a NUL byte in its path')
    // the length of the parts joined by '/', plus one for the NUL (without making that string)
    let length = 0
    for (const part of path.split('/')) {
      if (part === '' || part === '.') continue
      if (part === '..') throw bad("has a '..' path component")
      if (part.length > NAME_MAX) throw bad(`has a name longer than ${NAME_MAX} bytes`)
      parts.push(part)
      length += part.length + 1
    }
    if (length >= PATH_MAX) throw bad(`has a path of ${PATH_MAX} bytes or more`)
    return parts
  }

  /** The node at `parts` (its last component not followed if a symlink), or undefined. */
  private lookup (parts: string[]): BNode | undefined {
    if (parts.length === 0) return this.root
    return this.walkDir(parts, parts.length - 1, false)?.children?.get(parts[parts.length - 1]!)
  }

  /**
   * The directory at the first `end` components of `parts`, created (or replacing a non-directory) as needed; marks
   * the path as touched.
   */
  private dir (parts: string[], end: number): BNode { return this.walkDir(parts, end, true)! }

  /**
   * Walks to the directory at `parts`, following symlinks met on the way as the kernel would when extracting
   * (`lib/x` with `lib -> usr/lib` lands in usr/lib), but clamped at the root: an absolute target restarts at the
   * image root and `..` stops there, so no link leads outside the tree. With `create`, missing directories are
   * made, non-directories replaced, and every directory passed is marked as touched by this layer; without it,
   * undefined when something is missing.
   */
  private walkDir (parts: string[], end: number, create: boolean): BNode | undefined {
    // the common case first, allocating nothing: components from splitPath ('.', '' and '..' gone) and no symlink on
    // the way; a symlink sends the walk to the general loop below, from the start (what was created or marked on
    // the way is what that walk creates and marks too)
    let node = this.root
    for (let i = 0; i < end; i++) {
      const part = parts[i]!
      let next = node.children!.get(part)
      if (next !== undefined && next.children === undefined && isSymlink(next.inode)) return this.walkThroughLinks(parts, end, create)
      if (next === undefined || next.children === undefined) {
        if (part === '' || part === '.' || part === '..') return this.walkThroughLinks(parts, end, create)
        if (!create) return undefined
        next = { inode: makeInode(IMPLICIT_DIR_MODE), children: new Map(), layer: this.layer }
        node.children!.set(part, next)
      }
      if (create) next.layer = this.layer
      node = next
    }
    if (end < MAX_DEPTH) return node
    return this.walkThroughLinks(parts, end, create)
  }

  /** walkDir's general case: symlinks followed, '..' clamped at the root, depth bounded. */
  private walkThroughLinks (parts: string[], end: number, create: boolean): BNode | undefined {
    const stack: BNode[] = [this.root]
    const todo = parts.slice(0, end).reverse()
    let hops = 0
    while (todo.length > 0) {
      const part = todo.pop()!
      if (part === '' || part === '.') continue
      if (part === '..') { if (stack.length > 1) stack.pop(); continue }
      const node = stack[stack.length - 1]!
      let next = node.children!.get(part)
      if (next !== undefined && isSymlink(next.inode) && next.inode.target !== undefined) {
        if (++hops > MAX_SYMLINK_HOPS) throw new CfsError('ERR_CFS_BAD_PATH', `too many levels of symlinks in /${parts.join('/')}`)
        if (next.inode.target.startsWith('/')) stack.length = 1
        for (const t of next.inode.target.split('/').reverse()) todo.push(t)
        continue
      }
      if (next === undefined || next.children === undefined) {
        if (!create) return undefined
        next = { inode: makeInode(IMPLICIT_DIR_MODE), children: new Map(), layer: this.layer }
        node.children!.set(part, next)
      }
      if (create) next.layer = this.layer
      if (stack.length >= MAX_DEPTH) throw new CfsError('ERR_CFS_BAD_PATH', `/${parts.join('/')} leads more than ${MAX_DEPTH} directories deep through symlinks`)
      stack.push(next)
    }
    return stack[stack.length - 1]!
  }

  /**
   * Applies a whiteout if `name` is one and returns true; a whiteout of a missing path is a no-op. Other `.wh..wh.`
   * names (aufs bookkeeping) are dropped.
   */
  applyWhiteout (parts: string[]): boolean {
    const name = parts[parts.length - 1]
    if (name === undefined || !name.startsWith(WHITEOUT_PREFIX)) return false
    if (name === OPAQUE_MARKER) {
      const dir = this.dir(parts, parts.length - 1)
      this.hideLower(dir)
      return true
    }
    if (name.startsWith(WHITEOUT_PREFIX + WHITEOUT_PREFIX)) return true
    this.walkDir(parts, parts.length - 1, false)?.children?.delete(name.slice(WHITEOUT_PREFIX.length))
    return true
  }

  /** Opaque: drop what lower layers put in `dir`, recursively through directories this layer re-declared. */
  private hideLower (dir: BNode): void {
    for (const [name, child] of dir.children!) {
      if (child.layer < this.layer) dir.children!.delete(name)
      else if (child.children !== undefined) this.hideLower(child)
    }
  }

  /** Puts `inode` at `parts`, replacing whatever is there; a directory that meets a directory keeps its children. */
  set (parts: string[], inode: Inode): void {
    if (parts.length === 0) {
      if (!isDir(inode)) throw new CfsError('ERR_CFS_IMAGE_BAD', 'the image root is not a directory')
      this.root.inode = inode
      return
    }
    const parent = this.dir(parts, parts.length - 1)
    const name = parts[parts.length - 1]!
    const existing = parent.children!.get(name)
    if (isDir(inode) && existing?.children !== undefined) {
      existing.inode = inode
      existing.layer = this.layer
      return
    }
    parent.children!.set(name, isDir(inode) ? { inode, children: new Map(), layer: this.layer } : { inode, layer: this.layer })
  }

  /** Adds a hardlink at `parts` to the existing non-directory at `target`. Throws ERR_CFS_IMAGE_BAD if missing. */
  link (parts: string[], target: string[], what: () => string): void {
    const node = this.lookup(target)
    if (node === undefined) throw new CfsError('ERR_CFS_IMAGE_BAD', `${what()}: hardlink to /${target.join('/')}, which does not exist`)
    if (node.children !== undefined) throw new CfsError('ERR_CFS_IMAGE_BAD', `${what()}: hardlink to directory /${target.join('/')}`)
    if (parts.length === 0) throw new CfsError('ERR_CFS_IMAGE_BAD', `${what()}: hardlink at the image root`)
    const parent = this.dir(parts, parts.length - 1)
    const name = parts[parts.length - 1]!
    if (parent.children!.get(name) === node) return
    parent.children!.set(name, { inode: node.inode, layer: this.layer })
  }

  /** The tree in the shared model, canonical (sorted, directory nlink derived; file nlink = links in the tree). */
  toManifest (): Manifest {
    const links = new Map<Inode, number>()
    const convert = (name: string, b: BNode): Node => {
      if (b.children === undefined) {
        links.set(b.inode, (links.get(b.inode) ?? 0) + 1)
        return { name, inode: b.inode }
      }
      const children: Node[] = []
      for (const [n, c] of b.children) children.push(convert(n, c))
      return { name, inode: b.inode, children }
    }
    const root = convert('', this.root)
    for (const [inode, n] of links) inode.nlink = n
    return finalizeTree({ root })
  }
}
