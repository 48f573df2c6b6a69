import * as fs from 'node:fs'
import * as path from 'node:path'
import { CfsError, fromSystemError } from '@cfs/errors'
import { readDump } from '@cfs/dump'
import { encodeManifest, manifestDigest, numberInodes, walkDepthFirst } from '@cfs/manifest'
import { Store, writeFileAtomic } from '@cfs/store'
import type { Manifest } from '@cfs/manifest'
import type { CommandContext } from '../command.js'
import { BUILD_SCHEMA } from './build.js'

/**
 * `cfs build --from-dump FILE -o MANIFEST [--store DIR]`: a composefs text dump (plain or gzip, `-` = stdin) becomes
 * a manifest, written atomically. A dump names no file contents, so nothing goes into the store; with --store the
 * manifest is also registered there as an image.
 */
export async function buildFromDump (args: Record<string, unknown>, ctx: CommandContext): Promise<{ manifest: Manifest, digest: string, json: Record<string, unknown> }> {
  const input = String(args['from-dump'])
  const output = args.output
  if (typeof output !== 'string' || output === '') {
    throw new CfsError('ERR_CFS_USAGE', 'cfs build --from-dump needs -o MANIFEST', { hint: 'e.g. cfs build --from-dump image.dump -o image.cfsm' })
  }
  let source: AsyncIterable<Uint8Array>
  if (input === '-') {
    source = ctx.io.stdin as AsyncIterable<Uint8Array>
  } else {
    const file = path.resolve(ctx.io.cwd, input)
    try {
      source = (await fs.promises.open(file)).createReadStream()
    } catch (err) { throw fromSystemError(err, 'cannot read dump', file) }
  }
  const manifest = await readDump(source, { source: input === '-' ? 'stdin' : input })
  const bytes = encodeManifest(manifest)
  const outPath = path.resolve(ctx.io.cwd, output)
  try {
    await writeFileAtomic(outPath, bytes)
  } catch (err) { throw fromSystemError(err, 'cannot write manifest', outPath) }
  const digest = manifestDigest(bytes)
  if (typeof args.store === 'string') {
    const store = await Store.open(path.resolve(ctx.io.cwd, args.store), { create: true })
    await store.putImage(bytes)
  }
  let entries = 0
  walkDepthFirst(manifest, () => { entries++ })
  return {
    manifest,
    digest,
    json: { schema: BUILD_SCHEMA, from: 'dump', manifest: outPath, digest, bytes: bytes.length, entries, inodes: numberInodes(manifest).size },
  }
}
