/**
 * Space in a circular buffer shared with one worker thread, handed out in contiguous regions and given back in the
 * order it was handed out (the worker handles pieces in order). A region that does not fit before the end starts
 * over at 0; the bytes skipped at the end count as part of it until it is released.
 */
export class ByteRing {
  /** where the next region starts */
  private head = 0
  /** bytes handed out and not released, skipped ends included */
  private used = 0
  /** sizes of the regions not released, oldest first, from `first` on */
  private sizes: number[] = []
  private first = 0

  constructor (readonly capacity: number) {}

  /** Whether a region of `len` bytes can be handed out now. */
  fits (len: number): boolean { return this.place(len) >= 0 }

  /** The offset of a new region of `len` bytes, or -1 if there is no room for it now. */
  alloc (len: number): number {
    const at = this.place(len)
    if (at < 0) return at
    // a region that starts over at 0 also holds the end it skipped
    const size = at === this.head || this.used === 0 ? len : this.capacity - this.head + len
    this.used += size
    this.head = at + len
    this.sizes.push(size)
    return at
  }

  /** Where a region of `len` bytes would start, or -1. */
  private place (len: number): number {
    if (len > this.capacity) throw new RangeError(`ByteRing: ${len} bytes asked of a ring of ${this.capacity}`)
    if (this.used === 0) return 0
    if (this.used === this.capacity) return -1
    const tail = (this.head - this.used + this.capacity) % this.capacity
    if (this.head > tail) {
      // in use: [tail, head); free: [head, capacity) and [0, tail)
      if (this.capacity - this.head >= len) return this.head
      return tail >= len ? 0 : -1
    }
    // in use: [tail, capacity) and [0, head); free: [head, tail)
    return tail - this.head >= len ? this.head : -1
  }

  /** Gives back the oldest region. */
  release (): void {
    if (this.first === this.sizes.length) throw new Error('ByteRing: release without a region')
    this.used -= this.sizes[this.first++]!
    // drop released sizes now and then rather than shift() per region
    if (this.first === this.sizes.length) { this.sizes = []; this.first = 0 } else if (this.first > 4096) { this.sizes = this.sizes.slice(this.first); this.first = 0 }
  }

  /** regions handed out and not released */
  get regions (): number { return this.sizes.length - this.first }
}
