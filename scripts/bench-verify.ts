/**
 * Benchmarks for cfs verify (results go to docs/benchmarks.md):
 *
 *  1. pool: verifyManifest over a store of N objects of S bytes (default 2,000 × 256 KiB), --jobs 1 vs --jobs 2.
 *  2. mixed: verifyManifest over a store like a real image: M objects (default 20,000) with log-normal sizes
 *     (median 8 KiB, σ 2.3, at most 64 MiB; seeded, ~2 GiB in all), --jobs 1 vs --jobs 2.
 *  3. cli: `cfs verify MANIFEST --store S --jobs N` end to end (process start, manifest decode, kernel probe,
 *     hashing) on the mixed store, --jobs 1 vs --jobs 2.
 *  4. hash: fs-verity digest throughput of fsverityDigestFile vs `fsverity digest` (fsverity-utils) on one file
 *     (default 1 GiB), both pinned to CPU 0 with taskset, alternating, best of R rounds.
 *
 * Each comparison runs R rounds, --jobs 1 and --jobs 2 back to back in alternating order, and prints the median of
 * the per-round ratios: the goal is ≥ 1.6. Under load from other processes wall-clock ratios are noise; the bare
 * SHA-256 "ceiling" measured in the same rounds shows what two threads could gain at that moment.
 *
 * Usage: pnpm exec tsx scripts/bench-verify.ts [--objects 2000] [--object-kib 256] [--mixed-objects 20000]
 *        [--file-mib 1024] [--rounds 3] [--only pool|mixed|cli|hash] (--only may repeat; default: pool mixed cli)
 * Data is generated under /tmp (os.tmpdir) and removed afterwards. Page cache is warmed first: this measures CPU.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { fsverityDigest } from '../packages/digest/dist/index.js'
import { S_IFDIR, S_IFREG, encodeManifest, finalizeTree, makeInode, objectPathOf, type Manifest, type Node } from '../packages/manifest/dist/index.js'
import { Store } from '../packages/store/dist/index.js'
import { verifyManifest } from '../packages/verify/dist/index.js'

const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(`--${name}`)
  return i < 0 ? def : Number(process.argv[i + 1])
}
const only = process.argv.flatMap((a, i) => a === '--only' ? [process.argv[i + 1]!] : [])
const runs = (what: string): boolean => only.length === 0 ? what !== 'hash' : only.includes(what)
const OBJECTS = arg('objects', 2000)
const OBJECT_BYTES = arg('object-kib', 256) * 1024
const MIXED_OBJECTS = arg('mixed-objects', 20000)
const FILE_BYTES = arg('file-mib', 1024) * 1024 * 1024
const ROUNDS = arg('rounds', 3)
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-bench-verify-'))
const lines: string[] = []
const say = (s: string): void => { console.log(s); lines.push(s) }
const cpu = os.cpus()[0]?.model ?? 'unknown cpu'
const load = (): string => os.loadavg().map(x => x.toFixed(1)).join(' ')
say(`machine: ${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, Linux ${os.release()}, Node ${process.version}; load average at start ${load()}`)

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!
const summary: string[] = []

interface Run { wall: number, cpu: number }

/** CPU seconds every process on the machine has used so far (Linux /proc/stat; 0 elsewhere). */
function machineBusy (): number {
  try {
    const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1, 9).map(Number)
    return (f.reduce((a, b) => a + b, 0) - f[3]! - f[4]!) / 100
  } catch { return 0 }
}
/** R rounds of --jobs 1 and --jobs 2 back to back, the order alternating; the ratio of each round is t1 / t2. */
async function compare (key: string, name: string, mib: number, run: (jobs: number) => Promise<Run>, ceiling: boolean): Promise<void> {
  await run(2) // warm the page cache and the code
  const got: Record<number, Run[]> = { 1: [], 2: [] }
  const ratios: number[] = []
  const ceilings: number[] = []
  const others: number[] = []
  for (let r = 0; r < ROUNDS; r++) {
    for (const jobs of r % 2 === 0 ? [1, 2] : [2, 1]) {
      const busy = machineBusy()
      const one = await run(jobs)
      got[jobs]!.push(one)
      // what other processes took of the machine meanwhile: the noise in this run's wall time
      others.push(Math.max(0, machineBusy() - busy - one.cpu) / (one.wall * os.cpus().length))
    }
    ratios.push(got[1]![r]!.wall / got[2]![r]!.wall)
    if (ceiling) ceilings.push(await hashingCeiling())
  }
  const w1 = median(got[1]!.map(x => x.wall))
  const w2 = median(got[2]!.map(x => x.wall))
  say(`${name}: ${ROUNDS} rounds, order alternating: median --jobs 1 ${w1.toFixed(2)} s (${(mib / w1).toFixed(0)} MiB/s), ` +
    `--jobs 2 ${w2.toFixed(2)} s (${(mib / w2).toFixed(0)} MiB/s); speed-up: median round ×${median(ratios).toFixed(2)} ` +
    `(rounds ${ratios.map(x => x.toFixed(2)).join(' ')}; goal ≥ 1.6); CPU seconds, all threads, median: --jobs 1 ` +
    `${median(got[1]!.map(x => x.cpu)).toFixed(2)}, --jobs 2 ${median(got[2]!.map(x => x.cpu)).toFixed(2)}` +
    (ceiling ? `; bare SHA-256 in 1 vs 2 threads, same rounds: median ×${median(ceilings).toFixed(2)}` : '') +
    `; other processes used ${(100 * median(others)).toFixed(0)}% of the machine during the runs (median; 0% = quiet)`)
  summary.push(`${key} ×${median(ratios).toFixed(2)}`)
}

