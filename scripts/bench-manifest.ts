/**
 * Manifest size and speed benchmark: `pnpm exec tsx scripts/bench-manifest.ts [entries]`.
 * Compares the manifest with `gzip -9` and `xz -9` of the composefs text dump of the same tree, for
 * fixtures/composefs/config.dump.gz and for a synthetic OS-shaped tree, and times encode, decode and lookup.

 * Dumps are read and written by @cfs/dump (the synthetic tree's dump text is `encodeDump` of it).
 *
 * Each tree is timed in a process of its own that holds only that tree (`--child`): timed in one process after
 * the others, the same encode measured 99–160 ms instead of 72–80, depending on what the earlier rows and the
 * dump text had left for the collector (its concurrent marking then competes for the 2 cores). The decode column
 * of a fresh process is what one CLI command pays.
 */
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import * as zlib from 'node:zlib'
import { fixturePath } from '@cfs/fixtures'
import { decodeManifest, encodeManifest, lookupPath, walkDepthFirst, type Manifest } from '../packages/manifest/src/index.js'
import { encodeDump, parseDump } from '../packages/dump/src/index.js'
import { syntheticTree } from '../packages/manifest/test/synthetic-tree.js'

/** Best wall time and best process CPU time (all threads, so GC helpers count) over `runs`. */
function time<T> (runs: number, f: () => T): { ms: number, cpu: number, value: T } {
  let best = Infinity
  let bestCpu = Infinity
  let value: T | undefined
  for (let r = 0; r < runs; r++) {
    const c0 = process.cpuUsage()
    const t0 = process.hrtime.bigint()
    value = f()
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6)
    const c = process.cpuUsage(c0)
    bestCpu = Math.min(bestCpu, (c.user + c.system) / 1000)
  }
  return { ms: best, cpu: bestCpu, value: value! }
}

function paths (m: Manifest): string[] {
  const out: string[] = []
  walkDepthFirst(m, (p) => { out.push(p) })
  return out
}

const DIST = new URL('../packages/manifest/dist/index.js', import.meta.url).href

/** Decode the manifest file once in a fresh process (what a CLI command pays), best of 5. */
function freshDecode (file: string): { ms: number, cpu: number } {
  const code = `import * as fs from 'node:fs'; import { decodeManifest } from '${DIST}'
    const b = fs.readFileSync(process.argv[1]); const c = process.cpuUsage(); const t = performance.now()
    decodeManifest(b); const d = process.cpuUsage(c)
    console.log(JSON.stringify({ ms: performance.now() - t, cpu: (d.user + d.system) / 1000 }))`
  let best = { ms: Infinity, cpu: Infinity }
  for (let r = 0; r < 5; r++) {
    const out = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', code, file]).toString()) as { ms: number, cpu: number }
    best = { ms: Math.min(best.ms, out.ms), cpu: Math.min(best.cpu, out.cpu) }
  }
  return best
}

/** The tree a row measures: a dump fixture, or the synthetic tree of `n` entries (`unshared`: see below). */
type TreeSpec = { dump: string } | { synthetic: number, unshared?: true }

function treeOf (spec: TreeSpec): { m: Manifest, dumpText: Buffer } {
  if ('dump' in spec) {
    const text = zlib.gunzipSync(fs.readFileSync(fixturePath(spec.dump)))
    return { m: parseDump(text), dumpText: text }
  }
  const m = syntheticTree(spec.synthetic, 1)
  // The producers (cfs build, the dump reader, decodeManifest) share one xattr array per distinct set; a tree made
  // elsewhere may give every inode its own array and value bytes, which the encoder must compare byte by byte.
  if (spec.unshared === true) walkDepthFirst(m, (_p, n) => { n.inode.xattrs = n.inode.xattrs.map(x => ({ key: x.key, value: Buffer.from(x.value) })) })
  return { m, dumpText: encodeDump(m) }
}

interface Timings { nodes: number, enc: { ms: number, cpu: number }, dec: { ms: number, cpu: number }, lookUs: number }

/** In the --child process: encode, decode and lookups of one tree, the manifest left at `out`. */
function timeTree (spec: TreeSpec, out: string): Timings {
  const { m } = treeOf(spec)
  let nodes = 0
  walkDepthFirst(m, () => { nodes++ })
  const enc = time(7, () => encodeManifest(m))
  const bytes = enc.value
  fs.writeFileSync(out, bytes)
  const dec = time(7, () => decodeManifest(bytes))
  const all = paths(dec.value)
  const sample = Array.from({ length: 10000 }, (_, i) => all[(i * 7919) % all.length]!)
  const look = time(5, () => { for (const p of sample) lookupPath(dec.value, p) })
  return { nodes, enc: { ms: enc.ms, cpu: enc.cpu }, dec: { ms: dec.ms, cpu: dec.cpu }, lookUs: look.ms * 1000 / sample.length }
}

function bench (label: string, spec: TreeSpec): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-'))
  let t: Timings
  let bytes: Buffer
  let fresh: { ms: number, cpu: number }
  try {
    const out = path.join(dir, 'm.cfsm')
    t = JSON.parse(execFileSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--child', JSON.stringify(spec), out],
      { maxBuffer: 1 << 20 }).toString()) as Timings
    bytes = fs.readFileSync(out)
    fresh = freshDecode(out)
  } finally { fs.rmSync(dir, { recursive: true, force: true }) }
  const { dumpText } = treeOf(spec)
  const { nodes, enc, dec } = t
  const gz = execFileSync('gzip', ['-9', '-c'], { input: dumpText, maxBuffer: 1 << 30 }).length
  const xz = execFileSync('xz', ['-9', '-c'], { input: dumpText, maxBuffer: 1 << 30 }).length
  const row = `| ${label} | ${nodes} | ${dumpText.length} | ${gz} | ${xz} | **${bytes.length}** | ${(bytes.length / xz * 100).toFixed(1)}% | ${enc.ms.toFixed(0)} / ${enc.cpu.toFixed(0)} | ${dec.ms.toFixed(0)} / ${dec.cpu.toFixed(0)} | ${fresh.ms.toFixed(0)} / ${fresh.cpu.toFixed(0)} | ${t.lookUs.toFixed(2)} |`
  console.log(row)
}

if (process.argv[2] === '--child') {
  console.log(JSON.stringify(timeTree(JSON.parse(process.argv[3]!) as TreeSpec, process.argv[4]!)))
  process.exit(0)
}

const entries = Number(process.argv[2] ?? 100000)
console.log(`machine: ${os.cpus()[0]?.model} ×${os.cpus().length}, node ${process.version}, load average ${os.loadavg().map(l => l.toFixed(1)).join(' ')}`)
console.log('| tree | entries | dump B | gzip -9 B | xz -9 B | manifest B | vs xz | encode ms wall / cpu | decode ms wall / cpu | decode in a fresh process ms wall / cpu | lookup µs |')
console.log('|---|---|---|---|---|---|---|---|---|---|---|')
for (const rel of ['composefs/config.dump.gz', 'composefs-random/r5001.dump.gz']) bench(rel.split('/')[1]!, { dump: rel })
for (const n of [65536, entries]) bench(`synthetic ${n}`, { synthetic: n })
bench('synthetic 65536, xattrs unshared', { synthetic: 65536, unshared: true })
console.log(`load average after: ${os.loadavg().map(l => l.toFixed(1)).join(' ')}`)
