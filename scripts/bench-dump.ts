/**
 * Dump reader and writer speed: parseDump (whole buffer), readDump (streamed in 64 KiB chunks) and encodeDump on
 * real dumps (config.dump.gz, the largest random dump) and on a synthetic one of about 105k lines made by copying
 * config.dump.gz under 12 directories.
 * Run: pnpm exec tsc -b && pnpm exec tsx scripts/bench-dump.ts
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import { gunzipSync } from 'node:zlib'
import { encodeDump, parseDump, readDump } from '../packages/dump/dist/index.js'
import { fixturePath } from '../fixtures/dist/index.js'

const RUNS = 5

function syntheticDump (): Buffer {
  const lines = gunzipSync(fs.readFileSync(fixturePath('composefs/config.dump.gz'))).toString('latin1').split('\n').filter(l => l !== '')
  const [root, ...rest] = lines
  const out = [root!]
  for (let k = 0; k < 12; k++) {
    const dir = `/copy${k}`
    out.push(`${dir} 0 40755 2 0 0 0 0.0 - - -`)
    for (const l of rest) out.push(dir + l)
  }
  return Buffer.from(out.join('\n') + '\n', 'latin1')
}

async function * chunks (buf: Buffer): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < buf.length; i += 65536) yield buf.subarray(i, i + 65536)
}

async function time (fn: () => unknown): Promise<{ best: number, median: number, cpu: number }> {
  const wall: number[] = []
  const cpu: number[] = []
  for (let i = 0; i < RUNS; i++) {
    const c0 = process.cpuUsage()
    const t0 = performance.now()
    await fn()
    wall.push(performance.now() - t0)
    const c = process.cpuUsage(c0)
    cpu.push((c.user + c.system) / 1000)
  }
  wall.sort((a, b) => a - b)
  return { best: wall[0]!, median: wall[RUNS >> 1]!, cpu: Math.min(...cpu) }
}

const inputs: Array<[string, Buffer]> = [
  ['config.dump.gz', fs.readFileSync(fixturePath('composefs/config.dump.gz'))],
  ['r5001.dump.gz', fs.readFileSync(fixturePath('composefs-random/r5001.dump.gz'))],
  ['synthetic (12 × config)', syntheticDump()],
]
console.log(`Node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, load ${os.loadavg().map(l => l.toFixed(1)).join(' ')}`)
console.log('| dump | lines | dump bytes | parseDump best / median / CPU (ms) | readDump best / median (ms) | encodeDump best / median / CPU (ms) |')
console.log('|---|---:|---:|---:|---:|---:|')
for (const [name, bytes] of inputs) {
  const manifest = parseDump(bytes)
  const text = encodeDump(manifest)
  const lines = text.toString('latin1').split('\n').length - 1
  const p = await time(() => parseDump(bytes))
  const r = await time(async () => await readDump(chunks(bytes)))
  const w = await time(() => encodeDump(manifest))
  const f = (x: number): string => x.toFixed(0)
  console.log(`| ${name} | ${lines} | ${text.length} | ${f(p.best)} / ${f(p.median)} / ${f(p.cpu)} | ${f(r.best)} / ${f(r.median)} | ${f(w.best)} / ${f(w.median)} / ${f(w.cpu)} |`)
}
