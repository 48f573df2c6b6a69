import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { parseDigest, type Digest } from '@cfs/digest'
import { CfsError, ExitCode, fromSystemError } from '@cfs/errors'
import { bytesToDisplay, decodeManifest, manifestDigest } from '@cfs/manifest'
import { readImage, resolveImage, type Store } from '@cfs/store'
import { verifyManifest, type VerifyReport } from '@cfs/verify'
import type { CommandSpec } from '../command.js'
import { formatBytes } from '../format.js'
import type { Io } from '../io.js'
import { startProgress } from '../progress.js'
import { jobsOf, openStore, withJobsOption, withStoreOption } from '../store-option.js'

/** Version of the `cfs verify --json` document (docs/cli.md); bumped only on an incompatible change. */
export const VERIFY_SCHEMA = 'cfs.verify/1'

const METHOD_TEXT = { kernel: 'kernel fs-verity measurements', rehash: 're-hashing', mixed: 'kernel measurements and re-hashing', none: 'nothing to check' }

export const verifyCommand: CommandSpec = {
  command: 'verify <manifest>',
  describe: 'check that the store holds every object of an image, intact',
  builder: (y) => withJobsOption(withStoreOption(y))
    .positional('manifest', { type: 'string', describe: 'manifest file, or the digest (or prefix) of a kept image' })
    .option('expect', { type: 'string', describe: 'refuse unless the manifest has this sha256 digest' })
    .option('rehash', { type: 'boolean', default: false, describe: 're-hash every object even when the kernel could measure it' }),
  examples: [
    ['cfs verify image.cfsm', 'check every object image.cfsm references'],
    ['cfs verify image.cfsm --expect sha256:4f2a…', 'also require the manifest to be exactly this one'],
    ['cfs verify 4f2a --json', 'check a kept image by digest prefix; print the report as JSON'],
  ],
  handler: async (args, ctx) => {
    // the manifest is judged before the store is opened: a bad manifest is exit 3 even when the store is missing
    const { bytes, source } = await loadManifest(String(args.manifest), args, ctx.io)
    const digest = manifestDigest(bytes)
    if (typeof args.expect === 'string') {
      const expected = parseDigest(args.expect, '--expect digest')
      if (expected !== digest) {
        throw new CfsError('ERR_CFS_MANIFEST_DIGEST_MISMATCH', `manifest ${source} is ${digest}, not the expected ${expected}`,
          { hint: 'it was replaced or is another image; nothing was verified' })
      }
    }
    const manifest = decodeManifest(bytes)
    const store = await openStore(args, ctx.io)
    const progress = startProgress(ctx.io, { label: 'cfs verify', unit: 'objects', quiet: ctx.quiet, json: ctx.json })
    let report: VerifyReport
    try {
      report = await verifyManifest(manifest, store, {
        jobs: jobsOf(args),
        kernel: args.rehash === true ? 'never' : 'auto',
        onProgress: (items, totalItems, bytes, totalBytes) => progress.set({ items, totalItems, bytes, totalBytes }),
      })
    } finally { progress.end() }
    progress.finish()
    const missing = report.findings.filter(f => f.problem === 'missing').length
    return {
      exitCode: report.ok ? ExitCode.OK : ExitCode.MISMATCH,
      ...(report.ok ? {} : { error: new CfsError('ERR_CFS_OBJECT_CORRUPT', `${report.findings.length} problem(s) in ${report.objects} objects of ${source} (${missing} missing)`, { hint: 'see the report' }) }),
      text: textOf(report, source, digest),
      json: jsonOf(report, source, digest, store),
    }
  },
}

async function loadManifest (arg: string, args: Record<string, unknown>, io: Io): Promise<{ bytes: Buffer, source: string }> {
  const file = path.resolve(io.cwd, arg)
  try {
    return { bytes: await fs.readFile(file), source: arg }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' && /^(sha256:)?[0-9a-f]{4,64}$/i.test(arg)) {
      const store = await openStore(args, io)
      const image = await resolveImage(store, arg)
      return { bytes: await readImage(store, image), source: image }
    }
    throw fromSystemError(err, 'cannot read manifest', file)
  }
}

function textOf (r: VerifyReport, source: string, digest: Digest): string {
  const lines: string[] = []
  for (const f of r.findings) {
    const got = f.actualDigest === undefined ? '' : ` (hashes to ${f.actualDigest})`
    lines.push(`${f.problem.toUpperCase()} ${f.object}: ${f.detail}${got}; used by:`)
    for (const p of f.paths) lines.push(`  ${bytesToDisplay(p)}`)
  }
  const how = METHOD_TEXT[r.method]
  const unverifiable = r.unverifiable > 0 ? `; ${r.unverifiable} external file(s) without a digest could not be checked` : ''
  lines.push(r.ok
    ? `ok: ${source} (${digest}): ${r.objects} objects, ${formatBytes(r.bytes)}, checked by ${how}${unverifiable}`
    : `FAILED: ${source} (${digest}): ${r.findings.length} problem(s) in ${r.objects} objects, checked by ${how}${unverifiable}`)
  return lines.join('\n')
}

function jsonOf (r: VerifyReport, source: string, digest: Digest, store: Store): unknown {
  return {
    schema: VERIFY_SCHEMA,
    ok: r.ok,
    manifest: { source, digest },
    store: store.root,
    method: r.method,
    objects: { total: r.objects, bytes: r.bytes, viaKernel: r.viaKernel, rehashed: r.rehashed, unverifiable: r.unverifiable },
    findings: r.findings.map(f => ({
      object: f.object,
      problem: f.problem,
      detail: f.detail,
      expectedSize: f.expectedSize,
      actualSize: f.actualSize ?? null,
      actualDigest: f.actualDigest ?? null,
      paths: f.paths.map(bytesToDisplay),
    })),
  }
}