async function inProcess (manifest: Manifest, store: Store, jobs: number): Promise<Run> {
  const t = process.hrtime.bigint()
  const c = process.cpuUsage()
  const rep = await verifyManifest(manifest, store, { jobs, kernel: 'never' })
  const wall = Number(process.hrtime.bigint() - t) / 1e9
  const u = process.cpuUsage(c)
  if (!rep.ok) throw new Error('bench store did not verify')
  return { wall, cpu: (u.user + u.system) / 1e6 }
}

async function benchPool (): Promise<void> {
  const store = await Store.open(path.join(dir, 'store'), { create: true })
  const root: Node = { name: '', inode: makeInode(S_IFDIR | 0o755), children: [] }
  const data = Buffer.allocUnsafe(OBJECT_BYTES)
  for (let i = 0; i < OBJECTS; i++) {
    crypto.randomFillSync(data)
    const digest = fsverityDigest(data)
    const file = store.objectPath(digest)
    fs.mkdirSync(path.dirname(file), { recursive: true })
    fs.writeFileSync(file, data)
    root.children!.push({ name: `f${i}`, inode: makeInode(S_IFREG | 0o644, { size: OBJECT_BYTES, digest, payload: objectPathOf(digest) }) })
  }
  const manifest = finalizeTree({ root })
  const mib = OBJECTS * OBJECT_BYTES / 2 ** 20
  await compare('pool', `pool: verifyManifest, ${OBJECTS} × ${OBJECT_BYTES / 1024} KiB objects (${mib} MiB)`, mib, async (jobs) => await inProcess(manifest, store, jobs), true)
}

