import * as fs from 'node:fs'
import * as path from 'node:path'
import { fixturePath } from '@cfs/fixtures'
import { run } from '../src/run.js'
import { captureIo } from './capture-io.js'

const SUMMARY = /cfs build: \d+ files, [\d.]+ (B|KiB|MiB) in [\d.]+ s \([^)]+\)\n$/

describe('cfs build and cfs verify progress', () => {
  it('draws a bar on a terminal and ends with the summary line', async () => {
    const c = captureIo({ tty: true })
    try {
      expect(await run(['build', fixturePath('images/oci-archive.tar'), '-o', 'x.cfsm'], c.io)).toBe(0)
      expect(c.out()).toMatch(/^sha256:[0-9a-f]{64}\n$/)
      const size = fs.statSync(fixturePath('images/oci-archive.tar')).size
      expect(c.err()).toMatch(/^\rcfs build \[[# ]{24}\] \d+% [\d.]+ (B|KiB)\/[\d.]+ (B|KiB|MiB), \d+ files, /)
      expect(c.err()).toContain(size < 1024 ? `/${size} B,` : 'KiB,')
      expect(c.err()).toMatch(new RegExp('\\r\\x1b\\[K' + SUMMARY.source))

      const before = c.err().length
      expect(await run(['verify', path.join(c.tmp, 'x.cfsm')], c.io)).toBe(0)
      const err = c.err().slice(before)
      expect(err).toMatch(/\rcfs verify \[#{24}\] 100% [\d.]+ (B|KiB)\/[\d.]+ (B|KiB), (\d+)\/\3 objects, /)
      expect(err).toMatch(/\r\x1b\[Kcfs verify: \d+ objects, [\d.]+ (B|KiB) in [\d.]+ s \([^)]+\)\n$/)
    } finally { c.cleanup() }
  })

  it.each([
    ['stderr is not a terminal', false, {}],
    ['CI=true', true, { CI: 'true' }],
  ])('prints no bar, only the summary line, when %s', async (_what, tty, env) => {
    const c = captureIo({ tty, env })
    try {
      expect(await run(['build', fixturePath('images/oci-archive.tar'), '-o', 'x.cfsm'], c.io)).toBe(0)
      expect(c.err()).toMatch(new RegExp('^' + SUMMARY.source))
      expect(c.err()).not.toContain('\r')
    } finally { c.cleanup() }
  })

  it('prints nothing on stderr with --quiet, and no summary line with --json', async () => {
    const c = captureIo({ tty: false })
    try {
      expect(await run(['build', fixturePath('images/oci-archive.tar'), '-o', 'x.cfsm', '--quiet'], c.io)).toBe(0)
      expect(await run(['verify', 'x.cfsm', '-q'], c.io)).toBe(0)
      expect(await run(['verify', 'x.cfsm', '--json'], c.io)).toBe(0)
      expect(c.err()).toBe('')
    } finally { c.cleanup() }
  })
})
