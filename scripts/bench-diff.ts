/**
 * cfs diff speed: two synthetic manifests of ≥ 64k entries that differ in 5% of them. Decoding is timed apart
 * from diffing, and both apart from the JSON form. Goal: diffManifests ≤ 200 ms.
 *   pnpm exec tsc -b && pnpm exec tsx scripts/bench-diff.ts [dirs=256] [filesPerDir=256] [runs=7]
 */
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {
  decodeManifest, encodeManifest, finalizeTree, makeInode, S_IFDIR, S_IFREG, type Manifest, type Node,
} from '../packages/manifest/dist/index.js'
import { diffManifests, diffToJson } from '../packages/diff/dist/index.js'

const [dirs = 256, perDir = 256, runs = 7] = process.argv.slice(2).map(Number)

function rng (seed: number): () => number {
  let s = seed >>> 0
  return () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 4294967296 }
}

function digestOf (n: number): Buffer {
  const d = Buffer.alloc(32)
  d.writeUInt32BE(n >>> 0, 0)
  d.writeUInt32BE((0x9e3779b9 ^ n) >>> 0, 28)
  return d
}

function build (mutate: boolean): Manifest {
  const r = rng(42)
  const root: Node = { name: '', inode: makeInode(S_IFDIR | 0o755), children: [] }
  let id = 0
  for (let d = 0; d < dirs; d++) {
    const dir: Node = { name: `dir-${d.toString(16).padStart(4, '0')}`, inode: makeInode(S_IFDIR | 0o755, { mtimeSec: 1700000000 }), children: [] }
    for (let f = 0; f < perDir; f++) {
      const n = id++
      const roll = r() // drawn for every entry on both sides, so the two trees stay in step
      let name = `file-${f}.so`
      const inode = makeInode(S_IFREG | 0o644, { size: 4096 + (n % 1000), digest: digestOf(n), mtimeSec: 1700000000 + (n % 97) })
      if (mutate && roll < 0.05) {
        const kind = Math.floor((roll / 0.05) * 5)
        if (kind === 0) { inode.digest = digestOf(n + 1e7); inode.size += 1 } else if (kind === 1) inode.mode = S_IFREG | 0o755
        else if (kind === 2) inode.mtimeSec += 1
        else if (kind === 3) name = `renamed-${f}.so`
        else continue // removed
      }
      dir.children!.push({ name, inode })
    }
    if (mutate && d % 20 === 0) {
      for (let k = 0; k < 64; k++) dir.children!.push({ name: `new-${k}`, inode: makeInode(S_IFREG | 0o644, { size: 10, inline: Buffer.from('0123456789') }) })
    }
    root.children!.push(dir)
  }
  return finalizeTree({ root })
}

function count (m: Manifest): number {
  let n = 0
  const rec = (node: Node): void => { n++; for (const c of node.children ?? []) rec(c) }
  rec(m.root)
  return n
}

function time<T> (fn: () => T): [T, number[]] {
  const times: number[] = []
  let out!: T
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint()
    out = fn()
    times.push(Number(process.hrtime.bigint() - t0) / 1e6)
  }
  return [out, times]
}
const median = (xs: number[]): number => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)]!
const fmt = (xs: number[]): string =>
  `first ${xs[0]!.toFixed(1)} ms, median ${median(xs).toFixed(1)} ms (min ${Math.min(...xs).toFixed(1)}, max ${Math.max(...xs).toFixed(1)}) over ${xs.length} runs`

const bytesA = encodeManifest(build(false))
const bytesB = encodeManifest(build(true))
const [a, decodeA] = time(() => decodeManifest(bytesA))
const [b, decodeB] = time(() => decodeManifest(bytesB))
const [result, diffTimes] = time(() => diffManifests(a, b))
const [, jsonTimes] = time(() => JSON.stringify(diffToJson(result)))
const kinds: Record<string, number> = {}
for (const c of result.changes) kinds[c.kind] = (kinds[c.kind] ?? 0) + 1

console.log(`entries: A ${count(a)}, B ${count(b)}; manifest bytes: A ${bytesA.length}, B ${bytesB.length}`)
console.log(`changes: ${result.changes.length} ${JSON.stringify(kinds)}`)
console.log(`decode A: ${fmt(decodeA)}`)
console.log(`decode B: ${fmt(decodeB)}`)
console.log(`diffManifests: ${fmt(diffTimes)}`)
console.log(`diffToJson + JSON.stringify: ${fmt(jsonTimes)}`)
// the whole command once per mode, cold: process start, reading, decoding, diffing, printing
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-'))
try {
  fs.writeFileSync(path.join(dir, 'a.cfsm'), bytesA)
  fs.writeFileSync(path.join(dir, 'b.cfsm'), bytesB)
  const bin = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../packages/cli/bin/cfs.js')
  for (const mode of [['-q'], [], ['--json'], ['--stat']]) {
    const t0 = process.hrtime.bigint()
    try { execFileSync(process.execPath, [bin, 'diff', ...mode, 'a.cfsm', 'b.cfsm'], { cwd: dir, stdio: 'ignore' }) } catch { /* exits 6 */ }
    console.log(`cfs diff ${[...mode, ''].join(' ')}a.cfsm b.cfsm (wall, one run): ${(Number(process.hrtime.bigint() - t0) / 1e6).toFixed(0)} ms`)
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true })
}
console.log(`machine: ${os.cpus()[0]?.model ?? 'unknown cpu'} x${os.cpus().length}, node ${process.version}, loadavg ${os.loadavg().map(l => l.toFixed(2)).join(' ')}`)
