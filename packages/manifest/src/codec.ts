/**
 * Manifest bytes: magic `CFSM`, one version byte, then a MessagePack body (msgpackr, `useRecords: false`, so any
 * MessagePack decoder can read it). See docs/manifest-format.md for the body layout.
 */
import { Packr } from 'msgpackr'
import { CfsError } from '@cfs/errors'
import { sha256, type Digest } from '@cfs/digest'
import { type Inode, type Manifest, type Node, byteString, bytesOf } from './model.js'
import { numberInodes } from './tree.js'

export const MANIFEST_MAGIC = Buffer.from('CFSM', 'latin1')
export const MANIFEST_VERSION = 1
const HEADER_SIZE = 5

const packr = new Packr({ useRecords: false, mapsAsObjects: false, variableMapSize: true })

type EncodedInode = [number, number, number, number, number, number, number, number, Array<[Buffer, Uint8Array]>, Buffer | null, Uint8Array | null, Uint8Array | null, Buffer | null]
type EncodedNode = [Buffer, number, EncodedNode[] | null]

/** Canonical bytes of a finalized tree (see finalizeTree): the same tree always gives the same bytes. */
export function encodeManifest (manifest: Manifest): Uint8Array {
  const ids = numberInodes(manifest)
  const inodes: EncodedInode[] = []
  for (const inode of ids.keys()) {
    inodes.push([inode.mode, inode.uid, inode.gid, inode.nlink, inode.rdev, inode.mtimeSec, inode.mtimeNsec, inode.size,
      inode.xattrs.map(x => [bytesOf(x.key), x.value]),
      inode.target === undefined ? null : bytesOf(inode.target),
      inode.inline ?? null, inode.digest ?? null,
      inode.payload === undefined ? null : bytesOf(inode.payload)])
  }
  const enc = (node: Node): EncodedNode =>
    [bytesOf(node.name), ids.get(node.inode)!, node.children === undefined ? null : node.children.map(enc)]
  const body = packr.pack([inodes, enc(manifest.root)])
  const out = Buffer.allocUnsafe(HEADER_SIZE + body.length)
  MANIFEST_MAGIC.copy(out, 0)
  out[4] = MANIFEST_VERSION
  body.copy(out, HEADER_SIZE)
  return out
}

/** Parses manifest bytes; throws ERR_CFS_MANIFEST_VERSION or ERR_CFS_MANIFEST_CORRUPT. */
export function decodeManifest (bytes: Uint8Array): Manifest {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (buf.length < HEADER_SIZE || !buf.subarray(0, 4).equals(MANIFEST_MAGIC)) {
    throw new CfsError('ERR_CFS_MANIFEST_CORRUPT', 'not a cfs manifest (bad magic)', { hint: 'pass a file written by cfs build' })
  }
  if (buf[4] !== MANIFEST_VERSION) {
    throw new CfsError('ERR_CFS_MANIFEST_VERSION', `unsupported manifest version ${buf[4]} (this cfs reads ${MANIFEST_VERSION})`)
  }
  try {
    const [encInodes, encRoot] = packr.unpack(buf.subarray(HEADER_SIZE)) as [EncodedInode[], EncodedNode]
    const inodes: Inode[] = encInodes.map(e => {
      const inode: Inode = { mode: e[0], uid: e[1], gid: e[2], nlink: e[3], rdev: e[4], mtimeSec: e[5], mtimeNsec: e[6], size: e[7], xattrs: e[8].map(([k, v]) => ({ key: byteString(k), value: v })) }
      if (e[9] !== null) inode.target = byteString(e[9])
      if (e[10] !== null) inode.inline = e[10]
      if (e[11] !== null) inode.digest = e[11]
      if (e[12] !== null) inode.payload = byteString(e[12])
      return inode
    })
    const dec = (e: EncodedNode): Node => {
      const inode = inodes[e[1]]
      if (inode === undefined) throw new Error(`inode ${e[1]} out of range`)
      const node: Node = { name: byteString(e[0]), inode }
      if (e[2] !== null) node.children = e[2].map(dec)
      return node
    }
    return { root: dec(encRoot) }
  } catch (err) {
    throw new CfsError('ERR_CFS_MANIFEST_CORRUPT', `corrupt manifest: ${(err as Error).message}`, { cause: err })
  }
}

/** sha256 of the manifest bytes: the image's identity. */
export function manifestDigest (bytes: Uint8Array): Digest { return sha256(bytes) }
