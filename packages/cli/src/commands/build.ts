import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { buildImage } from '@cfs/build'
import { writeErofsFile } from '@cfs/erofs'
import { CfsError } from '@cfs/errors'
import { isExternal, walkDepthFirst, type Manifest } from '@cfs/manifest'
import { DEFAULT_MAX_RATIO, DEFAULT_MAX_SIZE, RATIO_FLOOR, parsePlatform, type DecompressLimits } from '@cfs/oci'
import { Store, defaultStorePath, sealObject, writeFileAtomic } from '@cfs/store'
import type { CommandContext, CommandSpec } from '../command.js'
import { startProgress } from '../progress.js'
import { warn } from '../warn.js'
import { buildFromDump } from './build-from-dump.js'

/** Version of the `cfs build --json` document (docs/cli.md), also with --from-dump; bumped only on an incompatible change. */
export const BUILD_SCHEMA = 'cfs.build/1'

const SIZE_UNITS: Record<string, number> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 }

/** A byte count: digits with an optional K, M, G or T (binary) suffix. */
export function parseSize (text: string, what: string): number {
  const m = /^(\d+)([KMGT]?)i?B?$/i.exec(text.trim())
  const n = m === null ? NaN : Number(m[1]) * SIZE_UNITS[m[2]!.toUpperCase()]!
  if (!Number.isSafeInteger(n)) throw new CfsError('ERR_CFS_USAGE', `${what} must be a byte count such as 500M or 100G, not '${text}'`)
  return n
}

/** --max-decompress-ratio and --max-layer-size, or their environment variables; unset ones keep @cfs/oci's defaults. */
function decompressLimits (args: Record<string, unknown>, env: NodeJS.ProcessEnv): DecompressLimits {
  const limits: DecompressLimits = {}
  const ratio = args['max-decompress-ratio'] ?? env.CFS_MAX_DECOMPRESS_RATIO
  if (ratio !== undefined && ratio !== '') {
    const r = Number(ratio)
    if (!Number.isFinite(r) || r < 0) throw new CfsError('ERR_CFS_USAGE', `--max-decompress-ratio (or CFS_MAX_DECOMPRESS_RATIO) must be a number ≥ 0, not '${String(ratio)}'`)
    limits.maxRatio = r
  }
  const size = args['max-layer-size'] ?? env.CFS_MAX_LAYER_SIZE
  if (size !== undefined && size !== '') limits.maxSize = parseSize(String(size), '--max-layer-size (or CFS_MAX_LAYER_SIZE)')
  return limits
}

/** image.tar → image.cfsm, rootfs → rootfs.cfsm, beside the input. */
export function defaultOutput (input: string): string {
  const abs = path.resolve(input)
  const stripped = abs.replace(/(\.tar(\.gz|\.zst|\.zstd)?|\.tgz|\.tzst)$/, '')
  return (stripped === abs ? abs.replace(/\/+$/, '') : stripped) + '.cfsm'
}

