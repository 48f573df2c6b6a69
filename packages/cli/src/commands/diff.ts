import * as path from 'node:path'
import { CfsError, ExitCode } from '@cfs/errors'
import type { Manifest } from '@cfs/manifest'
import { defaultStorePath } from '@cfs/store'
import {
  diffManifests, diffToJson, escapeBytes, unescapeBytes, modeString, splitDev, summarizeDiff, IGNORABLE, ATTRIBUTES,
  type AttributeChange, type DiffResult, type Ignorable,
} from '@cfs/diff'
import type { CommandSpec } from '../command.js'
import { loadSide, sideStore } from '../diff-side.js'
import { writeDiffHtml } from '../html-report.js'

const LETTER = { added: 'A', removed: 'D', modified: 'M', renamed: 'R' } as const
const COLOUR = { added: 32, removed: 31, modified: 33, renamed: 36 } as const

export const diffCommand: CommandSpec = {
  command: 'diff <a> <b>',
  describe: 'show what changed between two images (exit 0 identical, 6 different)',
  builder: (y) => y
    .positional('a', { type: 'string', describe: 'the old side: a manifest written by cfs build, or an image (tarball, OCI layout, directory) to build' })
    .positional('b', { type: 'string', describe: 'the new side, like the old' })
    .option('stat', { type: 'boolean', describe: 'counts and content bytes by change kind, and the directories with the most changed bytes' })
    .option('name-only', { type: 'boolean', describe: 'only the changed paths, one per line (a rename gives its old then its new path)' })
    .option('ignore', {
      type: 'string',
      requiresArg: true,
      describe: `leave an attribute group out (repeatable or comma-separated): ${IGNORABLE.join(', ')}`,
    })
    .option('path', {
      type: 'string',
      requiresArg: true,
      describe: 'only show changes at or below this absolute path (repeatable; written as cfs diff prints paths, \\xNN for a raw byte)',
    })
    .option('quiet', { type: 'boolean', describe: 'print nothing; only the exit status tells' })
    .option('store', { type: 'string', describe: 'store that image sides are built into and kept in (default: $CFS_STORE, $XDG_DATA_HOME/cfs, ~/.local/share/cfs)' })
    .option('no-store', { type: 'boolean', describe: 'build image sides into a temporary store, removed afterwards' })
    .option('html', { type: 'string', requiresArg: true, describe: 'also write a self-contained HTML page of the changed subtrees (sized by bytes changed)' })
    .option('color', { choices: ['auto', 'always', 'never'], default: 'auto', describe: 'colour the status letters (auto: only on a terminal, unless NO_COLOR is set)' })
    .conflicts('stat', 'name-only')
    .conflicts('quiet', ['stat', 'name-only']),
  examples: [
    ['cfs diff old.cfsm new.cfsm', 'one line per changed path: A added, D removed, M modified, R renamed'],
    ['cfs diff old.cfsm new.cfsm --ignore mtime,owner', 'hide timestamp and ownership noise'],
    ['cfs diff old.cfsm new.cfsm --stat --path /usr', 'a summary of what changed under /usr'],
    ['cfs diff old.cfsm new.cfsm --json | jq \'.changes[].path\'', 'machine-readable; schema in docs/cli.md'],
    ['cfs diff -q old.cfsm new.cfsm; echo $?', '0 identical, 6 different, anything else: trouble'],
    ['cfs diff v1.tar v2.tar', 'image tarballs: each is built into the store first (and kept there)'],
    ['cfs diff --no-store v1.tar ./rootfs', 'build into a temporary store that is removed afterwards'],
    ['cfs diff old.cfsm new.cfsm --html diff.html', 'also write a page to open in a browser (works offline)'],
  ],
  handler: async (args, ctx) => {
    if (args.quiet === true && ctx.json) throw new CfsError('ERR_CFS_USAGE', '--quiet and --json are mutually exclusive', { hint: 'drop one of them' })
    const ignore = parseIgnore(listOf(args.ignore))
    const paths = listOf(args.path).map(parsePath)
    const { storeDir, noStore } = parseStoreOption(args.store, ctx.io)
    const store = sideStore({ storeDir, noStore, env: ctx.io.env })
    // allSettled: a temporary store is removed only once neither side is still building into it
    const sides = await Promise.allSettled([String(args.a), String(args.b)].map(async arg => await loadSide(arg, ctx.io, { store: store.open })))
    await store.close()
    const [a, b] = sides.map(s => { if (s.status === 'rejected') throw s.reason; return s.value }) as [Manifest, Manifest]
    const result = diffManifests(a, b, { ignore, paths })
    const exitCode = result.identical ? ExitCode.OK : ExitCode.MISMATCH
    if (typeof args.html === 'string') await writeDiffHtml(args.html, result.changes, String(args.a), String(args.b), ctx.io)
    if (args.quiet === true) return { exitCode }
    const stat = args.stat === true
    const json = ctx.json ? diffToJson(result, { withChanges: !stat }) : undefined
    if (json !== undefined) return { exitCode, json }
    const colour = args.color === 'always' || (args.color === 'auto' && ctx.io.stdout.isTTY === true && (ctx.io.env.NO_COLOR ?? '') === '')
    const text = stat ? formatStat(result) : args['name-only'] === true ? formatNames(result) : formatChanges(result, colour)
    return { exitCode, text }
  },
}

