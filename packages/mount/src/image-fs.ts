/**
 * A manifest seen as a FUSE filesystem: every distinct Inode gets a node id (1 = root; hardlinks share one, so
 * they share st_ino), directories become sorted name/node tables, and file contents come from inline bytes or
 * from store objects opened on demand. All answers are computed from the manifest, so they match the composefs
 * image of the same tree: directory sizes use `directorySize`, symlink sizes are the target length.
 *
 * One deliberate difference: asking for an xattr in a namespace that no file of the image uses (say
 * `security.selinux` or `system.posix_acl_access` in an image without labels or ACLs) answers EOPNOTSUPP rather
 * than ENODATA, as a filesystem without that namespace does. Tools such as ls(1) and cp(1) then stop asking per
 * file, which saves two FUSE round trips per entry of every `ls -l`; xattrs that exist read exactly.
 */
import * as fs from 'node:fs'
import { FsVerityHasher } from '@cfs/digest'
import { Errno, type FuseAttr, type FuseDirectory, type FuseFilesystem } from '@cfs/fuse'
import { directorySize, findChild, isDir, isRegular, isSymlink, type Inode, type Manifest, type Node } from '@cfs/manifest'
import { objectRef, resolveObject } from './resolve-object.js'

export interface ImageFsOptions {
  /** real path of the store's `objects/` directory */
  objectsDir: string
  /** check each object's fs-verity digest before serving it the first time; a mismatch reads as EIO */
  verify?: boolean
}

const VERIFY_CHUNK = 1 << 20
/** object descriptors kept open between reads */
const MAX_OPEN_OBJECTS = 256
const GOOD = 1
const BAD = 2

export class ImageFs implements FuseFilesystem {
  /** by node id; index 0 unused */
  private readonly inodes: Array<Inode | undefined> = [undefined]
  private readonly dirNodes: Array<Node | undefined> = []
  private readonly dirs: Array<FuseDirectory | undefined> = []
  private readonly dirSizes: number[] = []
  private readonly xattrLists: Array<string | undefined> = []
  /** 0 (not checked yet), GOOD or BAD per node, for --verify */
  private readonly checked: Uint8Array
  /** node → open object descriptor, least recently used first */
  private readonly fds = new Map<number, number>()
  private readonly objectsDir: Buffer
  private readonly verify: boolean
  /** xattr namespaces (`user.`, `security.`, …) used anywhere in the image */
  private readonly namespaces = new Set<string>()

  constructor (manifest: Manifest, opts: ImageFsOptions) {
    this.objectsDir = Buffer.from(opts.objectsDir)
    this.verify = opts.verify === true
    const ids = new Map<Inode, number>()
    const idOf = (node: Node): number => {
      let id = ids.get(node.inode)
      if (id === undefined) {
        id = this.inodes.length
        this.inodes.push(node.inode)
        for (const x of node.inode.xattrs) this.namespaces.add(namespaceOf(x.key))
        ids.set(node.inode, id)
      }
      return id
    }
    const stack: Array<[Node, number, number]> = [[manifest.root, idOf(manifest.root), 1]]
    while (stack.length > 0) {
      const [node, id, parent] = stack.pop()!
      const children = node.children ?? []
      const nodes = new Uint32Array(children.length)
      const names = new Array<string>(children.length)
      for (let i = 0; i < children.length; i++) {
        const child = children[i]!
        names[i] = child.name
        nodes[i] = idOf(child)
        if (child.children !== undefined) stack.push([child, nodes[i]!, id])
      }
      this.dirs[id] = { names, nodes, parent }
      this.dirNodes[id] = node
    }
    this.checked = new Uint8Array(this.inodes.length)
  }

  getattr (node: number, attr: FuseAttr): number {
    const inode = this.inodes[node]
    if (inode === undefined) return Errno.ENOENT
    let size = inode.size
    if (isDir(inode)) size = this.dirSize(node)
    else if (isSymlink(inode)) size = inode.target?.length ?? 0
    attr.ino = node
    attr.size = size
    attr.blocks = Math.ceil(size / 512)
    attr.mtimeSec = inode.mtimeSec
    attr.mtimeNsec = inode.mtimeNsec
    attr.mode = inode.mode
    attr.nlink = inode.nlink
    attr.uid = inode.uid
    attr.gid = inode.gid
    attr.rdev = inode.rdev
    return 0
  }

  private dirSize (node: number): number {
    let size = this.dirSizes[node]
    if (size === undefined) {
      size = directorySize(this.dirNodes[node]!, node === 1)
      this.dirSizes[node] = size
    }
    return size
  }

