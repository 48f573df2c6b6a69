import { byteString, isRegular, type Inode, type Manifest, type Node } from '@cfs/manifest'
import { newNode, type SizeNode } from './size-tree.js'

export interface LargeFile {
  /** byte string */
  path: string
  size: number
  /** paths naming this inode */
  links: number
  /** the object key (`objectKey`), for external files */
  object?: string
}

export interface ImageSummary {
  /** directory tree weighted by regular-file bytes; a hardlinked inode counts once, at its first path */
  tree: SizeNode
  entries: number
  files: number
  /** regular-file bytes over every path (hardlinks counted at each), what a naive copy of the tree holds */
  pathBytes: number
  /** regular-file bytes, each inode once */
  inodeBytes: number
  inlineFiles: number
  inlineBytes: number
  /** distinct objects (by `objectKey`) and their bytes: what the store holds for this image */
  objects: Map<string, number>
  objectBytes: number
  /** the largest regular files, largest first, ties in path order */
  largest: LargeFile[]
}

/**
 * How a file names its object: its digest (as a byte string), else its payload path; undefined for inline and
 * empty files. Two files with one key share one object.
 */
export function objectKey (inode: Inode): string | undefined {
  if (!isRegular(inode) || inode.inline !== undefined || inode.size === 0) return undefined
  if (inode.digest !== undefined) return byteString(inode.digest)
  return inode.payload === undefined ? undefined : 'payload:' + inode.payload
}

/** One pass over an image: byte tree, counts, distinct objects and the `largest` biggest files. Pure. */
export function summarizeImage (manifest: Manifest, largest = 50): ImageSummary {
  const links = new Map<Inode, number>()
  const countLinks = (node: Node): void => {
    for (const c of node.children ?? []) {
      if (c.children !== undefined) countLinks(c)
      else links.set(c.inode, (links.get(c.inode) ?? 0) + 1)
    }
  }
  countLinks(manifest.root)
  const s: ImageSummary = {
    tree: { ...newNode(''), children: [] }, entries: 1, files: 0, pathBytes: 0, inodeBytes: 0, inlineFiles: 0, inlineBytes: 0,
    objects: new Map(), objectBytes: 0, largest: [],
  }
  const seen = new Set<Inode>()
  const files: LargeFile[] = []
  let floor = 0
  const visit = (node: Node, into: SizeNode, prefix: string): void => {
    for (const c of node.children ?? []) {
      s.entries++
      const path = prefix + c.name
      const sn = newNode(c.name)
      into.children!.push(sn)
      if (c.children !== undefined) {
        sn.children = []
        visit(c, sn, path + '/')
      } else if (isRegular(c.inode)) {
        const inode = c.inode
        s.pathBytes += inode.size
        if (seen.has(inode)) continue
        seen.add(inode)
        s.files++
        s.inodeBytes += inode.size
        sn.bytes = inode.size
        sn.count = 1
        const key = objectKey(inode)
        if (inode.inline !== undefined) { s.inlineFiles++; s.inlineBytes += inode.size }
        if (key !== undefined && !s.objects.has(key)) { s.objects.set(key, inode.size); s.objectBytes += inode.size }
        if (inode.size >= floor) {
          files.push({ path, size: inode.size, links: links.get(inode) ?? 1, ...(key !== undefined ? { object: key } : {}) })
          // keep the candidates few: past 4 × largest, drop all but the largest and raise the bar
          if (files.length >= 4 * largest + 16) { files.sort(bySize); files.length = largest; floor = files[largest - 1]?.size ?? 0 }
        }
      }
      into.bytes += sn.bytes
      into.count += sn.count
    }
  }
  visit(manifest.root, s.tree, '/')
  files.sort(bySize)
  s.largest = files.slice(0, largest)
  return s
}

export interface StoreSharing {
  /** the store's directory */
  root: string
  /** kept images other than this one that were read */
  otherImages: number
  /** kept images that could not be read (not counted above) */
  unreadable: number
  /** this image's objects that another kept image also references, and their bytes */
  shared: { count: number, bytes: number }
  /** objects only this image references: what `cfs rm` of it and `cfs gc` would free */
  exclusive: { count: number, bytes: number }
  /** keys of the shared objects */
  sharedKeys: Set<string>
}

/** How much of an image's object bytes other kept images share. `others` excludes the image itself. Pure. */
export function storeSharing (summary: ImageSummary, others: Iterable<Manifest>, root: string, unreadable = 0): StoreSharing {
  const elsewhere = new Set<string>()
  let otherImages = 0
  for (const m of others) {
    otherImages++
    const walk = (node: Node): void => {
      for (const c of node.children ?? []) {
        if (c.children !== undefined) { walk(c); continue }
        const key = objectKey(c.inode)
        if (key !== undefined && summary.objects.has(key)) elsewhere.add(key)
      }
    }
    walk(m.root)
  }
  const out: StoreSharing = { root, otherImages, unreadable, shared: { count: 0, bytes: 0 }, exclusive: { count: 0, bytes: 0 }, sharedKeys: elsewhere }
  for (const [key, size] of summary.objects) {
    const t = elsewhere.has(key) ? out.shared : out.exclusive
    t.count++
    t.bytes += size
  }
  return out
}

function bySize (a: LargeFile, b: LargeFile): number {
  return b.size - a.size || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)
}
