import * as fs from 'node:fs'
import * as path from 'node:path'
import { once } from 'node:events'
import { CfsError, fromSystemError } from '@cfs/errors'
import { writeDump } from '@cfs/dump'
import { decodeManifest } from '@cfs/manifest'
import type { CommandSpec } from '../command.js'

export const dumpCommand: CommandSpec = {
  command: 'dump <manifest>',
  describe: 'print the composefs text dump of a manifest, as composefs-info dump prints its image',
  builder: (y) => y
    .positional('manifest', { type: 'string', describe: 'a manifest file written by cfs build' })
    .option('output', { alias: 'o', type: 'string', describe: 'write the dump to this file instead of stdout' })
    .option('erofs-version', { type: 'number', choices: [0, 1], describe: 'composefs format version of the image (default: 1 if the tree has a whiteout, else 0)' }),
  examples: [
    ['cfs dump image.cfsm', 'the canonical dump on stdout'],
    ['cfs dump image.cfsm -o image.dump --erofs-version 1', 'to a file, as for a version-1 image'],
  ],
  handler: async (args, ctx) => {
    const file = path.resolve(ctx.io.cwd, String(args.manifest))
    let bytes: Buffer
    try { bytes = await fs.promises.readFile(file) } catch (err) { throw fromSystemError(err, 'cannot read manifest', file) }
    const manifest = decodeManifest(bytes)
    const version = args['erofs-version'] as 0 | 1 | undefined
    if (typeof args.output !== 'string') {
      if (ctx.json) throw new CfsError('ERR_CFS_USAGE', '--json needs -o FILE (the dump itself goes to stdout)')
      // a reader that stops early (`cfs dump x | head`) is not an error
      const ignore = (): void => {}
      ctx.io.stdout.on('error', ignore)
      try {
        await writeDump(manifest, ctx.io.stdout, { version })
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EPIPE') return
        throw fromSystemError(err, 'cannot write dump to', 'stdout')
      }
      return
    }
    const out = path.resolve(ctx.io.cwd, args.output)
    const tmp = `${out}.tmp.${process.pid}`
    try {
      const stream = fs.createWriteStream(tmp)
      await once(stream, 'open')
      await writeDump(manifest, stream, { version })
      stream.end()
      await once(stream, 'finish')
      await fs.promises.rename(tmp, out)
    } catch (err) {
      await fs.promises.rm(tmp, { force: true })
      throw fromSystemError(err, 'cannot write dump', out)
    }
    const size = (await fs.promises.stat(out)).size
    return { text: '', json: { schema: 'cfs.dump/1', output: out, bytes: size } }
  },
}
