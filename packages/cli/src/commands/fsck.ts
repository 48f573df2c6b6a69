import { CfsError, ExitCode } from '@cfs/errors'
import { fsckStore, type FsckReport } from '@cfs/store'
import type { CommandSpec } from '../command.js'
import { formatBytes } from '../format.js'
import { startProgress } from '../progress.js'
import { jobsOf, openStore, withJobsOption, withStoreOption } from '../store-option.js'

export const FSCK_SCHEMA = 'cfs.fsck/1'

export const fsckCommand: CommandSpec = {
  command: 'fsck',
  describe: 'check every object and image in the store against its name; find stray and leftover temp files',
  builder: (y) => withJobsOption(withStoreOption(y))
    .option('repair', { type: 'boolean', default: false, describe: 'move corrupt objects/images to quarantine/, delete strays and stale temp files' }),
  examples: [
    ['cfs fsck', 'check the default store'],
    ['cfs fsck --repair --store /var/lib/cfs', 'check and repair another store'],
  ],
  handler: async (args, ctx) => {
    const store = await openStore(args, ctx.io)
    // the report is the summary: a bar while checking, no summary line
    const progress = startProgress(ctx.io, { label: 'cfs fsck', unit: 'objects', quiet: ctx.quiet, json: ctx.json, bytes: false, summary: false })
    let r: FsckReport
    try {
      r = await fsckStore(store, { repair: args.repair === true, jobs: jobsOf(args), onProgress: (items, totalItems) => progress.set({ items, totalItems }) })
    } finally { progress.end() }
    const lines = r.findings.map(f => `${f.problem} ${f.path}: ${f.detail}${f.actual === undefined ? '' : ` (hashes to ${f.actual})`}${f.action === 'none' ? '' : ` [${f.action}]`}`)
    for (const p of r.inProgress) lines.push(`in use ${p}: a running build is writing it; left alone`)
    lines.push(`${r.clean ? 'clean' : 'DAMAGED'}: ${r.objects} objects (${formatBytes(r.bytes)}), ${r.images} images, ${r.findings.length} problem(s)${r.repair ? `, ${r.findings.filter(f => f.action !== 'none').length} repaired` : ''}`)
    return {
      exitCode: r.clean ? ExitCode.OK : ExitCode.MISMATCH,
      ...(r.clean ? {} : { error: new CfsError('ERR_CFS_STORE_DAMAGED', `store ${store.root} has ${r.findings.length} problem(s)`, { hint: 'run cfs fsck --repair' }) }),
      text: lines.join('\n'),
      json: { schema: FSCK_SCHEMA, store: store.root, ...r, findings: r.findings.map(f => ({ ...f, claimed: f.claimed ?? null, actual: f.actual ?? null })) },
    }
  },
}
