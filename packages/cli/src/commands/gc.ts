import { IMAGE_CACHE_VERSION } from '@cfs/kernel-mount'
import { decodeManifest } from '@cfs/manifest'
import { collectGarbage } from '@cfs/store'
import { objectsReferencedBy } from '@cfs/verify'
import type { CommandSpec } from '../command.js'
import { formatBytes } from '../format.js'
import { openStore, withStoreOption } from '../store-option.js'

export const GC_SCHEMA = 'cfs.gc/1'

export const gcCommand: CommandSpec = {
  command: 'gc',
  describe: 'remove objects that no kept image references, and cached kernel images of images no longer kept',
  builder: (y) => withStoreOption(y)
    .option('dry-run', { alias: 'n', type: 'boolean', default: false, describe: 'list what would be removed, remove nothing' }),
  examples: [
    ['cfs gc', 'free the space of objects no kept image uses'],
    ['cfs gc --dry-run --json', 'show what would go'],
  ],
  handler: async (args, ctx) => {
    const store = await openStore(args, ctx.io)
    const r = await collectGarbage(store, {
      referencesOf: (bytes) => objectsReferencedBy(decodeManifest(bytes)),
      dryRun: args.dryRun === true,
      erofsCacheVersion: IMAGE_CACHE_VERSION,
    })
    const verb = r.dryRun ? 'would remove' : 'removed'
    const c = r.erofsCache
    const lines = r.dryRun ? [...r.removed.map(o => `would remove ${o.object} (${formatBytes(o.size)})`), ...c.removed.map(f => `would remove erofs-cache/${f.file} (${formatBytes(f.size)})`)] : []
    if (c.removed.length + c.inUse.length > 0) {
      lines.push(`${verb} ${c.removed.length} cached kernel image(s), ${formatBytes(c.bytesFreed)}` + (c.inUse.length > 0 ? `; kept ${c.inUse.length} in use by a mount` : ''))
    }
    lines.push(`${verb} ${r.removed.length} object(s), ${formatBytes(r.bytesFreed)}; kept ${r.kept} object(s) used by ${r.images} image(s)` +
      (r.missing > 0 ? `; ${r.missing} referenced object(s) are missing (run cfs verify)` : ''))
    return { text: lines.join('\n'), json: { schema: GC_SCHEMA, store: store.root, ...r } }
  },
}