/** A store shaped like an image's: many small files, most bytes in a few big ones. Returns the manifest file. */
async function makeMixedStore (): Promise<{ store: Store, manifest: Manifest, file: string, mib: number }> {
  let seed = 0x2545f491
  const rand = (): number => { seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5; return (seed >>> 0) / 2 ** 32 }
  const normal = (): number => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand())
  const sizes = Array.from({ length: MIXED_OBJECTS }, () => Math.min(64 << 20, Math.round(8192 * Math.exp(2.3 * normal()))))
  const pool = crypto.randomBytes(64 << 20)
  const store = await Store.open(path.join(dir, 'mixed'), { create: true })
  const root: Node = { name: '', inode: makeInode(S_IFDIR | 0o755), children: [] }
  sizes.forEach((size, i) => {
    const data = Buffer.from(pool.subarray(Math.floor(rand() * (pool.length - size))).subarray(0, size))
    if (size >= 4) data.writeUInt32LE(i, 0) // every object distinct
    const digest = fsverityDigest(data)
    const dest = store.objectPath(digest)
    fs.mkdirSync(path.dirname(dest), { recursive: true })
    fs.writeFileSync(dest, data)
    root.children!.push({ name: `f${i}`, inode: makeInode(S_IFREG | 0o644, { size, digest, payload: objectPathOf(digest) }) })
  })
  const manifest = finalizeTree({ root })
  const file = path.join(dir, 'mixed.cfsm')
  fs.writeFileSync(file, encodeManifest(manifest))
  const bytes = sizes.reduce((a, b) => a + b, 0)
  const small = sizes.filter(s => s <= 16384).length
  say(`mixed store: ${MIXED_OBJECTS} objects, ${(bytes / 2 ** 30).toFixed(2)} GiB; ${small} of ≤ 16 KiB, median ${median(sizes)} B, largest ${(Math.max(...sizes) / 2 ** 20).toFixed(1)} MiB`)
  return { store, manifest, file, mib: bytes / 2 ** 20 }
}

async function benchMixed (m: { store: Store, manifest: Manifest, mib: number }): Promise<void> {
  await compare('mixed', `mixed: verifyManifest, ${MIXED_OBJECTS} objects (${m.mib.toFixed(0)} MiB)`, m.mib, async (jobs) => await inProcess(m.manifest, m.store, jobs), false)
}

async function benchCli (m: { store: Store, file: string, mib: number }): Promise<void> {
  const bin = path.join(repo, 'packages/cli/bin/cfs.js')
  await compare('cli', `cli: cfs verify (own process), ${MIXED_OBJECTS} objects (${m.mib.toFixed(0)} MiB)`, m.mib, async (jobs) => {
    // /usr/bin/time reports the child's CPU; the wall time is measured here
    const t = process.hrtime.bigint()
    const r = spawnSync('/usr/bin/time', ['-f', '%U %S', process.execPath, bin, 'verify', m.file, '--store', m.store.root, '--jobs', String(jobs)], { encoding: 'utf8' })
    const wall = Number(process.hrtime.bigint() - t) / 1e9
    if (r.status !== 0) throw new Error(`cfs verify failed (${String(r.status)}): ${r.stderr}`)
    const [user, sys] = r.stderr.trim().split('\n').at(-1)!.split(' ').map(Number)
    return { wall, cpu: user! + sys! }
  }, false)
}

/** How much two threads can gain on this machine at this moment: the load from other processes caps it. */
async function hashingCeiling (): Promise<number> {
  const code = `const c = require('node:crypto'); const b = c.randomBytes(1 << 20); const { parentPort } = require('node:worker_threads')
    for (let i = 0; i < 200; i++) for (let o = 0; o < b.length; o += 4096) c.hash('sha256', b.subarray(o, o + 4096), 'latin1')
    parentPort.postMessage(0)`
  const run = async (n: number): Promise<number> => {
    const t = process.hrtime.bigint()
    await Promise.all(Array.from({ length: n }, async () => await new Promise(resolve => { new Worker(code, { eval: true }).once('message', resolve) })))
    return Number(process.hrtime.bigint() - t) / 1e9 / n
  }
  return await run(1) / await run(2)
}

