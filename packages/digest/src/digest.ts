/**
 * Digests as text. Object names and manifest digests are SHA-256 values shown as `sha256:<64 lowercase hex>`;
 * inside the store and in composefs dumps the bare 64-hex form is used.
 */
import * as crypto from 'node:crypto'
import { CfsError } from '@cfs/errors'

export type Digest = `sha256:${string}`

const HEX64 = /^[0-9a-f]{64}$/

export function isHex64 (s: string): boolean { return HEX64.test(s) }

/** Parses `sha256:<hex>` or bare `<hex>` (64 hex digits, either case); throws ERR_CFS_DIGEST_BAD. */
export function parseDigest (text: string, what = 'digest'): Digest {
  const hex = (text.startsWith('sha256:') ? text.slice(7) : text).toLowerCase()
  if (!HEX64.test(hex)) {
    throw new CfsError('ERR_CFS_DIGEST_BAD', `bad ${what} '${text.slice(0, 80)}': expected sha256:<64 hex digits>`)
  }
  return `sha256:${hex}`
}

export function digestHex (d: Digest): string { return d.slice(7) }

export function digestFromBytes (raw: Uint8Array): Digest {
  if (raw.length !== 32) throw new Error(`digest must be 32 bytes, got ${raw.length}`)
  return `sha256:${Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('hex')}`
}

export function digestToBytes (d: Digest): Buffer { return Buffer.from(d.slice(7), 'hex') }

/** Plain SHA-256 of bytes, as a Digest. */
export function sha256 (data: Uint8Array): Digest {
  return `sha256:${crypto.createHash('sha256').update(data).digest('hex')}`
}