  lookup (parent: number, name: string): number {
    const dir = this.dirs[parent]
    if (dir === undefined) return -Errno.ENOTDIR
    const i = findChild(this.dirNodes[parent]!.children!, name)
    return i < 0 ? 0 : dir.nodes[i]!
  }

  readdir (node: number): FuseDirectory | number {
    return this.dirs[node] ?? Errno.ENOTDIR
  }

  readlink (node: number): Uint8Array | number {
    const target = this.inodes[node]?.target
    return target === undefined ? Errno.EINVAL : Buffer.from(target, 'latin1')
  }

  read (node: number, buf: Buffer, offset: number, size: number, position: number): number {
    const inode = this.inodes[node]
    if (inode === undefined) return -Errno.ENOENT
    if (!isRegular(inode)) return -(isDir(inode) ? Errno.EISDIR : Errno.EINVAL)
    const want = Math.max(0, Math.min(size, inode.size - position))
    if (inode.inline !== undefined) {
      buf.set(inode.inline.subarray(position, position + want), offset)
      return want
    }
    if (want === 0) return 0
    const fd = this.objectFd(node, inode)
    if (fd < 0) return fd
    let done = 0
    try {
      while (done < want) {
        const n = fs.readSync(fd, buf, offset + done, want - done, position + done)
        if (n === 0) break
        done += n
      }
    } catch {
      return -Errno.EIO
    }
    return done
  }

  /** Descriptor of `node`'s object, from the cache or newly opened (evicting the least recently used). */
  private objectFd (node: number, inode: Inode): number {
    const cached = this.fds.get(node)
    if (cached !== undefined) {
      this.fds.delete(node)
      this.fds.set(node, cached)
      return cached
    }
    const fd = this.openObject(node, inode)
    if (fd < 0) return fd
    if (this.fds.size >= MAX_OPEN_OBJECTS) {
      const [oldNode, oldFd] = this.fds.entries().next().value as [number, number]
      this.fds.delete(oldNode)
      fs.closeSync(oldFd)
    }
    this.fds.set(node, fd)
    return fd
  }

  /** fd of the object holding `inode`'s content, or -EIO when it is missing, unsafe, the wrong size or corrupt */
  private openObject (node: number, inode: Inode): number {
    if (this.checked[node] === BAD) return -Errno.EIO
    const rel = objectRef(inode)
    const real = rel === undefined ? undefined : resolveObject(this.objectsDir, rel)
    if (real === undefined) return -Errno.EIO
    let fd: number
    try {
      fd = fs.openSync(real, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW)
    } catch {
      return -Errno.EIO
    }
    try {
      const st = fs.fstatSync(fd)
      if (!st.isFile() || st.size !== inode.size) throw new Error('object has the wrong type or size')
      if (this.verify && this.checked[node] !== GOOD) {
        if (inode.digest === undefined || !Buffer.from(inode.digest).equals(digestOfFd(fd))) throw new Error('fs-verity digest mismatch')
        this.checked[node] = GOOD
      }
      return fd
    } catch {
      if (this.verify) this.checked[node] = BAD
      fs.closeSync(fd)
      return -Errno.EIO
    }
  }

  listxattr (node: number): string {
    let list = this.xattrLists[node]
    if (list === undefined) {
      list = ''
      for (const x of this.inodes[node]?.xattrs ?? []) list += x.key + '\0'
      this.xattrLists[node] = list
    }
    return list
  }

  getxattr (node: number, name: string): Uint8Array | number {
    for (const x of this.inodes[node]?.xattrs ?? []) if (x.key === name) return x.value
    return this.namespaces.has(namespaceOf(name)) ? Errno.ENODATA : Errno.EOPNOTSUPP
  }

  statfs (): { files: number, blocks: number } {
    return { files: this.inodes.length - 1, blocks: 0 }
  }
}

/** `security.` of `security.selinux`; the whole name when it has no dot */
function namespaceOf (name: string): string {
  const dot = name.indexOf('.')
  return dot < 0 ? name : name.slice(0, dot + 1)
}

function digestOfFd (fd: number): Buffer {
  const hasher = new FsVerityHasher()
  const chunk = Buffer.allocUnsafe(VERIFY_CHUNK)
  let pos = 0
  for (;;) {
    const n = fs.readSync(fd, chunk, 0, chunk.length, pos)
    if (n === 0) break
    hasher.update(chunk.subarray(0, n))
    pos += n
  }
  return hasher.digest()
}

