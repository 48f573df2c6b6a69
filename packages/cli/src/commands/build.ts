import { CfsError } from '@cfs/errors'
import type { CommandSpec } from '../command.js'
import { buildFromDump } from './build-from-dump.js'

export const buildCommand: CommandSpec = {
  command: 'build [input]',
  describe: 'write a manifest (for now from a composefs dump: --from-dump)',
  builder: (y) => y
    .positional('input', { type: 'string', describe: 'reserved for image input; use --from-dump' })
    .option('from-dump', { type: 'string', describe: 'read a composefs text dump (plain or gzip; - for stdin)' })
    .option('output', { alias: 'o', type: 'string', describe: 'the manifest file to write' })
    .option('store', { type: 'string', describe: 'also register the manifest as an image in this store' }),
  examples: [
    ['cfs build --from-dump image.dump -o image.cfsm', 'import a dump written by composefs-info dump; prints the manifest digest'],
    ['zcat image.dump.gz | cfs build --from-dump - -o image.cfsm --json', 'from stdin, with a JSON summary'],
  ],
  handler: async (args, ctx) => {
    const fromDump = args['from-dump']
    if (typeof fromDump === 'string') {
      // yargs turns a lone `-` into '' for both the option and the positional
      const file = fromDump === '' ? '-' : fromDump
      if (typeof args.input === 'string' && args.input !== '') throw new CfsError('ERR_CFS_USAGE', 'give either an image or --from-dump, not both')
      return await buildFromDump({ ...args, 'from-dump': file }, ctx)
    }
    throw new CfsError('ERR_CFS_USAGE', 'cfs build needs --from-dump FILE', { hint: 'see cfs build --help' })
  },
}
