/**
 * Writes the EROFS image that `mkcomposefs` 1.0.8 writes for the same tree, byte for byte. `planImage` computes
 * everything before the first byte is written (dirents need the nids of later inodes); this module emits the plan
 * into one buffer of the exact final size.
 */
import {
  S_IFMT, S_IFREG, S_IFDIR, S_IFCHR, S_IFLNK, S_IFBLK, S_IFIFO, S_IFSOCK, type Manifest,
} from '@cfs/manifest'
import {
  BLOCK_SIZE, COMPACT_INODE_SIZE, DIRENT_SIZE, EXTENDED_INODE_SIZE, INODES_START, SUPER_OFFSET, XATTR_HEADER_SIZE,
  planImage, roundUp, xattrNameIndex,
  type ErofsOptions, type ImagePlan, type PlannedDirent, type PlannedInode,
} from './plan-image.js'
import { xxh32 } from './xxh32.js'

export const COMPOSEFS_MAGIC = 0xD078629A
const COMPOSEFS_HEADER_VERSION = 1
const COMPOSEFS_FLAG_HAS_ACL = 1
export const EROFS_MAGIC = 0xE0F5E1E2
const FEATURE_COMPAT_MTIME = 2
const FEATURE_COMPAT_XATTR_FILTER = 4
/** erofs name filter: bit = XXH32(suffix, seed + prefix index) & 31 */
const XATTR_FILTER_SEED = 0x25BBE08F
/** a chunk table entry of 0xFFFFFFFF (EROFS_NULL_ADDR) is a hole: the table is all 0xFF bytes */
const NULL_ADDR_BYTE = 0xFF

const LAYOUT_FLAT_PLAIN = 0
const LAYOUT_FLAT_INLINE = 2
const LAYOUT_CHUNK_BASED = 4

/**
 * The composefs EROFS image of `manifest`, byte-identical to `mkcomposefs --from-file` 1.0.8 for the same tree
 * and version options: step G of spec/composefs-format.md §4.2 on the plan of `planImage` (see there for the
 * errors). The manifest is not modified.
 */
export function writeErofs (manifest: Manifest, opts: ErofsOptions = {}): Uint8Array {
  return emitImage(planImage(manifest, opts))
}

