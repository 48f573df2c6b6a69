/**
 * Turns a `cfs diff` argument into a manifest. Each kind of side is a `SideLoader` picked by the file's first
 * bytes; a new kind (an image tarball built on the fly) is one more entry in `sideLoaders`.
 */
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { CfsError, fromSystemError } from '@cfs/errors'
import { decodeManifest, MANIFEST_MAGIC, type Manifest } from '@cfs/manifest'
import type { Io } from './io.js'

/** What a loader that builds an image may need (none of today's loaders does). */
export interface SideOptions {
  /** the object store to build into */
  storeDir?: string
  /** build into a temporary store instead of `storeDir` */
  noStore?: boolean
}

export interface SideLoader {
  /** what the side is, for messages: 'manifest', 'image tarball' */
  kind: string
  /** whether this loader reads the file whose first bytes are `head` */
  accepts: (head: Uint8Array) => boolean
  load: (file: string, bytes: Uint8Array, io: Io, opts: SideOptions) => Promise<Manifest>
}

const manifestLoader: SideLoader = {
  kind: 'manifest',
  accepts: head => Buffer.from(head.subarray(0, 4)).equals(MANIFEST_MAGIC),
  load: async (_file, bytes) => decodeManifest(bytes),
}

/** Loaders tried in order; the first that accepts the file's head reads it. */
export const sideLoaders: SideLoader[] = [manifestLoader]

const TAR_MAGIC_OFFSET = 257 // ustar: "ustar" at offset 257 of the first header block
const COMPRESSED = [Buffer.from([0x1f, 0x8b]), Buffer.from([0x28, 0xb5, 0x2f, 0xfd])] // gzip, zstd

export async function loadSide (arg: string, io: Io, opts: SideOptions = {}, loaders: readonly SideLoader[] = sideLoaders): Promise<Manifest> {
  const file = path.resolve(io.cwd, arg)
  let bytes: Uint8Array
  try {
    bytes = await fs.readFile(file)
  } catch (err) {
    throw fromSystemError(err, 'reading', arg)
  }
  const loader = loaders.find(l => l.accepts(bytes))
  if (loader !== undefined) return await loader.load(file, bytes, io, opts)
  const head = Buffer.from(bytes.subarray(0, 512))
  if (head.subarray(TAR_MAGIC_OFFSET, TAR_MAGIC_OFFSET + 5).toString('latin1') === 'ustar' || COMPRESSED.some(m => head.subarray(0, m.length).equals(m))) {
    throw new CfsError('ERR_CFS_IMAGE_UNKNOWN_FORMAT', `${arg} looks like a tarball; cfs diff compares manifests only`, {
      hint: 'build each image with cfs build and diff the manifests it writes',
    })
  }
  throw new CfsError('ERR_CFS_MANIFEST_CORRUPT', `${arg} is not a cfs manifest (bad magic)`, { hint: 'pass files written by cfs build' })
}
