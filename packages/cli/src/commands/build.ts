import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { buildImage } from '@cfs/build'
import { CfsError } from '@cfs/errors'
import { parsePlatform } from '@cfs/oci'
import { Store, defaultStorePath, writeFileAtomic } from '@cfs/store'
import type { CommandSpec } from '../command.js'
import type { Io } from '../io.js'

/** image.tar → image.cfsm, rootfs → rootfs.cfsm, beside the input. */
export function defaultOutput (input: string): string {
  const abs = path.resolve(input)
  const stripped = abs.replace(/(\.tar(\.gz|\.zst|\.zstd)?|\.tgz|\.tzst)$/, '')
  return (stripped === abs ? abs.replace(/\/+$/, '') : stripped) + '.cfsm'
}

function progressBar (io: Io, total: number | undefined): { tick: (n: number) => void, done: () => void } | undefined {
  if (io.stderr.isTTY !== true) return undefined
  let seen = 0
  let last = 0
  const mb = (n: number): string => (n / 1e6).toFixed(0)
  const draw = (): void => {
    const pct = total !== undefined && total > 0 ? ` ${Math.min(100, Math.floor(seen * 100 / total))}%` : ''
    io.stderr.write(`\rcfs build: ${mb(seen)}${total !== undefined ? ' / ' + mb(total) : ''} MB${pct}   `)
  }
  return {
    tick: (n) => { seen += n; const now = Date.now(); if (now - last > 100) { last = now; draw() } },
    done: () => { draw(); io.stderr.write('\n') },
  }
}

export const buildCommand: CommandSpec = {
  command: 'build [input]',
  describe: 'build an image or directory into the store; print its digest',
  builder: (y) => y
    .positional('input', { type: 'string', describe: 'image file or directory; - reads a layer tar or archive from stdin' })
    .option('output', { alias: 'o', type: 'string', describe: 'manifest file to write (default: beside the input, .cfsm)' })
    .option('store', { type: 'string', describe: 'object store (default: $CFS_STORE, $XDG_DATA_HOME/cfs, ~/.local/share/cfs)' })
    .option('platform', { type: 'string', describe: 'os/arch[/variant] to take from a multi-platform image (default: the host\'s)' })
    .option('exclude', { type: 'string', describe: 'directory input: leave out paths matching this glob (repeatable)' }),
  examples: [
    ['cfs build image.tar', 'build a docker save archive into image.cfsm'],
    ['cfs build oci.tar --platform linux/arm64', 'one platform of a multi-platform image'],
    ['cfs build ./rootfs --exclude "var/cache/*"', 'build a directory tree'],
    ['cfs build - -o l.cfsm --json < l.tar.zst', 'a layer from stdin; JSON summary'],
  ],
  handler: async (args, ctx) => {
    const input = args.input as string | undefined
    if (input === undefined) throw new CfsError('ERR_CFS_USAGE', 'give an image file or directory to build', { hint: 'see cfs build --help' })
    // yargs hands a lone '-' to a string positional as ''
    const fromStdin = input === '-' || input === ''
    let output = args.output as string | undefined
    if (output === undefined) {
      if (fromStdin) throw new CfsError('ERR_CFS_USAGE', 'reading from stdin needs -o FILE for the manifest')
      output = defaultOutput(input)
    }
    output = path.resolve(ctx.io.cwd, output)
    const inputPath = fromStdin ? undefined : path.resolve(ctx.io.cwd, input)
    const platform = typeof args.platform === 'string' ? parsePlatform(args.platform) : undefined
    const exclude = ([] as unknown[]).concat(args.exclude ?? []).map(String)
    const storeDir = typeof args.store === 'string' ? path.resolve(ctx.io.cwd, args.store) : defaultStorePath(ctx.io.env)
    const store = await Store.open(storeDir, { create: true })

    const total = inputPath === undefined ? undefined : await fs.stat(inputPath).then(s => s.isFile() ? s.size : undefined, () => undefined)
    const bar = ctx.json ? undefined : progressBar(ctx.io, total)
    let result
    try {
      result = await buildImage(inputPath ?? (ctx.io.stdin as AsyncIterable<Uint8Array>), {
        store,
        ...(platform !== undefined ? { platform } : {}),
        exclude,
        ...(bar !== undefined ? { onProgress: bar.tick } : {}),
      })
    } finally { bar?.done() } // ends the progress line, so an error prints on a line of its own
    await writeFileAtomic(output, result.bytes)
    const s = result.stats
    return {
      text: result.digest,
      json: {
        digest: result.digest,
        manifest: output,
        store: store.root,
        format: result.format,
        ...(result.platform !== undefined ? { platform: result.platform } : {}),
        entries: s.entries,
        bytesIn: s.bytesIn,
        bytesStored: s.bytesStored,
        objectsNew: s.objectsNew,
        objectsReused: s.objectsReused,
        seconds: Number(s.seconds.toFixed(3)),
      },
    }
  },
}
