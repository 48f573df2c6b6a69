/**
 * The one progress reporter of the CLI. Operations report numbers through callbacks; this module decides what the
 * user sees on stderr:
 * - `bar`: stderr is a terminal and not CI: one line redrawn in place (bytes, files, rate, ETA), replaced by the
 *   summary line at the end;
 * - `summary`: CI (`CI` set and not `false`/`0`) or stderr not a terminal: nothing while running (no `\r` in logs),
 *   one summary line at the end;
 * - `off`: `--quiet`.
 * `--json` keeps the bar on a terminal but drops the summary line: the JSON on stdout carries the figures.
 */
import type { Io } from './io.js'
import { formatBytes } from './format.js'

const REDRAW_MS = 100
const WIDTH = 24

export type ProgressMode = 'bar' | 'summary' | 'off'

/** Whether `io.env` says we run in CI: `CI` set to anything but '', 'false' or '0'. */
export function isCi (env: NodeJS.ProcessEnv): boolean {
  const ci = env.CI
  return ci !== undefined && ci !== '' && ci !== 'false' && ci !== '0'
}

export function progressMode (io: Io, quiet: boolean): ProgressMode {
  if (quiet) return 'off'
  return io.stderr.isTTY === true && !isCi(io.env) ? 'bar' : 'summary'
}

export interface ProgressOptions {
  /** what the line starts with: `cfs build` */
  label: string
  /** what `items` counts, plural: `files`, `objects` */
  unit: string
  /** total bytes, if known: gives a percentage and an ETA */
  totalBytes?: number
  /** total items, if known and there is no byte total: percentage and ETA by count */
  totalItems?: number
  /** --quiet */
  quiet: boolean
  /** --json: no summary line */
  json: boolean
  /** false: the operation reports counts only, so show no bytes or rate (default true) */
  bytes?: boolean
  /** false: no summary line, the command's output is its summary (default true) */
  summary?: boolean
  /** the clock, in milliseconds (tests) */
  now?: () => number
}

export interface Progress {
  /** adds to the running counts */
  add: (bytes: number, items: number) => void
  /** sets the running counts (and totals, when the operation learns them late) */
  set: (done: { bytes?: number, items?: number, totalBytes?: number, totalItems?: number }) => void
  /** erases the bar and prints the summary line (once); call when the operation succeeded, also after `end` */
  finish: () => void
  /** stops and erases the bar, prints nothing: for `finally`, so an error starts on a clean line */
  end: () => void
}

interface State { bytes: number, items: number, totalBytes?: number, totalItems?: number, seconds: number, withBytes?: boolean }

const count = (n: number): string => n.toLocaleString('en-US')
/** `1 file`, `2 files`: `unit` is the plural */
const counted = (n: number, unit: string): string => `${count(n)} ${n === 1 ? unit.replace(/s$/, '') : unit}`

function seconds (s: number): string {
  if (s < 10) return `${s.toFixed(1)} s`
  if (s < 60) return `${Math.round(s)} s`
  const m = Math.floor(s / 60)
  return `${m}m${String(Math.round(s - m * 60)).padStart(2, '0')}s`
}

function rate (bytes: number, s: number): string {
  return s > 0 ? `${formatBytes(Math.round(bytes / s))}/s` : '-'
}

/** `cfs build [#####     ] 42% 12.0 MiB/28.5 MiB, 1,204 files, 8.1 MiB/s, ETA 2.0 s` */
export function formatBar (label: string, unit: string, s: State): string {
  const fraction = s.totalBytes !== undefined && s.totalBytes > 0
    ? s.bytes / s.totalBytes
    : s.totalItems !== undefined && s.totalItems > 0 ? s.items / s.totalItems : undefined
  const parts: string[] = []
  const withBytes = s.withBytes !== false
  let head = label
  if (fraction !== undefined) {
    const f = Math.min(1, Math.max(0, fraction))
    const fill = Math.round(WIDTH * f)
    head += ` [${'#'.repeat(fill)}${' '.repeat(WIDTH - fill)}] ${Math.floor(f * 100)}%`
  }
  if (withBytes) parts.push(s.totalBytes !== undefined ? `${formatBytes(s.bytes)}/${formatBytes(s.totalBytes)}` : formatBytes(s.bytes))
  parts.push(s.totalItems !== undefined ? `${count(s.items)}/${counted(s.totalItems, unit)}` : counted(s.items, unit))
  if (withBytes) parts.push(rate(s.bytes, s.seconds))
  if (fraction !== undefined && fraction > 0 && fraction < 1 && s.seconds > 0) parts.push(`ETA ${seconds(s.seconds * (1 - fraction) / fraction)}`)
  return `${head} ${parts.join(', ')}`
}

/** `cfs build: 1,234 files, 56.7 MiB in 1.2 s (47.3 MiB/s)` */
export function formatSummary (label: string, unit: string, s: State): string {
  return `${label}: ${counted(s.items, unit)}, ${formatBytes(s.bytes)} in ${seconds(s.seconds)} (${rate(s.bytes, s.seconds)})`
}

/** Starts reporting one operation on `io.stderr`; see the module comment for what is shown when. */
export function startProgress (io: Io, opts: ProgressOptions): Progress {
  const mode = progressMode(io, opts.quiet)
  const clock = opts.now ?? Date.now
  const t0 = clock()
  const s: State = { bytes: 0, items: 0, seconds: 0, withBytes: opts.bytes !== false, ...(opts.totalBytes !== undefined ? { totalBytes: opts.totalBytes } : {}), ...(opts.totalItems !== undefined ? { totalItems: opts.totalItems } : {}) }
  let last = 0
  let drawn = false
  let ended = false
  let summarized = false
  const elapsed = (): number => (clock() - t0) / 1000
  const draw = (): void => {
    if (mode !== 'bar' || ended) return
    const now = clock()
    const complete = (s.totalBytes !== undefined && s.bytes >= s.totalBytes) || (s.totalItems !== undefined && s.items >= s.totalItems)
    if (drawn && !complete && now - last < REDRAW_MS) return
    last = now
    s.seconds = elapsed()
    // a line wider than the terminal wraps, and `\r` then redraws only its last row
    const line = formatBar(opts.label, opts.unit, s)
    const cols = io.stderr.columns
    io.stderr.write(`\r${cols !== undefined && cols > 20 && line.length >= cols ? line.slice(0, cols - 1) : line}\x1b[K`)
    drawn = true
  }
  const erase = (): void => {
    if (drawn) io.stderr.write('\r\x1b[K')
    drawn = false
  }
  return {
    add: (bytes, items) => { s.bytes += bytes; s.items += items; draw() },
    set: (d) => {
      if (d.bytes !== undefined) s.bytes = d.bytes
      if (d.items !== undefined) s.items = d.items
      if (d.totalBytes !== undefined) s.totalBytes = d.totalBytes
      if (d.totalItems !== undefined) s.totalItems = d.totalItems
      draw()
    },
    finish: () => {
      erase()
      if (!ended) s.seconds = elapsed()
      ended = true
      if (summarized) return
      summarized = true
      if (mode !== 'off' && !opts.json && opts.summary !== false) io.stderr.write(formatSummary(opts.label, opts.unit, s) + '\n')
    },
    end: () => {
      erase()
      if (!ended) s.seconds = elapsed()
      ended = true
    },
  }
}
