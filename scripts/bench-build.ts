/**
 * `cfs build` against `tar -x` of the same layer, on a generated docker-archive of several hundred MB and tens of
 * thousands of files (kept under /tmp/cfs-bench, never in git). Run from the repository root after `pnpm build`:
 *
 *   pnpm exec tsx scripts/bench-build.ts [--mb 300] [--files 30000] [--runs 3] [--dir /tmp/cfs-bench] [--api] [--append]
 *
 * Each round runs, one after the other: tar -x of the layer, sync -f, cfs build (bin) into an empty store, and
 * cfs build again into the now full store, each timed with /usr/bin/time (wall, user + sys CPU, peak RSS). Every
 * run writes to a new directory; they are all deleted at the end, not between runs (ext4 without a journal
 * searches longer for free inodes right after a large delete, which would tax whichever run comes next).
 * --api adds buildImage with 1, 2 and 4 workers and with an fsync per object. --compare DIR adds, in every round, the
 * same two builds by the cfs of another checkout (built), e.g. the commit before a change: before and after in the
 * same rounds, under the same load.
 * Prints a markdown table (median of the runs, and cfs ÷ tar per round); --append adds it to docs/benchmarks.md.
 */
import { spawnSync } from 'node:child_process'
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
const DIR = ((): string => { const i = args.indexOf('--dir'); return i < 0 ? '/tmp/cfs-bench' : path.resolve(args[i + 1]!) })()
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..')

/** Deterministic pseudo-random bytes (AES-256-CTR keystream keyed by the seed: content that neither compresses nor
 *  repeats, at GB/s, so that inputs of several GB are made in seconds). */
function prng (seed: string): (n: number) => Buffer {
  const cipher = crypto.createCipheriv('aes-256-ctr', crypto.createHash('sha256').update(seed).digest(), Buffer.alloc(16))
  return (n) => cipher.update(Buffer.alloc(n))
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

async function timedAsync (fn: () => Promise<void>): Promise<number> {
  const t = process.hrtime.bigint()
  await fn()
  return Number(process.hrtime.bigint() - t) / 1e9
}

function median (xs: number[]): number { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]! }

interface Run { wall: number, cpu: number, rssMb: number }

