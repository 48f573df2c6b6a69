import * as fs from 'node:fs'
import * as path from 'node:path'
import { CfsError } from '@cfs/errors'
import { decodeManifest } from '@cfs/manifest'
import { writeErofsFile } from '@cfs/erofs'
import type { CommandSpec } from '../command.js'

export const exportErofsCommand: CommandSpec = {
  command: 'export-erofs <manifest> <out>',
  describe: 'write the composefs EROFS image of a manifest (byte-identical to mkcomposefs 1.0.8)',
  builder: (y) => y
    .positional('manifest', { type: 'string', describe: 'manifest file (CFSM)', demandOption: true })
    .positional('out', { type: 'string', describe: 'image file to write (replaced atomically)', demandOption: true })
    .option('erofs-version', { type: 'number', describe: 'composefs format version 0 or 1 (default: 1 only if the tree has whiteouts)' })
    .option('print-digest', { type: 'boolean', default: false, describe: "print the image's fs-verity digest (for mount -o digest=)" }),
  examples: [
    ['cfs export-erofs app.cfsm app.erofs', 'write the image with the default version selection'],
    ['cfs export-erofs app.cfsm app.erofs --erofs-version 1 --print-digest', 'force format version 1 and print the digest'],
  ],
  handler: async (args, ctx) => {
    const manifestPath = path.resolve(ctx.io.cwd, String(args.manifest))
    const out = path.resolve(ctx.io.cwd, String(args.out))
    const version = args['erofs-version'] as number | undefined
    if (version !== undefined && version !== 0 && version !== 1) {
      throw new CfsError('ERR_CFS_USAGE', `--erofs-version must be 0 or 1, not ${version}`)
    }
    let bytes: Buffer
    try {
      bytes = await fs.promises.readFile(manifestPath)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'ENOENT') throw new CfsError('ERR_CFS_FILE_NOT_FOUND', `manifest ${manifestPath} not found`, { cause: err })
      throw new CfsError('ERR_CFS_IO', `cannot read manifest ${manifestPath}: ${(err as Error).message}`, { cause: err })
    }
    const manifest = decodeManifest(bytes)
    const { size, digest } = writeErofsFile(manifest, out, version === undefined ? {} : { version })
    const printDigest = args['print-digest'] === true
    return {
      text: printDigest ? digest : `wrote ${out} (${size} bytes)`,
      json: { schema: 'cfs.export-erofs/1', image: out, size, digest },
    }
  },
}
