/**
 * Differential check of @cfs/dump against the C composefs 1.0.8 tools (not part of `pnpm test`: they are not
 * installed here). Mode `trees`: random trees are written as plain dumps, turned into images by mkcomposefs, read
 * back by `composefs-info dump`, and compared with encodeDump (versions 0 and 1). Mode `mutate`: fixture dumps
 * with random byte edits go to both parsers; it reports inputs that cfs accepts and mkcomposefs refuses, outputs
 * that differ, and (as categories) what cfs refuses on purpose.
 *
 * Build the tools from a composefs v1.0.8 checkout (no meson needed):
 *   echo '#define HAVE_OPENSSL 1' > config.h; echo '#define HAVE_ENDIAN_H 1' >> config.h
 *   echo '#define HAVE_REALLOCARRAY 1' >> config.h; echo '#define LCFS_EXTERN extern' >> config.h
 *   for t in mkcomposefs composefs-info; do gcc -O1 -w -I. -Ilibcomposefs -include config.h -D_GNU_SOURCE \
 *     -o $t tools/$t.c libcomposefs/*.c -lcrypto; done
 * Run: pnpm exec tsc -b && MKCOMPOSEFS=… COMPOSEFS_INFO=… pnpm exec tsx scripts/compare-dump-with-composefs.ts \
 *   trees|mutate [count] [seed] [--rich]
 */
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { gunzipSync } from 'node:zlib'
import fc from 'fast-check'
import { encodeDump, escapeOptional, escapePath, escapeXattr, parseDump } from '../packages/dump/dist/index.js'
import { walkDepthFirst, type Inode, type Manifest, type Node } from '../packages/manifest/dist/index.js'
import { fixturePath } from '../fixtures/dist/index.js'
import { randomManifest } from '../packages/dump/test/random-tree.js'

const MK = process.env.MKCOMPOSEFS ?? 'mkcomposefs'
const INFO = process.env.COMPOSEFS_INFO ?? 'composefs-info'
const [mode = 'trees', countArg = '200', seedArg = '1'] = process.argv.slice(2).filter(a => !a.startsWith('--'))
const count = Number(countArg)
let seed = Number(seedArg)
const random = (n: number): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n }
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-'))
const dumpFile = path.join(dir, 'in.dump')
const imageFile = path.join(dir, 'out.img')

/** mkcomposefs then composefs-info dump; the C error text when mkcomposefs refuses. */
function viaC (dump: Uint8Array, version?: 0 | 1): Buffer | string {
  fs.writeFileSync(dumpFile, dump)
  const versionArgs = version === undefined ? [] : [`--min-version=${version}`, `--max-version=${version}`]
  try {
    execFileSync(MK, [...versionArgs, '--from-file', dumpFile, imageFile], { stdio: 'pipe' })
  } catch (err) { return String((err as { stderr: unknown }).stderr).trim() }
  return execFileSync(INFO, ['dump', imageFile], { maxBuffer: 1 << 28 })
}

/**
 * The tree as a plain dump, field by field, with a random Node of each shared inode as the real line; flags the
 * other Nodes as hardlinks.
 */
function plainDump (m: Manifest): Buffer {
  const real = new Map<Inode, string>()
  const nodesOf = new Map<Inode, Array<[string, Node]>>()
  walkDepthFirst(m, (p, node) => { const a = nodesOf.get(node.inode) ?? []; a.push([p, node]); nodesOf.set(node.inode, a) })
  for (const [inode, nodes] of nodesOf) {
    const k = random(nodes.length)
    real.set(inode, nodes[k]![0])
    nodes.forEach(([, n], j) => { if (j !== k) n.hardlink = true; else delete n.hardlink })
  }
  const latin1 = (b: Uint8Array | undefined): string | undefined => b === undefined ? undefined : Buffer.from(b).toString('latin1')
  let out = ''
  walkDepthFirst(m, (p, node) => {
    const i = node.inode
    const target = real.get(i)!
    const link = target === p ? undefined : target
    const type = i.mode & 0o170000
    const payload = link ?? (type === 0o120000 ? i.target : i.payload)
    out += `${escapePath(p)} ${i.size} ${link === undefined ? '' : '@'}${i.mode.toString(8)} ${i.nlink} ${i.uid} ${i.gid} ${i.rdev} ` +
      `${i.mtimeSec}.${i.mtimeNsec} ${escapeOptional(payload)} ${escapeOptional(type === 0o100000 ? latin1(i.inline) : undefined)} ` +
      (i.digest === undefined ? '-' : Buffer.from(i.digest).toString('hex')) +
      i.xattrs.map(x => ` ${escapeXattr(x.key)}=${escapeXattr(latin1(x.value)!)}`).join('') + '\n'
  })
  return Buffer.from(out, 'latin1')
}

