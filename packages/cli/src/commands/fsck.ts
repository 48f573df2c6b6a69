import { ExitCode } from '@cfs/errors'
import { fsckStore, type FsckReport } from '@cfs/store'
import type { CommandSpec } from '../command.js'
import { formatBytes } from '../format.js'
import { progressBar } from '../progress.js'
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
    const bar = progressBar(ctx.io, 'checking')
    let r: FsckReport
    try { r = await fsckStore(store, { repair: args.repair === true, jobs: jobsOf(args), onProgress: bar.update }) } finally { bar.end() }
    if (!r.clean) ctx.io.stderr.write(`cfs: store ${store.root} has ${r.findings.length} problem(s); run cfs fsck --repair [ERR_CFS_STORE_DAMAGED]\n`)
    const lines = r.findings.map(f => `${f.problem} ${f.path}: ${f.detail}${f.actual === undefined ? '' : ` (hashes to ${f.actual})`}${f.action === 'none' ? '' : ` [${f.action}]`}`)
    for (const p of r.inProgress) lines.push(`in use ${p}: a running build is writing it; left alone`)
    lines.push(`${r.clean ? 'clean' : 'DAMAGED'}: ${r.objects} objects (${formatBytes(r.bytes)}), ${r.images} images, ${r.findings.length} problem(s)${r.repair ? `, ${r.findings.filter(f => f.action !== 'none').length} repaired` : ''}`)
    return {
      exitCode: r.clean ? ExitCode.OK : ExitCode.MISMATCH,
      text: lines.join('\n'),
      json: { schema: FSCK_SCHEMA, store: store.root, ...r, findings: r.findings.map(f => ({ ...f, claimed: f.claimed ?? null, actual: f.actual ?? null })) },
    }
  },
}