/** Writes a planned image into one buffer of its exact size. */
function emitImage (plan: ImagePlan): Buffer {
  const { version, hasAcl, root, inodes, shared, sharedSize, minSec, minNsec, inodesEnd, dataStart, imageSize } = plan
  const buf = Buffer.alloc(imageSize)
  buf.writeUInt32LE(COMPOSEFS_MAGIC, 0)
  buf.writeUInt32LE(COMPOSEFS_HEADER_VERSION, 4)
  buf.writeUInt32LE(hasAcl ? COMPOSEFS_FLAG_HAS_ACL : 0, 8)
  buf.writeUInt32LE(version, 12)

  const sb = SUPER_OFFSET
  buf.writeUInt32LE(EROFS_MAGIC, sb)
  buf.writeUInt32LE(FEATURE_COMPAT_MTIME | FEATURE_COMPAT_XATTR_FILTER, sb + 8)
  buf[sb + 12] = 12 // blkszbits
  buf.writeUInt16LE(root.nid, sb + 14)
  buf.writeBigUInt64LE(BigInt(inodes.length), sb + 16)
  buf.writeBigUInt64LE(BigInt.asUintN(64, BigInt(minSec)), sb + 24)
  buf.writeUInt32LE(minNsec, sb + 32)
  buf.writeUInt32LE(imageSize / BLOCK_SIZE, sb + 36)
  buf.writeUInt32LE(Math.floor(inodesEnd / BLOCK_SIZE), sb + 44)

  const sharedBase = inodesEnd % BLOCK_SIZE
  const filterCache = new Map<string, number>()
  let block = dataStart / BLOCK_SIZE
  let at = INODES_START
  let dataAt = dataStart
  for (const e of inodes) {
    at += e.pad
    const type = e.mode & S_IFMT
    let layout = e.tail > 0 ? LAYOUT_FLAT_INLINE : LAYOUT_FLAT_PLAIN
    let iu = 0
    const isize = e.isize
    if (e.external) layout = LAYOUT_CHUNK_BASED
    if (type === S_IFCHR || type === S_IFBLK) {
      iu = e.rdev
    } else if ((type === S_IFDIR || type === S_IFREG || type === S_IFLNK) && e.nBlocks > 0) {
      iu = block
      block += e.nBlocks
    }
    if (layout === LAYOUT_CHUNK_BASED) iu = ((iu & 0xFFFF0000) | (e.chunkbits - 12)) >>> 0
    const icount = e.xattrSize === 0 ? 0 : (e.xattrSize - XATTR_HEADER_SIZE) / 4 + 1
    if (e.compact) {
      buf.writeUInt16LE(layout << 1, at)
      buf.writeUInt16LE(icount, at + 2)
      buf.writeUInt16LE(e.mode & 0xFFFF, at + 4)
      buf.writeUInt16LE(e.nlink & 0xFFFF, at + 6)
      buf.writeUInt32LE(isize, at + 8)
      buf.writeUInt32LE(iu, at + 16)
      buf.writeUInt32LE(e.ino, at + 20)
      buf.writeUInt16LE(e.uid, at + 24)
      buf.writeUInt16LE(e.gid, at + 26)
      at += COMPACT_INODE_SIZE
    } else {
      buf.writeUInt16LE((layout << 1) | 1, at)
      buf.writeUInt16LE(icount, at + 2)
      buf.writeUInt16LE(e.mode & 0xFFFF, at + 4)
      buf.writeBigUInt64LE(BigInt(isize), at + 8)
      buf.writeUInt32LE(iu, at + 16)
      buf.writeUInt32LE(e.ino, at + 20)
      buf.writeUInt32LE(e.uid, at + 24)
      buf.writeUInt32LE(e.gid, at + 28)
      buf.writeBigUInt64LE(BigInt.asUintN(64, BigInt(e.mtimeSec)), at + 32)
      buf.writeUInt32LE(e.mtimeNsec, at + 40)
      buf.writeUInt32LE(e.nlink, at + 44)
      at += EXTENDED_INODE_SIZE
    }

    if (e.xattrSize > 0) {
      const start = at
      let mask = 0
      let nShared = 0
      for (const key of e.xkeys) {
        let bit = filterCache.get(key)
        if (bit === undefined) {
          const [index, suffix] = xattrNameIndex(key)
          bit = xxh32(Buffer.from(suffix, 'latin1'), (XATTR_FILTER_SEED + index) >>> 0) & 31
          filterCache.set(key, bit)
        }
        mask |= 1 << bit
      }
      buf.writeUInt32LE((~mask) >>> 0, at)
      at += XATTR_HEADER_SIZE
      for (const ref of e.sharedRefs) {
        if (ref < 0) continue
        buf.writeUInt32LE((sharedBase + shared[ref]!.offset) / 4, at)
        at += 4
        nShared++
      }
      buf[start + 4] = nShared
      for (let i = 0; i < e.xkeys.length; i++) {
        if (e.sharedRefs[i]! >= 0) continue
        at = writeXattrEntry(buf, at, e.xkeys[i]!, e.xvalues[i]!)
      }
      at = start + e.xattrSize
    }

    if (e.tail > 0) {
      if (type === S_IFDIR) {
        const d = e.dirents!
        writeDirentChunk(buf, at, d, d.length - countTail(d, e.tail), d.length)
      } else if (type === S_IFLNK) {
        buf.set(e.target!, at)
      } else if (e.inline !== undefined) {
        buf.set(e.inline.subarray(e.inline.length - e.tail), at)
      } else {
        buf.fill(NULL_ADDR_BYTE, at, at + e.tail)
      }
      at += e.tail
    }

    // data blocks of this inode, in the same order as the block numbers were handed out
    if (e.nBlocks > 0) {
      if (type === S_IFDIR) {
        const d = e.dirents!
        let first = 0
        let cur = 0
        let written = 0
        for (let i = 0; i < d.length; i++) {
          const need = DIRENT_SIZE + d[i]!.name.length
          if (cur + need > BLOCK_SIZE) {
            writeDirentChunk(buf, dataAt, d, first, i)
            dataAt += BLOCK_SIZE
            written++
            cur = 0
            first = i
          }
          cur += need
        }
        if (written < e.nBlocks) {
          writeDirentChunk(buf, dataAt, d, first, d.length)
          dataAt += BLOCK_SIZE
        }
      } else if (type === S_IFLNK) {
        buf.set(e.target!, dataAt)
        dataAt += BLOCK_SIZE
      } else if (e.inline !== undefined) {
        buf.set(e.inline.subarray(0, Math.min(e.inline.length, BLOCK_SIZE)), dataAt)
        dataAt += BLOCK_SIZE * e.nBlocks
      } else {
        buf.fill(NULL_ADDR_BYTE, dataAt, dataAt + BLOCK_SIZE)
        dataAt += BLOCK_SIZE * e.nBlocks
      }
    }
  }
  at = inodesEnd
  for (const s of shared) at = writeXattrEntry(buf, at, s.key, s.value)
  if (at !== inodesEnd + sharedSize || dataAt !== imageSize) throw new Error('erofs layout and emission disagree')
  return buf
}

function writeXattrEntry (buf: Buffer, at: number, key: string, value: string): number {
  const [index, suffix] = xattrNameIndex(key)
  buf[at] = suffix.length
  buf[at + 1] = index
  buf.writeUInt16LE(value.length, at + 2)
  buf.write(suffix, at + 4, 'latin1')
  buf.write(value, at + 4 + suffix.length, 'latin1')
  return at + roundUp(4 + suffix.length + value.length, 4)
}

/** Number of trailing dirents that make up an inline tail of `tail` bytes. */
function countTail (d: PlannedDirent[], tail: number): number {
  let n = 0
  let bytes = 0
  for (let i = d.length - 1; i >= 0 && bytes < tail; i--) { bytes += DIRENT_SIZE + d[i]!.name.length; n++ }
  return n
}

/** One dirent chunk (§4.7): the dirents of entries [from, to), then their names back to back. */
function writeDirentChunk (buf: Buffer, at: number, d: PlannedDirent[], from: number, to: number): void {
  let nameoff = DIRENT_SIZE * (to - from)
  let p = at
  for (let i = from; i < to; i++) {
    const de = d[i]!
    const t = de.target!
    buf.writeUInt32LE(t.nid % 0x100000000, p)
    buf.writeUInt32LE(Math.floor(t.nid / 0x100000000), p + 4)
    buf.writeUInt16LE(nameoff, p + 8)
    buf[p + 10] = direntType(t)
    nameoff += de.name.length
    p += DIRENT_SIZE
  }
  for (let i = from; i < to; i++) {
    const name = d[i]!.name
    buf.write(name, p, 'latin1')
    p += name.length
  }
}

function direntType (e: PlannedInode): number {
  switch (e.mode & S_IFMT) {
    case S_IFREG: return 1
    case S_IFDIR: return 2
    case S_IFCHR: return 3
    case S_IFBLK: return 4
    case S_IFIFO: return 5
    case S_IFSOCK: return 6
    case S_IFLNK: return 7
    default: return 0
  }
}
