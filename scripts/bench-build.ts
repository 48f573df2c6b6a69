/**
 * `cfs build` against `tar -x` of the same layer, on a generated docker-archive of several hundred MB and tens of
 * thousands of files (kept under /tmp/cfs-bench, never in git). Run from the repository root after `pnpm build`:
 *
 *   pnpm exec tsx scripts/bench-build.ts [--mb 300] [--files 30000] [--runs 3] [--dir /tmp/cfs-bench] [--fresh-fs]
 *     [--api] [--append]
 *
 * Each round runs, one after the other: tar -x of the layer, sync -f; tar -x of the image archive and then of the
 * layer it holds (what the issue's calibration timed: the files of an image.tar, by tar), sync -f; cfs build (bin)
 * into an empty store, and cfs build again into the now full store, each timed with /usr/bin/time (wall, user + sys
 * CPU, peak RSS). Each cfs build into an empty store starts after an untimed sync -f, so that it never writes back
 * what an earlier step left dirty. Every
 * run writes to a new directory; they are all deleted at the end, not between runs (ext4 without a journal
 * searches longer for free inodes right after a large delete, which would tax whichever run comes next).
 * --fresh-fs (root) runs every round on a new ext4 made on a loop device (direct I/O) under DIR, unmounted and removed after
 * the round: on a long-used disk, file creation right after other work's large deletes swings by 2× (ext4 skips
 * recently freed inodes), which no number of rounds averages away.
 * When eatmydata(1) is installed, each round also times cfs build into an empty store with sync and fsync made
 * no-ops: not something to run for real, but it splits cfs's own work from waiting for the disk.
 * --api adds buildImage with 1, 2 and 4 workers and with an fsync per object. --compare DIR adds, in every round, the
 * same two builds by the cfs of another checkout (built), e.g. the commit before a change: before and after in the
 * same rounds, under the same load, the two checkouts taking turns at going first.
 * Prints a markdown table (median of the runs, and cfs ÷ tar per round); --append adds it to docs/benchmarks.md.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
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

/** where the image archive holds its one layer */
const LAYER_IN_IMAGE = 'l1/layer.tar'

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
    { path: LAYER_IN_IMAGE, type: 'file', content: layer },
    { path: 'manifest.json', type: 'file', content: Buffer.from(JSON.stringify([{ Config: configName, Layers: [LAYER_IN_IMAGE] }])) },
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

/** Set by SIGINT/SIGTERM: the running command is stopped and the round ends (and its filesystem is removed). */
let interrupted = false
let running: ChildProcess | undefined

/** Runs a command under /usr/bin/time: wall seconds, user + sys CPU seconds (with children), peak RSS. */
async function timedCommand (cmd: string, argv: string[]): Promise<Run> {
  if (interrupted) throw new Error('interrupted')
  const out = path.join(DIR, 'time.txt')
  // its own process group, so that an interruption stops the timed command too, not only time(1)
  const child = spawn('/usr/bin/time', ['-f', '%e %U %S %M', '-o', out, cmd, ...argv], { stdio: ['ignore', 'ignore', 'pipe'], detached: true })
  running = child
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  const status = await new Promise<number | null>((resolve) => child.on('close', resolve))
  running = undefined
  if (interrupted) throw new Error('interrupted')
  if (status !== 0) throw new Error(`${cmd} failed: ${stderr}`)
  const [wall, user, sys, rss] = fs.readFileSync(out, 'utf8').trim().split('\n').at(-1)!.split(' ').map(Number)
  return { wall: wall!, cpu: user! + sys!, rssMb: rss! / 1024 }
}

let serial = 0
/** Where runs write: DIR/runs, or the round's fresh filesystem. */
let runsDir = path.join(DIR, 'runs')
/** whether the last fresh filesystem's loop device does direct I/O (losetup --direct-io=on can fail on some backing filesystems) */
let loopDirectIo = false
/** A new path under runsDir for one run (removed at the end). */
function fresh (name: string): string { return path.join(runsDir, `${name}-${process.pid}-${serial++}`) }

const FRESH_FS = args.includes('--fresh-fs')
const FS_IMAGE = path.join(DIR, 'fresh-fs.img')
const FS_MOUNT = path.join(DIR, 'fresh-fs')

