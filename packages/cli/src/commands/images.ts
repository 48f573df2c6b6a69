import * as fs from 'node:fs/promises'
import { decodeManifest, walkDepthFirst } from '@cfs/manifest'
import { readImage } from '@cfs/store'
import type { CommandSpec } from '../command.js'
import { formatBytes } from '../format.js'
import { openStore, withStoreOption } from '../store-option.js'

export const IMAGES_SCHEMA = 'cfs.images/1'

interface ImageRow { digest: string, size: number, entries: number | null, registered: string, error?: string }

export const imagesCommand: CommandSpec = {
  command: 'images',
  describe: 'list the images kept in the store (the roots gc keeps)',
  builder: (y) => withStoreOption(y),
  examples: [['cfs images', 'digest, manifest size and entry count of each kept image'], ['cfs images --json', 'the same as JSON']],
  handler: async (args, ctx) => {
    const store = await openStore(args, ctx.io)
    const rows: ImageRow[] = []
    for (const digest of await store.listImages()) {
      const bytes = await readImage(store, digest)
      const registered = (await fs.stat(store.imagePath(digest))).mtime.toISOString()
      try {
        let entries = 0
        walkDepthFirst(decodeManifest(bytes), () => { entries++ })
        rows.push({ digest, size: bytes.length, entries, registered })
      } catch (err) {
        rows.push({ digest, size: bytes.length, entries: null, registered, error: (err as Error).message })
      }
    }
    const text = rows.length === 0
      ? 'no kept images'
      : [`${'DIGEST'.padEnd(71)}  ${'SIZE'.padStart(10)}  ${'ENTRIES'.padStart(8)}  REGISTERED`,
          ...rows.map(r => `${r.digest}  ${formatBytes(r.size).padStart(10)}  ${String(r.entries ?? 'corrupt').padStart(8)}  ${r.registered}`)].join('\n')
    return { text, json: { schema: IMAGES_SCHEMA, store: store.root, images: rows } }
  },
}