function firstDifference (a: Buffer, b: Buffer): string {
  const la = a.toString('latin1').split('\n')
  const lb = b.toString('latin1').split('\n')
  const i = la.findIndex((l, j) => l !== lb[j])
  return `line ${i + 1}\n  cfs ${JSON.stringify(la[i])}\n  C   ${JSON.stringify(lb[i])}`
}

const tally = new Map<string, number>()
const count1 = (k: string): void => { tally.set(k, (tally.get(k) ?? 0) + 1) }
try {
  if (mode === 'trees') {
    const trees = fc.sample(randomManifest({ rich: process.argv.includes('--rich') }), { numRuns: count, seed })
    for (const [n, m] of trees.entries()) {
      for (const version of [0, 1] as const) {
        const c = viaC(plainDump(m), version)
        if (typeof c === 'string') { count1(`mkcomposefs refused: ${c}`); continue }
        const ours = encodeDump(m, { version })
        if (ours.equals(c)) count1('identical'); else { count1('DIFFERENT'); console.log(`tree ${n} v${version}: ${firstDifference(ours, c)}`) }
      }
    }
  } else {
    const base = fs.readFileSync(fixturePath('composefs/special.dump'), 'latin1').split('\n').filter(l => l !== '')
    const extra = gunzipSync(fs.readFileSync(fixturePath('composefs-random/r5003.dump.gz'))).toString('latin1').split('\n')
      .filter(l => /^\/[^/ ]+ [0-9]+ [^@4]/.test(l)).slice(0, 40)
    const alphabet = [' ', '\\', 'x', '0', '9', '-', '@', '=', '/', '.', 'a', '\n', '\t', '\r', '1', '4', '7', '2', '+', 'f']
    for (let n = 0; n < count; n++) {
      const lines = [...new Map([base[0]!, ...base.slice(1).filter(() => random(2) === 0), ...extra.filter(() => random(8) === 0)]
        .map(l => [l.split(' ')[0], l])).values()]
      for (let e = 1 + random(2); e > 0; e--) {
        const li = random(lines.length)
        const l = lines[li]!
        const at = random(l.length + 1)
        const c = alphabet[random(alphabet.length)]!
        const op = random(3)
        lines[li] = op === 0 ? l.slice(0, at) + c + l.slice(at) : op === 1 ? l.slice(0, at) + l.slice(at + 1) : l.slice(0, at) + c + l.slice(at + 1)
      }
      const text = Buffer.from(lines.join('\n') + '\n', 'latin1')
      let ours: Buffer | string
      try { ours = encodeDump(parseDump(text)) } catch (err) { ours = (err as Error).message }
      const c = viaC(text)
      if (typeof ours !== 'string' && typeof c !== 'string') {
        if (ours.equals(c)) count1('both accept, identical'); else { count1('BOTH ACCEPT, DIFFERENT'); console.log(firstDifference(ours, c)) }
      } else if (typeof ours !== 'string') {
        count1(`CFS ACCEPTS, C REFUSES: ${c as string}`); console.log(JSON.stringify(text.toString('latin1')).slice(0, 500))
      } else if (typeof c !== 'string') {
        count1(`cfs refuses, C accepts: ${ours.replace(/'.*'/, "'…'").replace(/\d+/g, 'N')}`)
      } else count1('both refuse')
    }
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true })
}
for (const [k, v] of [...tally].sort((a, b) => b[1] - a[1])) console.log(`${String(v).padStart(6)}  ${k}`)
