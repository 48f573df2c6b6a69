/**
 * `cfs build` against `tar -x` of the same layer, on a generated docker-archive of several hundred MB and tens of
 * thousands of files (kept under /tmp/cfs-bench, never in git). Run from the repository root after `pnpm build`:
 *
 *   pnpm exec tsx scripts/bench-build.ts [--mb 300] [--files 30000] [--runs 3] [--append]
 *
 * Prints a markdown table (median of the runs); --append adds it to docs/benchmarks.md.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { buildImage } from '../packages/build/src/index.js'
import { Store } from '../packages/store/src/index.js'
import { encodeEntry, encodeTar } from '../packages/tar/src/index.js'

const args = process.argv.slice(2)
const opt = (name: string, dflt: number): number => { const i = args.indexOf(`--${name}`); return i < 0 ? dflt : Number(args[i + 1]) }
const MB = opt('mb', 300)
const FILES = opt('files', 30000)
const RUNS = opt('runs', 3)
const DIR = '/tmp/cfs-bench'
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..')

/** Deterministic pseudo-random bytes (sha256 counter mode: content that neither compresses nor repeats). */
function prng (seed: string): (n: number) => Buffer {
  let counter = 0
  return (n) => {
    const out = Buffer.allocUnsafe(n)
    for (let off = 0; off < n; off += 32) {
      crypto.createHash('sha256').update(`${seed}:${counter++}`).digest().copy(out, off, 0, Math.min(32, n - off))
    }
    return out
  }
}

/** A layer of FILES files in a few hundred directories whose sizes follow a long tail, about MB megabytes. */
function makeLayer (): Buffer {
  const rand = prng('cfs-bench')
  const parts: Buffer[] = []
  const total = MB * 1e6
  const dirs = Math.max(1, Math.floor(FILES / 100))
  for (let d = 0; d < dirs; d++) parts.push(encodeEntry({ path: `usr/lib/d${d}/`, type: 'dir', mode: 0o755, mtimeSec: 1700000000 }))
  // sizes: most files small, a few large; scaled so the sum is about `total`
  const raw = Array.from({ length: FILES }, (_, i) => Math.exp(((i * 7919) % FILES) / FILES * 12))
  const scale = total / raw.reduce((a, b) => a + b, 0)
  const sizes = raw.map(r => Math.max(1, Math.round(r * scale)))
  const dupOf = new Map<number, Buffer>()
  for (let i = 0; i < FILES; i++) {
    // every 20th file repeats the content of an earlier one (dedup inside an image)
    const content = i % 20 === 19 && dupOf.has(i - 19) ? dupOf.get(i - 19)! : rand(sizes[i]!)
    if (i % 20 === 0) dupOf.set(i, content)
    parts.push(encodeEntry({ path: `usr/lib/d${i % dirs}/f${i}`, type: 'file', mode: 0o644, mtimeSec: 1700000000, content }))
    if (i % 500 === 0) parts.push(encodeEntry({ path: `usr/lib/d${i % dirs}/l${i}`, type: 'symlink', linkname: `f${i}`, mtimeSec: 1700000000 }))
  }
  parts.push(Buffer.alloc(1024))
  return Buffer.concat(parts)
}

function makeInputs (): { image: string, layer: string } {
  const image = path.join(DIR, `image-${MB}mb-${FILES}.tar`)
  const layerFile = path.join(DIR, `layer-${MB}mb-${FILES}.tar`)
  if (fs.existsSync(image) && fs.existsSync(layerFile)) return { image, layer: layerFile }
  fs.mkdirSync(DIR, { recursive: true })
  const layer = makeLayer()
  const diffId = `sha256:${crypto.createHash('sha256').update(layer).digest('hex')}`
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [diffId] } }))
  const configName = `${crypto.createHash('sha256').update(config).digest('hex')}.json`
  fs.writeFileSync(layerFile, layer)
  fs.writeFileSync(image, encodeTar([
    { path: configName, type: 'file', content: config },
    { path: 'l1/layer.tar', type: 'file', content: layer },
    { path: 'manifest.json', type: 'file', content: Buffer.from(JSON.stringify([{ Config: configName, Layers: ['l1/layer.tar'] }])) },
  ]))
  return { image, layer: layerFile }
}