export const buildCommand: CommandSpec = {
  command: 'build [input]',
  describe: 'build an image or directory into the store; print its digest',
  builder: (y) => y
    .positional('input', { type: 'string', describe: 'image file or directory; - reads a layer tar or archive from stdin' })
    .option('output', { alias: 'o', type: 'string', describe: 'manifest file to write (default: beside the input, .cfsm)' })
    .option('store', { type: 'string', describe: 'object store (default: $CFS_STORE, $XDG_DATA_HOME/cfs, ~/.local/share/cfs)' })
    .option('platform', { type: 'string', describe: 'os/arch[/variant] to take from a multi-platform image (default: the host\'s)' })
    .option('exclude', { type: 'string', describe: 'directory input: leave out paths matching this glob (repeatable)' })
    .option('from-dump', { type: 'string', describe: 'read a composefs text dump instead of an image (plain or gzip; - for stdin); needs -o' })
    .option('erofs', { type: 'string', describe: 'also write the composefs EROFS image (byte-identical to mkcomposefs 1.0.8) to this file' })
    .option('erofs-version', { type: 'number', describe: 'composefs format version of --erofs (0 or 1; default as mkcomposefs: 1 if the image has whiteouts)' })
    .option('print-digest', { type: 'boolean', describe: 'with --erofs: also print the image\'s fs-verity digest (for mount.composefs -o digest=)' })
    .option('max-decompress-ratio', { type: 'string', describe: `refuse a compressed layer past this many bytes out per byte in, once past ${RATIO_FLOOR >> 20} MiB (default: $CFS_MAX_DECOMPRESS_RATIO or ${DEFAULT_MAX_RATIO}; 0: no limit)` })
    .option('max-layer-size', { type: 'string', describe: `refuse a layer larger than this uncompressed, e.g. 100G (default: $CFS_MAX_LAYER_SIZE or ${DEFAULT_MAX_SIZE / 2 ** 30}G; 0: no limit)` })
    .option('seal', { type: 'boolean', describe: 'enable fs-verity on the image\'s objects where the store\'s filesystem supports it' }),
  examples: [
    ['cfs build image.tar', 'build a docker save archive into image.cfsm'],
    ['cfs build oci.tar --platform linux/arm64', 'one platform of a multi-platform image'],
    ['cfs build ./rootfs --exclude "var/cache/*"', 'build a directory tree'],
    ['cfs build - -o l.cfsm --json < l.tar.zst', 'a layer from stdin; JSON summary'],
    ['cfs build image.tar --erofs image.img --print-digest', 'also write the composefs image for the kernel'],
    ['cfs build --from-dump image.dump -o image.cfsm', 'import a dump written by composefs-info dump'],
  ],
  handler: async (args, ctx) => {
    const version = args['erofs-version']
    if (version !== undefined && version !== 0 && version !== 1) {
      throw new CfsError('ERR_CFS_USAGE', `--erofs-version must be 0 or 1, not ${String(version)}`)
    }
    if ((version !== undefined || args['print-digest'] === true) && typeof args.erofs !== 'string') {
      throw new CfsError('ERR_CFS_USAGE', '--erofs-version and --print-digest need --erofs OUT')
    }
    const fromDump = args['from-dump']
    if (typeof fromDump === 'string') {
      if (typeof args.input === 'string' && args.input !== '') throw new CfsError('ERR_CFS_USAGE', 'give either an image or --from-dump, not both')
      if (args.seal === true) throw new CfsError('ERR_CFS_USAGE', '--seal needs an image: a dump names no objects')
      // yargs turns a lone `-` into '' for both the option and the positional
      const r = await buildFromDump({ ...args, 'from-dump': fromDump === '' ? '-' : fromDump }, ctx)
      return await addErofs(r.manifest, args, ctx.io.cwd, { text: r.digest, json: r.json })
    }
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
    const limits = decompressLimits(args, ctx.io.env)
    const storeDir = typeof args.store === 'string' ? path.resolve(ctx.io.cwd, args.store) : defaultStorePath(ctx.io.env)
    const store = await Store.open(storeDir, { create: true })

    // an image file gives a byte total (its layers are most of it); a directory or stdin has none, so no ETA
    const total = inputPath === undefined ? undefined : await fs.stat(inputPath).then(s => s.isFile() ? s.size : undefined, () => undefined)
    const progress = startProgress(ctx.io, { label: 'cfs build', unit: 'files', quiet: ctx.quiet, json: ctx.json, ...(total !== undefined ? { totalBytes: total } : {}) })
    let result
    try {
      result = await buildImage(inputPath ?? (ctx.io.stdin as AsyncIterable<Uint8Array>), {
        store,
        ...(platform !== undefined ? { platform } : {}),
        exclude,
        limits,
        onProgress: progress.add,
      })
    } finally { progress.end() } // erases the bar, so an error prints on a line of its own
    await writeFileAtomic(output, result.bytes)
    progress.finish()
    const s = result.stats
    const sealed = args.seal === true ? await sealObjects(store, result.manifest, ctx) : undefined
    return await addErofs(result.manifest, args, ctx.io.cwd, {
      text: result.digest,
      json: {
        schema: BUILD_SCHEMA,
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
        ...(sealed !== undefined ? { sealed } : {}),
      },
    })
  },
}

/** --erofs OUT: the composefs image of the manifest just built, and with --print-digest its fs-verity digest. */
async function addErofs (manifest: Manifest, args: Record<string, unknown>, cwd: string, out: { text: string, json: Record<string, unknown> }): Promise<{ text: string, json: unknown }> {
  if (typeof args.erofs !== 'string') return out
  const version = args['erofs-version'] as 0 | 1 | undefined
  const file = path.resolve(cwd, args.erofs)
  const image = await writeErofsFile(manifest, file, version === undefined ? {} : { version })
  const json = { ...out.json, erofs: { path: file, size: image.size, fsverityDigest: image.digest } }
  return { text: args['print-digest'] === true ? `${out.text}\n${image.digest}` : out.text, json }
}

/** --seal: fs-verity on every object the image uses; an unsupported filesystem is one warning, not a failure. */
async function sealObjects (store: Store, manifest: Manifest, ctx: CommandContext): Promise<{ supported: boolean, sealed: number, already: number, reason?: string }> {
  const files = new Set<string>()
  walkDepthFirst(manifest, (_p, node) => { if (isExternal(node.inode) && node.inode.digest !== undefined) files.add(store.objectPath(node.inode.digest)) })
  let sealed = 0
  let already = 0
  for (const file of files) {
    try {
      if (await sealObject(file) === 'sealed') sealed++; else already++
    } catch (err) {
      if (err instanceof CfsError && err.code === 'ERR_CFS_VERITY_UNSUPPORTED') {
        const reason = err.message + (err.hint === undefined ? '' : `; ${err.hint}`)
        warn(ctx, `objects not sealed: ${reason}`)
        return { supported: false, sealed, already, reason }
      }
      throw err
    }
  }
  return { supported: true, sealed, already }
}
