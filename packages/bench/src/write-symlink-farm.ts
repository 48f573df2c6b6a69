/**
 * The strategy composefs was measured against: a tree of real directories in which every file with stored content
 * is a symbolic link to its object (`<objects>/ab/cdef…`), the way package stores such as Nix expose a shared
 * store. Symlinks of the image are copied; files small enough to live in the manifest are written as files.
 * Devices, fifos and sockets are left out (a farm made without root could not hold them anyway), and per-file
 * owners, times and xattrs are not kept: `ls -lR` of a farm lists the links, not the files behind them.
 */
import * as fs from 'node:fs/promises'
import { fileKind, objectPathOf, type Manifest, type Node } from '@cfs/manifest'

export interface FarmStats {
  dirs: number
  links: number
  files: number
  /** devices, fifos and sockets left out */
  skipped: number
}

/** Writes the farm of `manifest` at `dir`, which must not exist yet. */
export async function writeSymlinkFarm (manifest: Manifest, objectsDir: string, dir: string, signal?: AbortSignal): Promise<FarmStats> {
  const stats: FarmStats = { dirs: 0, links: 0, files: 0, skipped: 0 }
  const objects = Buffer.from(objectsDir.replace(/\/+$/, '') + '/')
  const rec = async (node: Node, p: Buffer): Promise<void> => {
    signal?.throwIfAborted()
    const ino = node.inode
    switch (fileKind(ino.mode)) {
      case 'dir': {
        // owner rwx kept so the farm can be filled and removed without root
        await fs.mkdir(p, { mode: (ino.mode & 0o7777) | 0o700 })
        stats.dirs++
        // a few writes in flight at once: the kernel overlaps directory updates of different files
        const children = node.children ?? []
        for (let i = 0; i < children.length; i += 16) {
          await Promise.all(children.slice(i, i + 16).map(async c => await rec(c, Buffer.concat([p, SLASH, Buffer.from(c.name, 'latin1')]))))
        }
        await fs.chmod(p, (ino.mode & 0o7777) | 0o700) // mkdir's mode went through the umask
        return
      }
      case 'symlink':
        await fs.symlink(Buffer.from(ino.target ?? '', 'latin1'), p)
        stats.links++
        return
      case 'file':
        if (ino.digest !== undefined || ino.payload !== undefined) {
          const rel = ino.payload ?? objectPathOf(ino.digest!)
          await fs.symlink(Buffer.concat([objects, Buffer.from(rel, 'latin1')]), p)
          stats.links++
        } else {
          await fs.writeFile(p, ino.inline ?? new Uint8Array(0), { mode: ino.mode & 0o7777 })
          stats.files++
        }
        return
      default:
        stats.skipped++
    }
  }
  await rec(manifest.root, Buffer.from(dir.replace(/\/+$/, '')))
  return stats
}

const SLASH = Buffer.from('/')
