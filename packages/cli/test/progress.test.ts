import { formatBar, formatSummary, isCi, startProgress } from '../src/progress.js'
import { captureIo } from './capture-io.js'

const tick = async (): Promise<void> => await new Promise(resolve => setImmediate(resolve))

describe('startProgress', () => {
  it('draws a bar with bytes, files, rate and ETA on a terminal, then replaces it with the summary line', async () => {
    const c = captureIo({ tty: true })
    try {
      let now = 1000
      const p = startProgress(c.io, { label: 'cfs build', unit: 'files', totalBytes: 4 << 20, quiet: false, json: false, now: () => now })
      now += 1000
      p.add(1 << 20, 1000)
      now += 50
      p.add(1 << 20, 5) // within the redraw interval: not drawn
      now += 950
      p.add(0, 1)
      now += 1000
      p.finish()
      await tick()
      expect(c.err()).toBe(
        '\rcfs build [######                  ] 25% 1.0 MiB/4.0 MiB, 1,000 files, 1.0 MiB/s, ETA 3.0 s\x1b[K' +
        '\rcfs build [############            ] 50% 2.0 MiB/4.0 MiB, 1,006 files, 1.0 MiB/s, ETA 2.0 s\x1b[K' +
        '\r\x1b[K' +
        'cfs build: 1,006 files, 2.0 MiB in 3.0 s (682.7 KiB/s)\n')
    } finally { c.cleanup() }
  })

  it('always draws the completed state', async () => {
    const c = captureIo({ tty: true })
    try {
      const p = startProgress(c.io, { label: 'cfs verify', unit: 'objects', quiet: false, json: false })
      p.set({ items: 1, totalItems: 2, bytes: 10, totalBytes: 20 })
      p.set({ items: 2, totalItems: 2, bytes: 20, totalBytes: 20 })
      p.end()
      await tick()
      expect(c.err()).toContain('100% 20 B/20 B, 2/2 objects')
      expect(c.err().endsWith('\r\x1b[K')).toBe(true)
    } finally { c.cleanup() }
  })

  it.each([
    ['stderr is not a terminal', false, {}],
    ['CI=true', true, { CI: 'true' }],
  ])('prints only the summary line when %s', async (_what, tty, env) => {
    const c = captureIo({ tty, env })
    try {
      const p = startProgress(c.io, { label: 'cfs build', unit: 'files', totalBytes: 100, quiet: false, json: false })
      p.add(50, 3)
      p.add(50, 4)
      p.end()
      p.finish()
      await tick()
      expect(c.err()).toMatch(/^cfs build: 7 files, 100 B in [\d.]+ s \([^)]+\)\n$/)
      expect(c.err()).not.toContain('\r')
    } finally { c.cleanup() }
  })

  it('prints nothing with --quiet, and no summary line with --json or summary: false', async () => {
    for (const opts of [{ quiet: true, json: false }, { quiet: false, json: true }, { quiet: false, json: false, summary: false }]) {
      const c = captureIo({ tty: false })
      try {
        const p = startProgress(c.io, { label: 'cfs x', unit: 'files', ...opts })
        p.add(5, 5)
        p.finish()
        await tick()
        expect(c.err()).toBe('')
      } finally { c.cleanup() }
    }
  })

  it('cuts the bar to the width of the terminal', async () => {
    const c = captureIo({ tty: true })
    try {
      Object.assign(c.io.stderr, { columns: 40 })
      const p = startProgress(c.io, { label: 'cfs build', unit: 'files', totalBytes: 100, quiet: false, json: false })
      p.add(50, 1)
      p.end()
      await tick()
      expect(c.err()).toBe('\rcfs build [############            ] 50\x1b[K\r\x1b[K')
    } finally { c.cleanup() }
  })

  it('leaves bytes and rate out for count-only operations', () => {
    expect(formatBar('cfs fsck', 'objects', { bytes: 0, items: 3, totalItems: 12, seconds: 1, withBytes: false }))
      .toBe('cfs fsck [######                  ] 25% 3/12 objects, ETA 3.0 s')
  })
})

describe('formatSummary', () => {
  it('groups thousands and gives size, time and rate', () => {
    expect(formatSummary('cfs build', 'files', { bytes: 60 << 20, items: 1234, seconds: 2 })).toBe('cfs build: 1,234 files, 60.0 MiB in 2.0 s (30.0 MiB/s)')
    expect(formatSummary('cfs build', 'files', { bytes: 1, items: 1, seconds: 125 })).toBe('cfs build: 1 file, 1 B in 2m05s (0 B/s)')
  })
})

describe('isCi', () => {
  it('takes CI set to anything but empty, false or 0', () => {
    expect([{ CI: 'true' }, { CI: '1' }, { CI: 'yes' }].map(isCi)).toEqual([true, true, true])
    expect([{}, { CI: '' }, { CI: 'false' }, { CI: '0' }].map(isCi)).toEqual([false, false, false, false])
  })
})
