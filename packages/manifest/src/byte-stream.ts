/**
 * Varint streams, the columns of a manifest body. Unsigned integers are LEB128 (7 bits per byte, low group
 * first); signed ones are zigzag-mapped first. The reader accepts only the shortest encoding of each number and
 * never reads past its buffer, so one value has one encoding and hostile bytes end in ERR_CFS_MANIFEST_CORRUPT.
 */
import { CfsError } from '@cfs/errors'

/** Largest integer a column may hold: every value stays an exact JS number. */
export const MAX_VARINT = Number.MAX_SAFE_INTEGER

export function zigzag (n: number): number { return n >= 0 ? n * 2 : -n * 2 - 1 }
export function unzigzag (z: number): number {
  if (z <= 0x7fffffff) return (z >>> 1) ^ -(z & 1)
  return z % 2 === 0 ? z / 2 : -(z + 1) / 2
}

export class ByteWriter {
  private buf: Buffer
  length = 0

  constructor (initial = 1024) { this.buf = Buffer.allocUnsafe(initial) }

  private reserve (n: number): void {
    if (this.length + n <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < this.length + n) size *= 2
    const next = Buffer.allocUnsafe(size)
    this.buf.copy(next, 0, 0, this.length)
    this.buf = next
  }

  uint (n: number): void {
    if (this.length + 8 > this.buf.length) this.reserve(8)
    const buf = this.buf
    let pos = this.length
    if (n <= 0xffffffff) {
      // 32-bit integer operations: the common case, and much cheaper than the division below
      let v = n >>> 0
      while (v >= 0x80) { buf[pos++] = (v & 0x7f) | 0x80; v >>>= 7 }
      buf[pos++] = v
    } else {
      let v = n
      while (v >= 0x80) {
        buf[pos++] = (v % 0x80) | 0x80
        v = Math.floor(v / 0x80)
      }
      buf[pos++] = v
    }
    this.length = pos
  }

  sint (n: number): void { this.uint(zigzag(n)) }

  bytes (b: Uint8Array): void {
    this.reserve(b.length)
    this.buf.set(b, this.length)
    this.length += b.length
  }

  hex (h: string): void {
    this.reserve(h.length / 2)
    this.length += this.buf.write(h, this.length, 'hex')
  }

  /** A byte string (one byte per char), without a length. */
  latin1 (s: string): void {
    this.reserve(s.length)
    this.length += this.buf.write(s, this.length, 'latin1')
  }

  /** A length-prefixed byte string. */
  lstring (s: string): void { this.uint(s.length); this.latin1(s) }

  /**
   * A front-coded name: varint length of the prefix shared with `prev`, the rest of `name`, NUL. Returns false
   * when the rest holds NUL, `/` or a char above 0xff (the caller refuses the name; the prefix was `prev`'s).
   */
  frontCoded (prev: string, name: string): boolean {
    const n = name.length
    const max = prev.length < n ? prev.length : n
    let k = 0
    while (k < max && prev.charCodeAt(k) === name.charCodeAt(k)) k++
    this.uint(k)
    // a loop of charCodeAt beats a Buffer.write call for strings this short
    if (this.length + n - k + 1 > this.buf.length) this.reserve(n - k + 1)
    const buf = this.buf
    let pos = this.length
    let ok = true
    for (let i = k; i < n; i++) {
      const c = name.charCodeAt(i)
      if (c === 0 || c === 0x2f || c > 0xff) ok = false
      buf[pos++] = c
    }
    buf[pos++] = 0
    this.length = pos
    return ok
  }

  /** A NUL-terminated byte string (which must hold no NUL). */
  cstring (s: string): void { this.latin1(s); this.reserve(1); this.buf[this.length++] = 0 }

  result (): Buffer { return this.buf.subarray(0, this.length) }
}

export class ByteReader {
  pos = 0
  constructor (readonly buf: Buffer, readonly what: string) {}

  get remaining (): number { return this.buf.length - this.pos }

  fail (detail: string): never {
    throw new CfsError('ERR_CFS_MANIFEST_CORRUPT', `corrupt manifest: ${this.what} column: ${detail} at byte ${this.pos}`)
  }

  uint (): number {
    // one-byte values (most indexes and flags) take the small inlinable path
    const pos = this.pos
    if (pos < this.buf.length) {
      const b = this.buf[pos]!
      if (b < 0x80) { this.pos = pos + 1; return b }
    }
    return this.uintLong()
  }

  private uintLong (): number {
    const buf = this.buf
    let result = 0
    let scale = 1
    for (let i = 0; ; i++) {
      const b = buf[this.pos]
      if (b === undefined) this.fail('truncated number')
      this.pos++
      result += (b & 0x7f) * scale
      if (b < 0x80) {
        if (b === 0 && i > 0) this.fail('overlong number')
        if (result > MAX_VARINT) this.fail('number too large')
        return result
      }
      scale *= 0x80
      if (i >= 7) this.fail('number too large')
    }
  }

  /** An unsigned number that must be ≤ max. */
  upTo (max: number, field: string): number {
    const n = this.uint()
    if (n > max) this.fail(`${field} ${n} out of range (max ${max})`)
    return n
  }

  sint (): number { return unzigzag(this.uint()) }

  /** `n` raw bytes as a view of the buffer. */
  view (n: number): Buffer {
    if (n > this.remaining) this.fail(`${n} bytes wanted, ${this.remaining} left`)
    const v = this.buf.subarray(this.pos, this.pos + n)
    this.pos += n
    return v
  }

  latin1 (n: number): string {
    if (n > this.remaining) this.fail(`${n} bytes wanted, ${this.remaining} left`)
    const s = this.buf.toString('latin1', this.pos, this.pos + n)
    this.pos += n
    return s
  }

  /** A length-prefixed byte string of at most `max` bytes. */
  lstring (max: number, field: string): string { return this.latin1(this.upTo(max, `${field} length`)) }

  /** A NUL-terminated byte string of at most `max` bytes before the NUL. */
  cstring (max: number, field: string): string {
    const end = this.buf.indexOf(0, this.pos)
    if (end < 0 || end - this.pos > max) this.fail(`${field} unterminated or longer than ${max} bytes`)
    const s = this.buf.toString('latin1', this.pos, end)
    this.pos = end + 1
    return s
  }

  /** Throws unless every byte was consumed: trailing bytes would give a second encoding of the same tree. */
  end (): void { if (this.pos !== this.buf.length) this.fail(`${this.remaining} trailing bytes`) }
}
