import type { Io } from './io.js'

const REDRAW_MS = 100
const WIDTH = 30

/**
 * A one-line progress bar on stderr, drawn only when stderr is a terminal (never into logs or pipes).
 * Returns the callback to feed and a function that erases the line.
 */
export function progressBar (io: Io, label: string): { update: (done: number, total: number) => void, end: () => void } {
  if (io.stderr.isTTY !== true) return { update: () => {}, end: () => {} }
  let last = 0
  let drawn = false
  return {
    update: (done, total) => {
      const now = Date.now()
      if (done < total && now - last < REDRAW_MS) return
      last = now
      const fill = total === 0 ? WIDTH : Math.round(WIDTH * done / total)
      io.stderr.write(`\r${label} [${'#'.repeat(fill)}${' '.repeat(WIDTH - fill)}] ${done}/${total}`)
      drawn = true
    },
    end: () => { if (drawn) io.stderr.write('\r\x1b[K') },
  }
}
