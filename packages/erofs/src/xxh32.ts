/**
 * XXH32, the 32-bit xxHash, which EROFS uses for the xattr name filter (h_name_filter). Only whole-buffer hashing
 * is needed: the inputs are xattr name suffixes of at most 255 bytes.
 */
const P1 = 0x9E3779B1
const P2 = 0x85EBCA77
const P3 = 0xC2B2AE3D
const P4 = 0x27D4EB2F
const P5 = 0x165667B1

function rotl (x: number, r: number): number { return (x << r) | (x >>> (32 - r)) }

function round (acc: number, lane: number): number {
  return Math.imul(rotl((acc + Math.imul(lane, P2)) | 0, 13), P1)
}

function readU32 (b: Uint8Array, i: number): number {
  return (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) | 0
}

/** XXH32 of `data` with `seed`, as an unsigned 32-bit number. */
export function xxh32 (data: Uint8Array, seed: number): number {
  const len = data.length
  let i = 0
  let h: number
  if (len >= 16) {
    let v1 = (seed + P1 + P2) | 0
    let v2 = (seed + P2) | 0
    let v3 = seed | 0
    let v4 = (seed - P1) | 0
    const limit = len - 16
    while (i <= limit) {
      v1 = round(v1, readU32(data, i))
      v2 = round(v2, readU32(data, i + 4))
      v3 = round(v3, readU32(data, i + 8))
      v4 = round(v4, readU32(data, i + 12))
      i += 16
    }
    h = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) | 0
  } else {
    h = (seed + P5) | 0
  }
  h = (h + len) | 0
  while (i + 4 <= len) {
    h = Math.imul(rotl((h + Math.imul(readU32(data, i), P3)) | 0, 17), P4)
    i += 4
  }
  while (i < len) {
    h = Math.imul(rotl((h + Math.imul(data[i]!, P5)) | 0, 11), P1)
    i++
  }
  h = Math.imul(h ^ (h >>> 15), P2)
  h = Math.imul(h ^ (h >>> 13), P3)
  h ^= h >>> 16
  return h >>> 0
}
