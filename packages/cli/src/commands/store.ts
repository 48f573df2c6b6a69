import { sealStore } from '@cfs/store'
import type { CommandSpec } from '../command.js'
import { startProgress } from '../progress.js'
import { openStore, withStoreOption } from '../store-option.js'
import { warn } from '../warn.js'

export const storeCommand: CommandSpec = {
  command: 'store <action>',
  describe: 'manage the object store: `seal` enables kernel fs-verity on every object',
  builder: (y) => withStoreOption(y)
    .positional('action', { type: 'string', choices: ['seal'], describe: 'seal: enable fs-verity on each object' }),
  examples: [['cfs store seal', 'make objects read-only and kernel-checked; cfs verify then asks the kernel instead of re-hashing']],
  handler: async (args, ctx) => {
    const store = await openStore(args, ctx.io)
    // the result line is the summary: a bar while sealing, no summary line
    const progress = startProgress(ctx.io, { label: 'cfs store seal', unit: 'objects', quiet: ctx.quiet, json: ctx.json, bytes: false, summary: false })
    let r
    try { r = await sealStore(store, { onProgress: (items, totalItems) => progress.set({ items, totalItems }) }) } finally { progress.end() }
    if (!r.supported) warn(ctx, `fs-verity is not available for store ${store.root}; objects stay unsealed and cfs verify re-hashes them (${r.reason ?? ''})`)
    const text = r.supported
      ? `sealed ${r.sealed} object(s), ${r.already} already sealed, in ${store.root}`
      : `not sealed: fs-verity unsupported for ${store.root}`
    return { text, json: { schema: 'cfs.store-seal/1', store: store.root, ...r, reason: r.reason ?? null } }
  },
}
