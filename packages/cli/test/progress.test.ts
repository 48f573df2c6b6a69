import { PassThrough } from 'node:stream'
import type { Io } from '../src/io.js'
import { progressBar } from '../src/progress.js'

function ioWith (isTTY: boolean): { io: Io, err: () => string } {
  const stderr = Object.assign(new PassThrough(), { isTTY })
  let text = ''
  stderr.on('data', (d: Buffer) => { text += d.toString() })
  const io: Io = { stdout: new PassThrough(), stderr, stdin: new PassThrough(), env: {}, cwd: '/' }
  return { io, err: () => text }
}

describe('progressBar', () => {
  it('draws on a terminal, always showing completion, and erases its line at the end', async () => {
    const { io, err } = ioWith(true)
    const bar = progressBar(io, 'verifying')
    bar.update(1, 4)
    bar.update(2, 4) // within the redraw interval: skipped
    bar.update(4, 4)
    bar.end()
    await new Promise(resolve => setImmediate(resolve))
    expect(err()).toContain('verifying [')
    expect(err()).toContain('1/4')
    expect(err()).not.toContain('2/4')
    expect(err()).toContain('4/4')
    expect(err().endsWith('\r\x1b[K')).toBe(true)
  })

  it('writes nothing when stderr is not a terminal', async () => {
    const { io, err } = ioWith(false)
    const bar = progressBar(io, 'verifying')
    bar.update(4, 4)
    bar.end()
    await new Promise(resolve => setImmediate(resolve))
    expect(err()).toBe('')
  })
})
