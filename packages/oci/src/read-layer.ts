import * as crypto from 'node:crypto'
import { CfsError } from '@cfs/errors'
import { ByteReader, readEntries, type TarEntry, type TarLimits } from '@cfs/tar'
import { decompress, type DecompressLimits } from './decompress.js'
import type { Layer } from './open-image.js'

/** Bytes read from a layer, stored and uncompressed; filled in as readLayer runs. */
export interface LayerStats { storedBytes: number, tarBytes: number }

class Tap implements AsyncIterable<Uint8Array> {
  bytes = 0
  readonly hash: crypto.Hash | undefined
  constructor (private readonly source: AsyncIterable<Uint8Array>, readonly algorithm: string | undefined) {
    this.hash = algorithm === undefined ? undefined : crypto.createHash(algorithm)
  }

  async * [Symbol.asyncIterator] (): AsyncGenerator<Uint8Array> {
    for await (const c of this.source) {
      this.bytes += c.length
      this.hash?.update(c)
      yield c
    }
  }
}

function algorithmOf (digest: string | undefined, layer: Layer): string | undefined {
  if (digest === undefined) return undefined
  const alg = digest.slice(0, digest.indexOf(':'))
  if (alg !== 'sha256' && alg !== 'sha512') {
    throw new CfsError('ERR_CFS_IMAGE_BAD', `layer ${layer.name}: unsupported digest ${digest}`)
  }
  return alg
}

function check (tap: Tap, expected: string | undefined, what: string): void {
  if (expected === undefined || tap.hash === undefined) return
  const actual = `${tap.algorithm!}:${tap.hash.digest('hex')}`
  if (actual !== expected) {
    throw new CfsError('ERR_CFS_BLOB_DIGEST_MISMATCH', `${what} has digest ${actual}, expected ${expected}`,
      { hint: 'the image is corrupt or was modified' })
  }
}

/**
 * The tar entries of a layer, decompressed (gzip, zstd or none, by magic). After the last entry the rest of the
 * blob is read, and its digest (and the uncompressed tar's diffID) are checked: ERR_CFS_BLOB_DIGEST_MISMATCH names
 * the blob. Entries reach the caller before the check, so the caller must not publish anything before this
 * generator has finished. `stats` is updated as bytes flow. `limits` bound the tar's metadata records and what the
 * blob may decompress to (ERR_CFS_TAR_LIMIT, ERR_CFS_DECOMPRESS_LIMIT).
 */
export async function * readLayer (layer: Layer, stats: LayerStats = { storedBytes: 0, tarBytes: 0 }, limits: TarLimits & DecompressLimits = {}): AsyncGenerator<TarEntry> {
  const stored = new Tap(layer.open(), algorithmOf(layer.digest, layer))
  const plain = decompress(stored, `layer ${layer.name}`, limits)
  // an uncompressed layer has digest === diffID: hash it once
  const tar = new Tap(plain, layer.diffId !== undefined && layer.diffId !== layer.digest ? algorithmOf(layer.diffId, layer) : undefined)
  const reader = new ByteReader(tar)
  try {
    for await (const entry of readEntries(reader, limits)) {
      stats.storedBytes = stored.bytes
      stats.tarBytes = tar.bytes
      yield entry
    }
    await reader.drain()
    stats.storedBytes = stored.bytes
    stats.tarBytes = tar.bytes
  } catch (err) {
    if (err instanceof CfsError && err.code.startsWith('ERR_CFS_TAR_')) err.message = `layer ${layer.name}: ${err.message}`
    throw err
  } finally {
    await reader.close()
  }
  check(stored, layer.digest, `blob ${layer.name}`)
  check(tar, layer.diffId !== layer.digest ? layer.diffId : undefined, `uncompressed layer ${layer.name} (diffID)`)
  if (layer.size !== undefined && layer.size !== stored.bytes) {
    throw new CfsError('ERR_CFS_BLOB_DIGEST_MISMATCH', `blob ${layer.name} is ${stored.bytes} bytes, expected ${layer.size}`)
  }
}
