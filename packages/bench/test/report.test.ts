import { summarize } from '../src/report.js'
import { formatBytes, formatSummary } from '../src/format-table.js'

describe('summarize', () => {
  it('gives the median, min and max and keeps the runs in order', () => {
    expect(summarize([5, 1, 3])).toEqual({ median: 3, min: 1, max: 5, runs: [5, 1, 3] })
    expect(summarize([4, 1, 3, 2]).median).toBe(2.5)
    expect(() => summarize([])).toThrow()
  })
})

describe('formatSummary and formatBytes', () => {
  it('prints the spread only for several runs', () => {
    expect(formatSummary(summarize([12.34]))).toBe('12.3')
    expect(formatSummary(summarize([150, 120, 1.5]))).toBe('120 (1.50–150)')
    expect(formatSummary(null)).toBe('–')
  })
  it('uses binary units', () => {
    expect(formatBytes(512)).toBe('512 B')
    expect(formatBytes(36 * 1024)).toBe('36.0 KiB')
    expect(formatBytes(3 * 2 ** 30)).toBe('3.00 GiB')
  })
})
