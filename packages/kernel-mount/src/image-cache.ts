/**
 * The composefs image of a manifest is derived data, so it is cached next to the objects it points at:
 * `<store>/erofs-cache/<manifest sha256 hex>.v<IMAGE_CACHE_VERSION>.img`. The name is the manifest's digest, so a
 * cached image is reused only for the same manifest bytes; the version changes whenever the writer's output would.
 * @cfs/store owns the directory and the naming (its gc removes images whose manifest is no longer kept).
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { CfsError, fromSystemError } from '@cfs/errors'
import { decodeManifest, encodeManifest, manifestDigest, type Manifest } from '@cfs/manifest'
import { writeErofsFile } from '@cfs/erofs'
import { digestHex } from '@cfs/digest'
import { EROFS_CACHE_DIR, erofsCacheName } from '@cfs/store'

/** Bump when `writeErofs` would write different bytes for the same manifest. */
export const IMAGE_CACHE_VERSION = 1
export { EROFS_CACHE_DIR }
/** composefs header (spec §4.3): magic at 0, flags at 8 (bit 0: the image has ACL xattrs) */
const COMPOSEFS_MAGIC = 0xD078629A
const HEADER_SIZE = 32
const FLAG_HAS_ACL = 1

export interface CachedImage {
  /** absolute path of the image file */
  path: string
  /** true when an existing cache entry was used, false when it was written now */
  reused: boolean
  /** the header's ACL flag: mount without `noacl` */
  hasAcl: boolean
  /** sha256 hex of the manifest bytes */
  manifestDigest: string
}

/** Reads the 32-byte composefs header; undefined when the file is missing, short or has the wrong magic. */
export function readImageHeader (file: string): { flags: number, version: number } | undefined {
  let fd: number
  try { fd = fs.openSync(file, 'r') } catch { return undefined }
  try {
    const buf = Buffer.alloc(HEADER_SIZE)
    if (fs.readSync(fd, buf, 0, HEADER_SIZE, 0) !== HEADER_SIZE) return undefined
    if (buf.readUInt32LE(0) !== COMPOSEFS_MAGIC) return undefined
    return { flags: buf.readUInt32LE(8), version: buf.readUInt32LE(12) }
  } finally { fs.closeSync(fd) }
}

export type ManifestSource = { manifestPath: string } | { manifest: Manifest }

/**
 * Returns the cached image of a manifest, writing it first (atomically: temp file + rename) when absent or not a
 * composefs image. Throws ERR_CFS_FILE_NOT_FOUND for a missing manifest file, the codec's errors for a bad one, and
 * ERR_CFS_IO / ERR_CFS_NO_SPACE / ERR_CFS_PERMISSION when the cache cannot be written.
 */
export function ensureImage (source: ManifestSource, cacheDir: string): CachedImage {
  let bytes: Uint8Array
  let manifest: Manifest | undefined
  if ('manifestPath' in source) {
    try { bytes = fs.readFileSync(source.manifestPath) } catch (err) { throw fromSystemError(err, 'cannot read manifest', source.manifestPath) }
  } else {
    manifest = source.manifest
    bytes = encodeManifest(manifest)
  }
  const hex = digestHex(manifestDigest(bytes))
  const file = path.join(cacheDir, erofsCacheName(hex, IMAGE_CACHE_VERSION))
  let header = readImageHeader(file)
  const reused = header !== undefined
  if (header === undefined) {
    manifest ??= decodeManifest(bytes)
    try { fs.mkdirSync(cacheDir, { recursive: true }) } catch (err) { throw fromSystemError(err, 'cannot create image cache', cacheDir) }
    writeErofsFile(manifest, file)
    header = readImageHeader(file)
    if (header === undefined) throw new CfsError('ERR_CFS_IO', `image ${file} vanished or is not a composefs image right after writing it`)
  }
  return { path: file, reused, hasAcl: (header.flags & FLAG_HAS_ACL) !== 0, manifestDigest: hex }
}
