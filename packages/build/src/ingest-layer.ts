import { CfsError } from '@cfs/errors'
import { makeInode, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFREG, SYMLINK_MAX, XattrSets, type Inode, type Xattr } from '@cfs/manifest'
import { readLayer, type DecompressLimits, type Layer } from '@cfs/oci'
import type { ObjectWriter } from '@cfs/store'
import type { TarHeader } from '@cfs/tar'
import { BuildTree } from './build-tree.js'
import { setContent, setContentNow, type BuildStats } from './content.js'
import type { LayerTally } from './layer-tally.js'

const TYPE_BITS: Record<TarHeader['type'], number> = {
  file: S_IFREG, hardlink: S_IFREG, symlink: S_IFLNK, chardev: S_IFCHR, blockdev: S_IFBLK, dir: S_IFDIR, fifo: S_IFIFO,
}

/** Linux new_encode_dev: what composefs stores as rdev. */
export function makeDev (major: number, minor: number): number {
  return ((minor & 0xff) | ((major & 0xfff) << 8) | ((minor & ~0xff) << 12)) >>> 0
}

/** The entry's xattrs (a later record of a key wins), one shared array per distinct set (see XattrSets). */
function xattrsOf (header: TarHeader, sets: XattrSets): Xattr[] {
  if (header.xattrs.length === 0) return []
  return sets.intern(XattrSets.idOf(header.xattrs), () => {
    const byKey = new Map<string, Uint8Array>()
    for (const x of header.xattrs) byKey.set(x.key, x.value)
    return [...byKey].map(([key, value]) => ({ key, value }))
  })
}

function inodeOf (h: TarHeader, sets: XattrSets): Inode {
  return makeInode(TYPE_BITS[h.type] | (h.mode & 0o7777), {
    uid: h.uid, gid: h.gid, mtimeSec: h.mtimeSec, mtimeNsec: h.mtimeNsec, xattrs: xattrsOf(h, sets),
  })
}

/**
 * Applies one layer to the tree: entries in archive order, whiteouts, hardlinks, contents written as objects.
 * Pushes the promises of this layer's object writes to `writes`; a `tally` counts the layer's files. Throws ERR_CFS_BAD_PATH for a path with '..', and the
 * @cfs/tar and @cfs/oci errors of a bad layer.
 */
export async function ingestLayer (layer: Layer, tree: BuildTree, writer: ObjectWriter, stats: BuildStats,
  writes: Array<Promise<void>>, limits: DecompressLimits = {}, onProgress?: (bytes: number, files: number) => void, tally?: LayerTally): Promise<void> {
  tree.layer = layer.index
  const ls = { storedBytes: 0, tarBytes: 0 }
  let reported = 0
  let files = 0
  try {
    await applyEntries()
  } catch (err) {
    // errors raised while a body is read surface here rather than inside readLayer: name the layer once
    if (err instanceof CfsError && err.code.startsWith('ERR_CFS_TAR_') && !err.message.includes(layer.name)) err.message = `layer ${layer.name}: ${err.message}`
    throw err
  }
  stats.bytesIn += ls.storedBytes
  if (tally !== undefined) { tally.storedBytes = ls.storedBytes; tally.tarBytes = ls.tarBytes }
  onProgress?.(ls.storedBytes - reported, files)

  async function applyEntries (): Promise<void> {
    for await (const { header, body } of readLayer(layer, ls, limits)) {
      const what = (): string => `entry at byte ${header.offset} of layer ${layer.name}`
      const parts = BuildTree.splitPath(header.path, what)
      if (tree.applyWhiteout(parts)) continue
      if (header.type === 'hardlink') {
        tree.link(parts, BuildTree.splitPath(header.linkname, what), what)
        continue
      }
      const inode = inodeOf(header, tree.xattrSets)
      if (header.type === 'symlink') {
        if (header.linkname.length === 0 || header.linkname.length > SYMLINK_MAX) {
          throw new CfsError('ERR_CFS_IMAGE_BAD', `${what()}: symlink target of ${header.linkname.length} bytes`)
        }
        if (header.linkname.includes('\0')) throw new CfsError('ERR_CFS_IMAGE_BAD', `${what()}: symlink target with a NUL byte`)
        inode.target = header.linkname
        inode.size = header.linkname.length
      } else if (header.type === 'chardev' || header.type === 'blockdev') {
        inode.rdev = makeDev(header.devmajor, header.devminor)
      } else if (header.type === 'file') {
        const buffered = body.takeBuffered()
        if (buffered === undefined || !setContentNow(inode, buffered, header.size, writer, stats, tally)) {
          await setContent(inode, buffered ?? body, header.size, writer, stats, writes, tally)
        }
        files++
      }
      tree.set(parts, inode)
      // a call per 1 MiB or 256 files: often enough for a bar, rare enough to cost nothing
      if (onProgress !== undefined && (ls.storedBytes - reported > (1 << 20) || files >= 256)) {
        onProgress(ls.storedBytes - reported, files)
        reported = ls.storedBytes
        files = 0
      }
    }
  }
}
