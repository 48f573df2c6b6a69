/** The flattened tree form of fixtures/images/*.expected.json (written by scripts/make-fixtures.ts). */
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { fileKind, walkDepthFirst, type Inode, type Manifest } from '@cfs/manifest'

export interface Flat {
  type: string
  mode: string
  uid: number
  gid: number
  mtime: string
  size: number
  nlink?: number
  rdev?: number
  target?: string
  sha256?: string
  xattrs?: Record<string, string>
}

export interface Expected { entries: Record<string, Flat>, hardlinks: string[][] }

/** Flattens a built manifest; regular file contents come from `inline` or from the object in `objectsDir`. */
export function flatten (manifest: Manifest, objectsDir: string): Expected {
  const entries: Record<string, Flat> = {}
  const paths = new Map<Inode, string[]>()
  walkDepthFirst(manifest, (p, node) => {
    const i = node.inode
    const type = fileKind(i.mode)!
    const f: Flat = { type, mode: i.mode.toString(8), uid: i.uid, gid: i.gid, mtime: `${i.mtimeSec}.${String(i.mtimeNsec).padStart(9, '0')}`, size: i.size }
    if (type !== 'dir') {
      f.nlink = i.nlink
      paths.set(i, [...(paths.get(i) ?? []), p])
    }
    if (type === 'chardev' || type === 'blockdev') f.rdev = i.rdev
    if (i.target !== undefined) f.target = i.target
    if (type === 'file') {
      const content = i.inline ?? (i.payload !== undefined ? fs.readFileSync(path.join(objectsDir, i.payload)) : Buffer.alloc(0))
      f.sha256 = crypto.createHash('sha256').update(content).digest('hex')
    }
    if (i.xattrs.length > 0) f.xattrs = Object.fromEntries(i.xattrs.map(x => [x.key, Buffer.from(x.value).toString('hex')]))
    entries[p] = f
  })
  const hardlinks = [...paths.values()].filter(g => g.length > 1).map(g => g.sort()).sort((a, b) => a[0]! < b[0]! ? -1 : 1)
  return { entries, hardlinks }
}