function benchHash (): void {
  const file = path.join(dir, 'big')
  const fd = fs.openSync(file, 'w')
  const chunk = Buffer.allocUnsafe(16 << 20)
  for (let off = 0; off < FILE_BYTES; off += chunk.length) {
    crypto.randomFillSync(chunk)
    fs.writeSync(fd, chunk, 0, Math.min(chunk.length, FILE_BYTES - off))
  }
  fs.closeSync(fd)
  const pin = spawnSync('taskset', ['--version']).status === 0 ? ['taskset', '-c', '0'] : []
  const digestModule = path.join(repo, 'packages/digest/dist/index.js')
  // the child times only the hashing; `fsverity digest` is timed around the process (its start-up is ~1 ms).
  // async: fsverityDigestFile (double-buffered reads on the libuv pool); sync: fsverityDigestFileSync, the blocking
  // 1 MiB reads the DigestPool threads behind cfs verify and fsck also do.
  const nodeScript = (fn: string): string => `const m = await import(${JSON.stringify(digestModule)}); const t = process.hrtime.bigint();
    const r = await m.${fn}(${JSON.stringify(file)}); const s = Number(process.hrtime.bigint() - t) / 1e9;
    console.log(r.digest.toString('hex') + ' ' + s)`
  const runNode = (fn: string): [string, number] => {
    const [cmd, ...rest] = [...pin, process.execPath, '--input-type=module', '-e', nodeScript(fn)]
    const [hex, s] = execFileSync(cmd!, rest, { encoding: 'utf8' }).trim().split(' ')
    return [hex!, Number(s)]
  }
  const runTool = (): [string, number] => {
    const [cmd, ...rest] = [...pin, 'fsverity', 'digest', '--compact', file]
    const t = process.hrtime.bigint()
    const hex = execFileSync(cmd!, rest, { encoding: 'utf8' }).trim()
    return [hex, Number(process.hrtime.bigint() - t) / 1e9]
  }
  runTool() // warm the page cache
  const best = { tool: Infinity, fsverityDigestFile: Infinity, fsverityDigestFileSync: Infinity }
  const ratios: Record<string, number[]> = { fsverityDigestFile: [], fsverityDigestFileSync: [] }
  for (let r = 0; r < ROUNDS; r++) {
    const [th, ts] = runTool()
    best.tool = Math.min(best.tool, ts)
    for (const fn of ['fsverityDigestFile', 'fsverityDigestFileSync'] as const) {
      const [nh, ns] = runNode(fn)
      if (th !== nh) throw new Error(`digests differ: fsverity ${th}, cfs ${fn} ${nh}`)
      best[fn] = Math.min(best[fn], ns)
      ratios[fn]!.push(ts / ns)
    }
  }
  const mib = FILE_BYTES / 2 ** 20
  const rate = (s: number): string => `${(mib / s).toFixed(0)} MiB/s`
  const median = (xs: number[]): string => `×${[...xs].sort((a, b) => a - b)[xs.length >> 1]!.toFixed(2)}`
  say(`hash: fs-verity digest of a ${mib} MiB file${pin.length > 0 ? ', all pinned to CPU 0 (taskset -c 0)' : ''}, best of ${ROUNDS}, alternating: ` +
    `fsverity digest ${rate(best.tool)}; fsverityDigestFile ${rate(best.fsverityDigestFile)} (ratio of bests ×${(best.tool / best.fsverityDigestFile).toFixed(2)}, ` +
    `median round ${median(ratios.fsverityDigestFile!)}); fsverityDigestFileSync ${rate(best.fsverityDigestFileSync)} ` +
    `(ratio of bests ×${(best.tool / best.fsverityDigestFileSync).toFixed(2)}, median round ${median(ratios.fsverityDigestFileSync!)}); goal ≥ 0.9`)
}

try {
  if (runs('pool')) await benchPool()
  if (runs('mixed') || runs('cli')) {
    const m = await makeMixedStore()
    if (runs('mixed')) await benchMixed(m)
    if (runs('cli')) await benchCli(m)
  }
  if (runs('hash')) benchHash()
  if (summary.length > 0) say(`speed-up --jobs 2 over --jobs 1 (median round; goal ≥ 1.6): ${summary.join(', ')}`)
  say(`load average at end ${load()}`)
} finally {
  fs.rmSync(dir, { recursive: true, force: true })
}
