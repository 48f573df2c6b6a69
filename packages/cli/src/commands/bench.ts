import * as fs from 'node:fs'
import * as path from 'node:path'
import { benchImages, formatTable, renderHtml, STRATEGY_NAMES, type StrategyName } from '@cfs/bench'
import { CfsError } from '@cfs/errors'
import type { CommandSpec } from '../command.js'
import { progressMode } from '../progress.js'

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM']

function parseOnly (text: unknown): StrategyName[] | undefined {
  if (text === undefined) return undefined
  const names = String(text).split(',').map(s => s.trim()).filter(s => s !== '')
  const bad = names.filter(n => !(STRATEGY_NAMES as readonly string[]).includes(n))
  if (bad.length > 0 || names.length === 0) {
    throw new CfsError('ERR_CFS_USAGE', `--only takes strategies from ${STRATEGY_NAMES.join(',')}, not '${String(text)}'`)
  }
  return names as StrategyName[]
}

export const benchCommand: CommandSpec = {
  command: 'bench <image> [image2]',
  describe: 'time symlink farm, overlayfs, kernel composefs and FUSE on an image: prepare, mount, cold/warm ls -lR, disk',
  builder: (y) => y
    .positional('image', { type: 'string', describe: 'an image cfs build reads, or a manifest (.cfsm) with --store' })
    .positional('image2', { type: 'string', describe: 'a second image: disk use then counts the shared store once' })
    .option('runs', { type: 'number', default: 3, describe: 'runs per figure; medians and min–max are reported' })
    .option('only', { type: 'string', describe: `strategies to run, comma-separated (${STRATEGY_NAMES.join(',')}; default all)` })
    .option('html', { type: 'string', describe: 'also write a self-contained HTML page with bar charts to this file' })
    .option('tmp', { type: 'string', describe: 'where the work directory is made (default $TMPDIR or /tmp); its filesystem is what is measured' })
    .option('store', { type: 'string', describe: 'the store holding the objects of manifest inputs' }),
  examples: [
    ['cfs bench image.tar', 'all four strategies, 3 runs each (needs root for all but symlinks)'],
    ['cfs bench a.tar b.tar --runs 5 --html bench.html', 'two images sharing a store; a page with charts'],
    ['cfs bench image.tar --only kernel,fuse --json', 'two strategies; the report as JSON'],
    ['cfs bench image.cfsm --store /var/lib/cfs', 'a manifest already built (no overlayfs: it has no layers)'],
  ],
  handler: async (args, ctx) => {
    const runs = Number(args.runs)
    if (!Number.isInteger(runs) || runs < 1) throw new CfsError('ERR_CFS_USAGE', `--runs must be a whole number ≥ 1, not ${String(args.runs)}`)
    const only = parseOnly(args.only)
    const inputs = [String(args.image), ...(typeof args.image2 === 'string' ? [args.image2] : [])].map(p => path.resolve(ctx.io.cwd, p))
    const html = typeof args.html === 'string' ? path.resolve(ctx.io.cwd, args.html) : undefined
    const controller = new AbortController()
    const onSignal = (s: NodeJS.Signals): void => { controller.abort(new Error(`${s} received`)) }
    for (const s of SIGNALS) process.on(s, onSignal)
    // a status line (which step is running) only where a bar would be drawn; the table is the summary
    const tty = !ctx.json && progressMode(ctx.io, ctx.quiet) === 'bar'
    let report
    try {
      report = await benchImages({
        inputs,
        runs,
        ...(only !== undefined ? { only } : {}),
        ...(typeof args.tmp === 'string' ? { tmpDir: path.resolve(ctx.io.cwd, args.tmp) } : {}),
        ...(typeof args.store === 'string' ? { storeDir: path.resolve(ctx.io.cwd, args.store) } : {}),
        signal: controller.signal,
        ...(tty ? { onProgress: (m: string) => { ctx.io.stderr.write(`\r\x1b[Kcfs bench: ${m}`) } } : {}),
      })
    } finally {
      for (const s of SIGNALS) process.off(s, onSignal)
      if (tty) ctx.io.stderr.write('\r\x1b[K')
    }
    if (html !== undefined) {
      try { fs.writeFileSync(html, renderHtml(report)) } catch (err) {
        throw new CfsError('ERR_CFS_IO', `cannot write ${html}: ${(err as Error).message}`, { cause: err })
      }
    }
    return {
      text: formatTable(report) + (html !== undefined ? `\nwrote ${html}` : ''),
      json: { schema: 'cfs.bench/1', ...report, ...(html !== undefined ? { html } : {}) },
    }
  },
}
