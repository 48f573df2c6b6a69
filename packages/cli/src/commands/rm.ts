import { removeImage, resolveImage } from '@cfs/store'
import type { CommandSpec } from '../command.js'
import { openStore, withStoreOption } from '../store-option.js'

/** Version of the `cfs rm --json` document (docs/cli.md). */
export const RM_SCHEMA = 'cfs.rm/1'

export const rmCommand: CommandSpec = {
  command: 'rm <digest..>',
  describe: 'stop keeping images; cfs gc then frees objects nothing else uses',
  builder: (y) => withStoreOption(y)
    .positional('digest', { type: 'string', array: true, describe: 'image digest, or an unambiguous prefix of its hex' }),
  examples: [['cfs rm 4f2a', 'drop the kept image whose digest starts with 4f2a'], ['cfs rm 4f2a 9c01 && cfs gc', 'drop two images and free their objects']],
  handler: async (args, ctx) => {
    const store = await openStore(args, ctx.io)
    const wanted = (args.digest as unknown[]).map(String)
    // resolve all first, so a typo in the last argument removes nothing
    const digests = [...new Set(await Promise.all(wanted.map(async w => await resolveImage(store, w))))]
    for (const d of digests) await removeImage(store, d)
    return { text: digests.map(d => `removed ${d}`).join('\n'), json: { schema: RM_SCHEMA, store: store.root, removed: digests } }
  },
}