function timed (fn: () => void): number {
  const t = process.hrtime.bigint()
  fn()
  return Number(process.hrtime.bigint() - t) / 1e9
}

async function timedAsync (fn: () => Promise<void>): Promise<number> {
  const t = process.hrtime.bigint()
  await fn()
  return Number(process.hrtime.bigint() - t) / 1e9
}

function median (xs: number[]): number { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]! }

function fresh (name: string): string {
  const p = path.join(DIR, name)
  fs.rmSync(p, { recursive: true, force: true })
  execFileSync('sync')
  return p
}

async function main (): Promise<void> {
  const { image, layer } = makeInputs()
  const size = fs.statSync(image).size
  const rows: Array<[string, number]> = []
  const measure = async (label: string, fn: () => Promise<number>): Promise<void> => {
    const times: number[] = []
    for (let r = 0; r < RUNS; r++) times.push(await fn())
    rows.push([label, median(times)])
    console.error(`${label}: ${times.map(t => t.toFixed(2)).join(' ')} s`)
  }
  await measure('tar -x (layer.tar)', async () => {
    const out = fresh('x'); fs.mkdirSync(out)
    return timed(() => execFileSync('tar', ['-xf', layer, '-C', out]))
  })
  await measure('tar -x, then sync -f', async () => {
    const out = fresh('x'); fs.mkdirSync(out)
    return timed(() => { execFileSync('tar', ['-xf', layer, '-C', out]); execFileSync('sync', ['-f', out]) })
  })
  await measure('cfs build (bin, empty store)', async () => {
    const store = fresh('store')
    return timed(() => {
      const r = spawnSync(process.execPath, [path.join(ROOT, 'packages/cli/bin/cfs.js'), 'build', image, '--store', store, '-o', path.join(DIR, 'out.cfsm')])
      if (r.status !== 0) throw new Error(`cfs build failed: ${r.stderr.toString()}`)
    })
  })
  await measure('cfs build (bin, objects already stored)', async () => timed(() => {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'packages/cli/bin/cfs.js'), 'build', image, '--store', path.join(DIR, 'store'), '-o', path.join(DIR, 'out.cfsm')])
    if (r.status !== 0) throw new Error(`cfs build failed: ${r.stderr.toString()}`)
  }))
  for (const [workers, durability] of [[1, 'syncfs'], [2, 'syncfs'], [4, 'syncfs'], [2, 'fsync']] as const) {
    await measure(`buildImage, ${workers} worker(s), ${durability === 'syncfs' ? 'one syncfs' : 'fsync per object'}`, async () => {
      const store = await Store.open(fresh('store-api'), { create: true })
      return await timedAsync(async () => { await buildImage(image, { store, writer: { workers, durability } }) })
    })
  }
  const files = FILES
  const table = [
    `### cfs build vs tar -x (${new Date().toISOString().slice(0, 10)})`,
    '',
    `Input: generated docker-archive, ${(size / 1e6).toFixed(0)} MB, ${files} files (+ symlinks, 5% duplicate contents), one`,
    `uncompressed layer. Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, store and extraction`,
    `on the same ext4 disk. Median of ${RUNS} runs. Load average when the table was printed: ${os.loadavg()[0]!.toFixed(1)}`,
    '(above 2 means other work shared the 2 cores: compare rows of one table only).',
    `Command: \`pnpm exec tsx scripts/bench-build.ts --mb ${MB} --files ${FILES} --runs ${RUNS}\``,
    '',
    '| what | seconds |',
    '|---|---|',
    ...rows.map(([label, t]) => `| ${label} | ${t.toFixed(2)} |`),
    '',
  ].join('\n')
  console.log(table)
  if (args.includes('--append')) fs.appendFileSync(path.join(ROOT, 'docs/benchmarks.md'), '\n' + table)
}

await main()
