/**
 * Kernel fs-verity for objects. Node has no ioctl, so FS_IOC_ENABLE_VERITY and FS_IOC_MEASURE_VERITY go through the
 * `fsverity` tool (Debian package fsverity). A sealed object is read-only and the kernel checks every block read
 * against its Merkle tree, so its measurement can stand in for re-hashing it.
 */
import { execFile } from 'node:child_process'
import * as path from 'node:path'
import { CfsError } from '@cfs/errors'
import type { Digest } from '@cfs/digest'
import { scanObjects } from './scan-objects.js'
import type { Store } from './store.js'

const TOOL = 'fsverity'
/** paths per `fsverity measure` invocation: far below ARG_MAX for store paths */
const MEASURE_BATCH = 256

interface ToolRun { code: number, stdout: string, stderr: string, spawnError?: NodeJS.ErrnoException }

async function runTool (args: string[]): Promise<ToolRun> {
  return await new Promise((resolve) => {
    execFile(TOOL, args, { encoding: 'utf8', maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err === null) { resolve({ code: 0, stdout, stderr }); return }
      const e = err as NodeJS.ErrnoException & { code?: number | string }
      if (typeof e.code === 'string') { resolve({ code: -1, stdout, stderr, spawnError: e }); return }
      resolve({ code: typeof e.code === 'number' ? e.code : 1, stdout, stderr })
    })
  })
}

/** Why the kernel or filesystem cannot do fs-verity, from the tool's error text; undefined if that is not the cause. */
function unsupportedReason (stderr: string): string | undefined {
  if (/Operation not supported|Inappropriate ioctl for device|Function not\s+implemented/.test(stderr)) {
    return 'the filesystem or kernel of the store does not support fs-verity'
  }
  return undefined
}

function toolMissing (run: ToolRun): CfsError | undefined {
  if (run.spawnError === undefined) return undefined
  return new CfsError('ERR_CFS_VERITY_UNSUPPORTED', `cannot run ${TOOL}: ${run.spawnError.code ?? run.spawnError.message}`,
    { hint: 'install it (apt-get install fsverity)', cause: run.spawnError })
}

/**
 * Enables fs-verity on one file (an object: it must not be open for writing). Returns 'already' when it was sealed
 * before. Throws ERR_CFS_VERITY_UNSUPPORTED when the filesystem, kernel or missing tool rule it out, ERR_CFS_IO
 * for any other refusal.
 */
export async function sealObject (file: string): Promise<'sealed' | 'already'> {
  // explicit, so the kernel's digest is the object's name even where the page size is not 4096; an absolute path
  // cannot be taken for an option
  const run = await runTool(['enable', '--hash-alg=sha256', '--block-size=4096', path.resolve(file)])
  const missing = toolMissing(run)
  if (missing !== undefined) throw missing
  if (run.code === 0) return 'sealed'
  if (/File exists/.test(run.stderr)) return 'already'
  const reason = unsupportedReason(run.stderr)
  if (reason !== undefined) {
    throw new CfsError('ERR_CFS_VERITY_UNSUPPORTED', `cannot enable fs-verity on ${file}: ${reason}`,
      { hint: 'use ext4 (mkfs.ext4 -O verity), f2fs or btrfs on a kernel with CONFIG_FS_VERITY' })
  }
  throw new CfsError('ERR_CFS_IO', `cannot enable fs-verity on ${file}: ${run.stderr.trim().replace(/^ERROR: /, '')}`)
}

export interface SealReport {
  /** false when the store's filesystem or kernel has no fs-verity: nothing was sealed, which is not an error */
  supported: boolean
  /** why not, when unsupported (the first refusal, with what to do about it) */
  reason?: string
  objects: number
  sealed: number
  already: number
}

/**
 * Seals every object in the store. On a filesystem without fs-verity it stops at the first object and returns
 * `supported: false` with the reason, once, instead of failing per object.
 */
export async function sealStore (store: Store, opts: { onProgress?: (done: number, total: number) => void } = {}): Promise<SealReport> {
  const { objects } = await scanObjects(store.objectsDir)
  const report: SealReport = { supported: true, objects: objects.length, sealed: 0, already: 0 }
  let done = 0
  for (const obj of objects) {
    try {
      if (await sealObject(obj.path) === 'sealed') report.sealed++; else report.already++
    } catch (err) {
      if (err instanceof CfsError && err.code === 'ERR_CFS_VERITY_UNSUPPORTED') {
        return { ...report, supported: false, reason: err.message + (err.hint === undefined ? '' : `; ${err.hint}`) }
      }
      throw err
    }
    opts.onProgress?.(++done, objects.length)
  }
  return report
}

/** The kernel's answer for one file: its fs-verity digest, or why there is none. */
export type Measurement = { digest: Digest } | { error: 'not-sealed' | 'unsupported' | 'missing' | 'failed', detail: string }

/**
 * Asks the kernel for the fs-verity digest of each file (FS_IOC_MEASURE_VERITY), many files per `fsverity measure`
 * run. The tool stops at the first file it cannot measure, so a batch resumes after that file. Results are in the
 * order of `files`.
 */
export async function measureFiles (files: readonly string[]): Promise<Measurement[]> {
  const out: Measurement[] = []
  let i = 0
  while (i < files.length) {
    const batch = files.slice(i, i + MEASURE_BATCH)
    // the tool takes no `--`; absolute paths cannot be mistaken for options
    const run = await runTool(['measure', ...batch.map(f => path.resolve(f))])
    if (run.spawnError !== undefined) {
      for (; i < files.length; i++) out.push({ error: 'unsupported', detail: `cannot run ${TOOL}: ${run.spawnError.code ?? ''}` })
      break
    }
    const lines = run.stdout.split('\n').filter(l => l !== '')
    for (const line of lines) {
      const m = /^sha256:([0-9a-f]{64}) /.exec(line)
      out.push(m === null ? { error: 'failed', detail: `unexpected fsverity output: ${line.slice(0, 120)}` } : { digest: `sha256:${m[1]!}` })
    }
    i += lines.length
    if (run.code === 0) continue
    if (lines.length >= batch.length) continue
    const msg = run.stderr.trim().replace(/^ERROR: /, '')
    const error = /No data available/.test(msg) ? 'not-sealed'
      : unsupportedReason(msg) !== undefined ? 'unsupported'
        : /No such file/.test(msg) ? 'missing' : 'failed'
    out.push({ error, detail: msg })
    i++
  }
  return out
}