/** yargs reads `--no-store` as `store: false`, and `--store X --no-store` as `['X', false]`. */
function parseStoreOption (value: unknown, io: { cwd: string, env: NodeJS.ProcessEnv }): { storeDir: string, noStore: boolean } {
  if (Array.isArray(value)) {
    throw new CfsError('ERR_CFS_USAGE', value.includes(false) ? '--store and --no-store are mutually exclusive' : '--store given more than once', { hint: 'give one of them, once' })
  }
  if (value === false) return { storeDir: '', noStore: true }
  return { storeDir: typeof value === 'string' ? path.resolve(io.cwd, value) : defaultStorePath(io.env), noStore: false }
}

/** A repeatable string option: yargs gives undefined, one string, or an array. */
function listOf (v: unknown): string[] {
  return v === undefined ? [] : (Array.isArray(v) ? v : [v]).map(String)
}

function parsePath (text: string): string {
  try {
    return unescapeBytes(text)
  } catch (err) {
    throw new CfsError('ERR_CFS_USAGE', `--path: bad escape in '${text}'`, { hint: 'write a raw byte as \\xNN and a backslash as \\\\', cause: err })
  }
}

function parseIgnore (values: string[]): Ignorable[] {
  const out: Ignorable[] = []
  for (const name of values.flatMap(v => v.split(',')).map(v => v.trim()).filter(v => v !== '')) {
    if (!(IGNORABLE as readonly string[]).includes(name)) {
      throw new CfsError('ERR_CFS_USAGE', `--ignore: unknown attribute group '${name}'`, { hint: `choose from ${IGNORABLE.join(', ')}` })
    }
    out.push(name as Ignorable)
  }
  return out
}

function formatChanges (r: DiffResult, colour: boolean): string {
  let out = ''
  for (const c of r.changes) {
    const letter = colour ? `\x1b[${COLOUR[c.kind]}m${LETTER[c.kind]}\x1b[0m` : LETTER[c.kind]
    const where = c.from === undefined ? escapeBytes(c.path) : `${escapeBytes(c.from)} -> ${escapeBytes(c.path)}`
    const attrs = c.attributes.map(describeAttribute).join(' ')
    out += `${letter} ${where}${attrs === '' ? '' : '  ' + attrs}\n`
  }
  return out
}

function formatNames (r: DiffResult): string {
  let out = ''
  for (const c of r.changes) {
    if (c.from !== undefined) out += escapeBytes(c.from) + '\n'
    out += escapeBytes(c.path) + '\n'
  }
  return out
}

function describeAttribute (x: AttributeChange): string {
  const arrow = (p: unknown, q: unknown): string => `${x.attribute} ${String(p)}->${String(q)}`
  switch (x.attribute) {
    case 'content': return 'content'
    case 'mode': return arrow(modeString(x.before), modeString(x.after))
    case 'mtime': return arrow(timeString(x.before), timeString(x.after))
    case 'target': return arrow(x.before === null ? '(none)' : escapeBytes(x.before), x.after === null ? '(none)' : escapeBytes(x.after))
    case 'rdev': { const p = splitDev(x.before); const q = splitDev(x.after); return arrow(`${p.major}:${p.minor}`, `${q.major}:${q.minor}`) }
    case 'xattrs':
      return 'xattrs ' + [...x.added.map(k => '+' + escapeBytes(k)), ...x.removed.map(k => '-' + escapeBytes(k)), ...x.changed.map(k => '~' + escapeBytes(k))].join(',')
    case 'hardlinks': {
      const before = new Set(x.before.paths)
      const after = new Set(x.after.paths)
      const parts = [
        ...(x.before.nlink === x.after.nlink ? [] : [`nlink ${x.before.nlink}->${x.after.nlink}`]),
        ...x.after.paths.filter(p => !before.has(p)).map(p => '+' + escapeBytes(p)),
        ...x.before.paths.filter(p => !after.has(p)).map(p => '-' + escapeBytes(p)),
      ]
      return `hardlinks ${parts.join(',')}`
    }
    default: return arrow(x.before, x.after)
  }
}

function timeString (t: { sec: number, nsec: number }): string {
  const ms = t.sec * 1000
  const iso = Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString().replace('.000Z', '') : String(t.sec)
  return t.nsec === 0 ? iso : `${iso}.${String(t.nsec).padStart(9, '0')}`
}

function formatStat (r: DiffResult): string {
  if (r.identical) return ''
  const s = summarizeDiff(r)
  const rows: string[] = []
  for (const kind of ['added', 'removed', 'modified', 'renamed'] as const) {
    const k = s.byKind[kind]
    if (k.paths === 0) continue
    const bytes = [k.bytesAdded > 0 ? '+' + humanBytes(k.bytesAdded) : '', k.bytesRemoved > 0 ? '-' + humanBytes(k.bytesRemoved) : ''].filter(v => v !== '').join(' ')
    rows.push(`${String(k.paths).padStart(8)} ${kind.padEnd(9)} ${bytes}`.trimEnd())
  }
  const attrs = ATTRIBUTES.filter(a => s.byAttribute[a] > 0).map(a => `${a} ${s.byAttribute[a]}`)
  if (attrs.length > 0) rows.push(`changed attributes: ${attrs.join(', ')}`)
  rows.push(`changed content bytes: ${humanBytes(s.changedBytes)} (${s.changedBytes})`)
  if (s.topDirectories.length > 0) {
    rows.push('directories with the most changed bytes:')
    for (const d of s.topDirectories) rows.push(`${humanBytes(d.changedBytes).padStart(10)}  ${String(d.changes).padStart(6)} changes  ${escapeBytes(d.path)}`)
  }
  return rows.join('\n')
}

function humanBytes (n: number): string {
  if (n < 1024) return `${n} B`
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  let v = n / 1024
  let u = 0
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++ }
  return `${v.toFixed(1)} ${units[u]!}`
}
