import { ByteRing } from '../src/byte-ring.js'

describe('ByteRing', () => {
  it('hands out regions in order, starts over at 0 when the end is too short, and never overlaps live regions', () => {
    const ring = new ByteRing(100)
    expect(ring.alloc(40)).toBe(0)
    expect(ring.alloc(40)).toBe(40)
    // 20 bytes left at the end, none free at the start
    expect(ring.fits(30)).toBe(false)
    expect(ring.alloc(30)).toBe(-1)
    ring.release() // [0, 40) is free again
    expect(ring.alloc(30)).toBe(0) // skips [80, 100)
    // in use: [40, 80) and [0, 30) with the skipped end; free: [30, 40)
    expect(ring.alloc(11)).toBe(-1)
    expect(ring.alloc(10)).toBe(30)
    expect(ring.fits(1)).toBe(false)
    ring.release() // [40, 80)
    ring.release() // [0, 30) and the skipped [80, 100)
    expect(ring.regions).toBe(1)
    expect(ring.alloc(60)).toBe(40)
    ring.release()
    ring.release()
    // empty: the next region starts at 0 whatever came before
    expect(ring.regions).toBe(0)
    expect(ring.alloc(100)).toBe(0)
    expect(ring.fits(1)).toBe(false)
  })

  it('over many random sizes, live regions stay disjoint and inside the ring', () => {
    const capacity = 1000
    const ring = new ByteRing(capacity)
    const live: Array<[number, number]> = []
    let seed = 7
    const rand = (n: number): number => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n }
    let handed = 0
    for (let step = 0; step < 20000; step++) {
      if (live.length > 0 && rand(3) === 0) { ring.release(); live.shift(); continue }
      const len = 1 + rand(300)
      const at = ring.alloc(len)
      if (at < 0) {
        // refused only when no gap of len exists: then releasing everything makes room
        expect(live.length).toBeGreaterThan(0)
        continue
      }
      handed++
      expect(at + len).toBeLessThanOrEqual(capacity)
      for (const [s, l] of live) expect(at + len <= s || s + l <= at).toBe(true)
      live.push([at, len])
    }
    expect(handed).toBeGreaterThan(5000)
    expect(() => ring.alloc(capacity + 1)).toThrow(RangeError)
  })

  it('refuses to release more than it handed out', () => {
    const ring = new ByteRing(10)
    expect(() => ring.release()).toThrow(/without a region/)
  })
})