/** Runs a command under /usr/bin/time: wall seconds, user + sys CPU seconds (with children), peak RSS. */
function timedCommand (cmd: string, argv: string[]): Run {
  const out = path.join(DIR, 'time.txt')
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', '-o', out, cmd, ...argv], { stdio: ['ignore', 'ignore', 'pipe'] })
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr.toString()}`)
  const [wall, user, sys, rss] = fs.readFileSync(out, 'utf8').trim().split('\n').at(-1)!.split(' ').map(Number)
  return { wall: wall!, cpu: user! + sys!, rssMb: rss! / 1024 }
}

let serial = 0
/** A new path under DIR for one run (removed at the end). */
function fresh (name: string): string { return path.join(DIR, 'runs', `${name}-${process.pid}-${serial++}`) }

async function main (): Promise<void> {
  const { image, layer } = makeInputs()
  const size = fs.statSync(image).size
  fs.mkdirSync(path.join(DIR, 'runs'), { recursive: true })
  const labels = ['tar -x (layer.tar)', 'tar -x, then sync -f', 'cfs build (bin, empty store)', 'cfs build (bin, objects already stored)']
  const ci = args.indexOf('--compare')
  const other = ci < 0 ? undefined : path.resolve(args[ci + 1]!)
  if (other !== undefined) labels.push(`cfs build of ${other} (bin, empty store)`, `cfs build of ${other} (bin, objects already stored)`)
  const runs: Run[][] = labels.map(() => [])
  const cfs = path.join(ROOT, 'packages/cli/bin/cfs.js')
  try {
    for (let r = 0; r < RUNS; r++) {
      const out = fresh('x')
      fs.mkdirSync(out)
      const tar = timedCommand('tar', ['-xf', layer, '-C', out])
      const sync = timedCommand('sync', ['-f', out])
      const store = fresh('store')
      const built = timedCommand(process.execPath, [cfs, 'build', image, '--store', store, '-o', path.join(DIR, 'out.cfsm')])
      const again = timedCommand(process.execPath, [cfs, 'build', image, '--store', store, '-o', path.join(DIR, 'out.cfsm')])
      runs[0]!.push(tar)
      runs[1]!.push({ wall: tar.wall + sync.wall, cpu: tar.cpu + sync.cpu, rssMb: Math.max(tar.rssMb, sync.rssMb) })
      runs[2]!.push(built)
      runs[3]!.push(again)
      console.error(`round ${r + 1}: tar -x ${tar.wall.toFixed(2)} s (${tar.cpu.toFixed(2)} s CPU) + sync ${sync.wall.toFixed(2)} s, cfs build ${built.wall.toFixed(2)} s (${built.cpu.toFixed(2)} s CPU, ${built.rssMb.toFixed(0)} MB), again ${again.wall.toFixed(2)} s; load ${os.loadavg()[0]!.toFixed(1)}`)
      if (other !== undefined) {
        const bin = path.join(other, 'packages/cli/bin/cfs.js')
        const store2 = fresh('store')
        runs[4]!.push(timedCommand(process.execPath, [bin, 'build', image, '--store', store2, '-o', path.join(DIR, 'out.cfsm')]))
        runs[5]!.push(timedCommand(process.execPath, [bin, 'build', image, '--store', store2, '-o', path.join(DIR, 'out.cfsm')]))
        console.error(`  ${other}: cfs build ${runs[4]!.at(-1)!.wall.toFixed(2)} s (${runs[4]!.at(-1)!.cpu.toFixed(2)} s CPU, ${runs[4]!.at(-1)!.rssMb.toFixed(0)} MB), again ${runs[5]!.at(-1)!.wall.toFixed(2)} s`)
      }
    }
    if (args.includes('--api')) {
      for (const [workers, durability] of [[1, 'syncfs'], [2, 'syncfs'], [4, 'syncfs'], [2, 'fsync']] as const) {
        labels.push(`buildImage, ${workers} worker(s), ${durability === 'syncfs' ? 'one syncfs' : 'fsync per object'}`)
        const times: Run[] = []
        for (let r = 0; r < RUNS; r++) {
          const store = await Store.open(fresh('store-api'), { create: true })
          times.push({ wall: await timedAsync(async () => { await buildImage(image, { store, writer: { workers, durability } }) }), cpu: NaN, rssMb: NaN })
        }
        runs.push(times)
      }
    }
  } catch (err) {
    fs.rmSync(path.join(DIR, 'runs'), { recursive: true, force: true })
    throw err
  }
  const per = (i: number, f: (r: Run) => number): string => runs[i]!.map(f).map(x => x.toFixed(2)).join(' ')
  const ratio = (i: number, base: number): string => {
    const rs = runs[i]!.map((r, k) => r.wall / runs[base]![k]!.wall)
    return `${median(rs).toFixed(2)} (${rs.map(x => x.toFixed(2)).join(' ')})`
  }
  const cell = (x: number, digits = 2): string => Number.isNaN(x) ? '' : x.toFixed(digits)
  const table = [
    `### cfs build vs tar -x (${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC)`,
    '',
    `Input: generated docker-archive, ${(size / 1e6).toFixed(0)} MB, ${FILES} files (+ symlinks, 5% duplicate contents), one`,
    `uncompressed layer. Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, store and extraction`,
    `on the same ext4 disk. Median of ${RUNS} rounds (single runs in brackets). Load average at the end: ${os.loadavg().map(l => l.toFixed(1)).join(' ')}`,
    '(above 2 means other work shared the 2 cores: compare rows of one table only).',
    `Command: \`pnpm exec tsx scripts/bench-build.ts --mb ${MB} --files ${FILES} --runs ${RUNS}${other !== undefined ? ` --compare ${other}` : ''}\``,
    '',
    '| what | wall s | CPU s (user + sys) | peak RSS MB | ÷ tar -x, per round | ÷ tar -x + sync, per round |',
    '|---|---|---|---|---|---|',
    ...labels.map((label, i) => `| ${label} | ${cell(median(runs[i]!.map(r => r.wall)))} (${per(i, r => r.wall)}) | ${cell(median(runs[i]!.map(r => r.cpu)))} | ${cell(median(runs[i]!.map(r => r.rssMb)), 0)} | ${ratio(i, 0)} | ${ratio(i, 1)} |`),
    '',
  ].join('\n')
  console.log(table)
  if (args.includes('--append')) fs.appendFileSync(path.join(ROOT, 'docs/benchmarks.md'), '\n' + table)
  // rm(1) rather than fs.rmSync: it unlinks hundreds of thousands of files several times faster
  spawnSync('rm', ['-rf', path.join(DIR, 'runs')])
}

await main()