function run (cmd: string, argv: string[]): void {
  const r = spawnSync(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'] })
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed: ${r.stderr.toString().trim()}`)
}

/** A new, empty ext4 (default options: it has a journal) on a loop device at FS_MOUNT, 16 × the input size. */
function mountFreshFs (bytes: number): void {
  unmountFreshFs()
  fs.mkdirSync(FS_MOUNT, { recursive: true })
  fs.writeFileSync(FS_IMAGE, '')
  // a round writes about 5 × the input (6 with --compare): at 16 × the filesystem stays under 40% full, where
  // ext4's allocator is as fast for the last run of a round as for the first
  fs.truncateSync(FS_IMAGE, Math.max(16 * bytes, 1 << 30))
  run('mkfs.ext4', ['-q', '-F', '-E', 'lazy_itable_init=0', FS_IMAGE])
  run('mount', ['-o', 'loop', FS_IMAGE, FS_MOUNT])
  // direct I/O from the loop device to its backing file, as a disk would take the writes: buffered, every page is
  // cached twice (here and in the backing file's page cache) and copied between them, which taxes whatever writes
  // back while it runs (cfs's background flushes) and nothing that only dirties pages (a bare tar -x)
  const dev = spawnSync('findmnt', ['-no', 'SOURCE', FS_MOUNT]).stdout.toString().trim()
  loopDirectIo = dev.startsWith('/dev/loop') && spawnSync('losetup', ['--direct-io=on', dev]).status === 0
  runsDir = FS_MOUNT
}

/** Unmounts (which detaches the loop device mount made) and removes the image; safe to call when not mounted. */
function unmountFreshFs (): void {
  // a just-killed command may hold files open for a moment: a few tries
  for (let tries = 0; spawnSync('mountpoint', ['-q', FS_MOUNT]).status === 0; tries++) {
    if (spawnSync('umount', [FS_MOUNT]).status === 0) break
    if (tries === 20) run('umount', [FS_MOUNT])
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 250)
  }
  fs.rmSync(FS_IMAGE, { force: true })
  try { fs.rmdirSync(FS_MOUNT) } catch {} // not recursive: never into a filesystem still mounted
  runsDir = path.join(DIR, 'runs')
}

const EATMYDATA = spawnSync('sh', ['-c', 'command -v eatmydata']).stdout.toString().trim()

async function main (): Promise<void> {
  const { image, layer } = makeInputs()
  const size = fs.statSync(image).size
  fs.mkdirSync(path.join(DIR, 'runs'), { recursive: true })
  if (FRESH_FS && process.getuid?.() !== 0) throw new Error('--fresh-fs needs root (mkfs.ext4, mount -o loop)')
  const labels = ['tar -x (layer.tar)', 'tar -x, then sync -f', 'tar -x of image.tar, then of its layer', 'tar -x of image.tar, then of its layer, then sync -f',
    'cfs build (bin, empty store)', 'cfs build (bin, objects already stored)']
  const noSync = EATMYDATA === '' ? -1 : labels.push('cfs build (bin, empty store), sync and fsync made no-ops by eatmydata') - 1
  const ci = args.indexOf('--compare')
  const other = ci < 0 ? undefined : path.resolve(args[ci + 1]!)
  const otherAt = labels.length
  if (other !== undefined) labels.push(`cfs build of ${other} (bin, empty store)`, `cfs build of ${other} (bin, objects already stored)`)
  const runs: Run[][] = labels.map(() => [])
  const cfs = path.join(ROOT, 'packages/cli/bin/cfs.js')
  try {
    for (let r = 0; r < RUNS; r++) {
      if (FRESH_FS) mountFreshFs(size)
      const out = fresh('x')
      fs.mkdirSync(out)
      const tar = await timedCommand('tar', ['-xf', layer, '-C', out])
      const sync = await timedCommand('sync', ['-f', out])
      const out2 = fresh('x')
      fs.mkdirSync(path.join(out2, 'rootfs'), { recursive: true })
      const both = await timedCommand('sh', ['-c', 'tar -xf "$1" -C "$2" && tar -xf "$2/$3" -C "$2/rootfs"', 'sh', image, out2, LAYER_IN_IMAGE])
      const sync2 = await timedCommand('sync', ['-f', out2])
      // Every cfs build starts with nothing left to write back (an untimed sync first): the eatmydata build leaves
      // its whole image dirty, and a build after it would pay for that in its own flushes. With --compare, which
      // checkout builds first alternates between rounds.
      const pair = async (bin: string, at: number): Promise<void> => {
        run('sync', ['-f', runsDir])
        const store = fresh('store')
        runs[at]!.push(await timedCommand(process.execPath, [bin, 'build', image, '--store', store, '-o', path.join(DIR, 'out.cfsm')]))
        runs[at + 1]!.push(await timedCommand(process.execPath, [bin, 'build', image, '--store', store, '-o', path.join(DIR, 'out.cfsm')]))
      }
      const pairs = [async () => await pair(cfs, 4)]
      if (other !== undefined) pairs.push(async () => await pair(path.join(other, 'packages/cli/bin/cfs.js'), otherAt))
      if (r % 2 === 1) pairs.reverse()
      for (const p of pairs) await p()
      const built = runs[4]!.at(-1)!
      const again = runs[5]!.at(-1)!
      runs[0]!.push(tar)
      runs[1]!.push({ wall: tar.wall + sync.wall, cpu: tar.cpu + sync.cpu, rssMb: Math.max(tar.rssMb, sync.rssMb) })
      runs[2]!.push(both)
      runs[3]!.push({ wall: both.wall + sync2.wall, cpu: both.cpu + sync2.cpu, rssMb: Math.max(both.rssMb, sync2.rssMb) })
      if (noSync >= 0) {
        run('sync', ['-f', runsDir])
        runs[noSync]!.push(await timedCommand(EATMYDATA, [process.execPath, cfs, 'build', image, '--store', fresh('store'), '-o', path.join(DIR, 'out.cfsm')]))
      }
      console.error(`round ${r + 1}: tar -x ${tar.wall.toFixed(2)} s (${tar.cpu.toFixed(2)} s CPU) + sync ${sync.wall.toFixed(2)} s, image and layer ${both.wall.toFixed(2)} s + sync ${sync2.wall.toFixed(2)} s, cfs build ${built.wall.toFixed(2)} s (${built.cpu.toFixed(2)} s CPU, ${built.rssMb.toFixed(0)} MB), again ${again.wall.toFixed(2)} s${noSync >= 0 ? `, without sync ${runs[noSync]!.at(-1)!.wall.toFixed(2)} s` : ''}; load ${os.loadavg()[0]!.toFixed(1)}`)
      if (other !== undefined) {
        console.error(`  ${other}: cfs build ${runs[otherAt]!.at(-1)!.wall.toFixed(2)} s (${runs[otherAt]!.at(-1)!.cpu.toFixed(2)} s CPU, ${runs[otherAt]!.at(-1)!.rssMb.toFixed(0)} MB), again ${runs[otherAt + 1]!.at(-1)!.wall.toFixed(2)} s`)
      }
      if (FRESH_FS) unmountFreshFs()
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
    if (FRESH_FS) unmountFreshFs()
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
    `${FRESH_FS ? `on a new ext4 (default options; loop device, ${loopDirectIo ? 'direct I/O' : 'buffered: losetup --direct-io=on failed'}) made for each round` : 'on the same ext4 disk'}. Median of ${RUNS} rounds (single runs in brackets). Load average at the end: ${os.loadavg().map(l => l.toFixed(1)).join(' ')}`,
    '(above 2 means other work shared the 2 cores: compare rows of one table only).',
    `Command: \`pnpm exec tsx scripts/bench-build.ts --mb ${MB} --files ${FILES} --runs ${RUNS}${FRESH_FS ? ' --fresh-fs' : ''}${other !== undefined ? ` --compare ${other}` : ''}\``,
    '',
    '| what | wall s | CPU s (user + sys) | peak RSS MB | ÷ tar -x, per round | ÷ tar -x + sync, per round | ÷ tar -x of image.tar and layer, per round |',
    '|---|---|---|---|---|---|---|',
    ...labels.map((label, i) => `| ${label} | ${cell(median(runs[i]!.map(r => r.wall)))} (${per(i, r => r.wall)}) | ${cell(median(runs[i]!.map(r => r.cpu)))} | ${cell(median(runs[i]!.map(r => r.rssMb)), 0)} | ${ratio(i, 0)} | ${ratio(i, 1)} | ${ratio(i, 2)} |`),
    '',
  ].join('\n')
  console.log(table)
  if (args.includes('--append')) fs.appendFileSync(path.join(ROOT, 'docs/benchmarks.md'), '\n' + table)
  // rm(1) rather than fs.rmSync: it unlinks hundreds of thousands of files several times faster
  spawnSync('rm', ['-rf', path.join(DIR, 'runs')])
}

// Ctrl-C or a kill mid-round stops the running command; the round's error path then unmounts and removes its
// filesystem, so nothing is left mounted
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    interrupted = true
    if (running?.pid !== undefined) process.kill(-running.pid, 'SIGTERM')
  })
}
await main().catch((err) => {
  if (!interrupted) throw err
  console.error('bench-build: interrupted; nothing left mounted')
  process.exit(130)
})
