/**
 * `cfs mount` against a C FUSE filesystem on the same tree: `ls -lR` cold (caches dropped, fresh mounts) and warm.
 * Builds a ≥ 60k-entry manifest in code (deep directories, files, symlinks; objects are not needed for ls),
 * materialises the same tree on disk, packs it with mksquashfs and mounts it with squashfuse and squashfuse_ll.
 * Needs root. Run: pnpm exec tsx scripts/bench-mount.ts [--rounds N] [--no-append] [--only 'cfs mount']
 * Appends a result table to docs/benchmarks.md.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { encodeManifest, finalizeTree, makeInode, S_IFDIR, S_IFLNK, S_IFREG, type Manifest, type Node } from '../packages/manifest/dist/index.js'
import { Store } from '../packages/store/dist/index.js'

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..')
const CFS = path.join(ROOT, 'packages/cli/bin/cfs.js')
const args = process.argv.slice(2)
const rounds = Number(args[args.indexOf('--rounds') + 1] ?? 3) || 3
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined
const append = !args.includes('--no-append') && only === undefined

let seed = 12345
const rand = (n: number): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n }

/** 16 × 16 × 16 leaf directories of 10 files, 3 symlinks and 1 empty directory: 61,713 entries */
function buildTree (): Manifest {
  const dir = (name: string, children: Node[]): Node => ({ name, inode: makeInode(S_IFDIR | 0o755, { mtimeSec: 1700000000 + rand(1e6), mtimeNsec: rand(1e9) }), children })
  const leaf = (): Node[] => {
    const out: Node[] = []
    for (let i = 0; i < 10; i++) {
      const size = rand(8192)
      const digest = Buffer.alloc(32); for (let j = 0; j < 32; j++) digest[j] = rand(256)
      out.push({ name: `file-${i}.dat`, inode: makeInode(S_IFREG | (i === 0 ? 0o755 : 0o644), { size, digest, uid: rand(3) * 1000, gid: rand(3) * 1000, mtimeSec: 1600000000 + rand(1e8), mtimeNsec: rand(1e9) }) })
    }
    for (let i = 0; i < 3; i++) {
      const target = `../sibling-${i}/file-${i}.dat`
      out.push({ name: `link-${i}`, inode: makeInode(S_IFLNK | 0o777, { size: target.length, target, mtimeSec: 1650000000 }) })
    }
    out.push(dir('empty', []))
    return out
  }
  const level = (depth: number): Node[] => Array.from({ length: 16 }, (_, i) => dir(`d${depth}-${i.toString(16)}`, depth === 2 ? leaf() : level(depth + 1)))
  return finalizeTree({ root: dir('', level(0)) })
}

function count (node: Node): number { return 1 + (node.children ?? []).reduce((a, c) => a + count(c), 0) }

function materialise (node: Node, at: string): void {
  for (const c of node.children ?? []) {
    const p = path.join(at, c.name)
    const m = c.inode.mode & 0o170000
    if (m === S_IFDIR) { fs.mkdirSync(p); materialise(c, p) } else if (m === S_IFLNK) fs.symlinkSync(c.inode.target!, p)
    else { fs.writeFileSync(p, Buffer.alloc(c.inode.size, 0x61)); fs.chownSync(p, c.inode.uid, c.inode.gid); fs.chmodSync(p, c.inode.mode & 0o7777) }
    if (m !== S_IFLNK) fs.utimesSync(p, c.inode.mtimeSec, c.inode.mtimeSec)
  }
}

function dropCaches (): void { fs.writeFileSync('/proc/sys/vm/drop_caches', '3\n') }

/** seconds of one `ls -lR` over `dir` */
function timeLs (dir: string): number {
  const t0 = process.hrtime.bigint()
  const r = spawnSync('ls', ['-lR', dir], { stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 30 })
  if (r.status !== 0) throw new Error(`ls -lR ${dir} failed: ${r.stderr.toString()}`)
  return Number(process.hrtime.bigint() - t0) / 1e9
}

function umount (mnt: string): void { spawnSync('umount', [mnt]); spawnSync('umount', ['-l', mnt]) }

interface Fs { name: string, mount: (mnt: string) => void }

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]! }

async function main (): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-'))
  const mounts: string[] = []
  try {
    const manifest = buildTree()
    const entries = count(manifest.root)
    const manifestPath = path.join(tmp, 'tree.cfsm')
    fs.writeFileSync(manifestPath, encodeManifest(manifest))
    const storeDir = path.join(tmp, 'store')
    await Store.open(storeDir, { create: true })
    const img = path.join(tmp, 'tree.sqfs')
    const src = path.join(tmp, 'src')
    if (only === undefined) {
      fs.mkdirSync(src)
      materialise(manifest.root, src)
      execFileSync('mksquashfs', [src, img, '-noappend', '-quiet', '-no-progress'], { stdio: 'ignore' })
    }
    const filesystems: Fs[] = ([
      { name: 'cfs mount', mount: (mnt) => { execFileSync(process.execPath, [CFS, 'mount', manifestPath, mnt, '--store', storeDir]) } },
      { name: 'squashfuse', mount: (mnt) => { execFileSync('squashfuse', [img, mnt]) } },
      { name: 'squashfuse_ll', mount: (mnt) => { execFileSync('squashfuse_ll', [img, mnt]) } },
      // the same tree on the local disk, no FUSE: the floor for ls itself
      { name: 'local disk', mount: (mnt) => { execFileSync('mount', ['--bind', src, mnt]) } },
    ] satisfies Fs[]).filter(f => only === undefined || f.name === only)
    const results: Record<string, { cold: number[], warm: number[], mount: number[] }> = {}
    for (const f of filesystems) results[f.name] = { cold: [], warm: [], mount: [] }
    for (let r = 0; r < rounds; r++) {
      for (const f of filesystems) {
        const mnt = path.join(tmp, `mnt-${f.name.replace(/\W/g, '')}`)
        fs.mkdirSync(mnt, { recursive: true })
        mounts.push(mnt)
        dropCaches()
        const t0 = process.hrtime.bigint()
        f.mount(mnt)
        results[f.name]!.mount.push(Number(process.hrtime.bigint() - t0) / 1e9)
        try {
          results[f.name]!.cold.push(timeLs(mnt))
          results[f.name]!.warm.push(timeLs(mnt))
        } finally { umount(mnt) }
      }
    }
    const cfs = results['cfs mount'] ?? results[filesystems[0]!.name]!
    const lines = [
      '', `## cfs mount vs squashfuse: ls -lR of ${entries} entries (${new Date().toISOString().slice(0, 10)})`, '',
      `Command: \`pnpm exec tsx scripts/bench-mount.ts --rounds ${rounds}\`. Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'},`,
      `${Math.round(os.totalmem() / 2 ** 30)} GiB, Linux ${os.release()}, Node ${process.version}; shared with other jobs while measured, so`,
      'absolute times are noisy; all run in the same rounds. Cold: caches dropped, then a fresh mount. Median of the rounds.',
      '"mount s" is the mount command until it returns (cfs: a background server that has the image loaded). "local disk"',
      'is the materialised tree bind-mounted, no FUSE: the floor for ls itself.', '',
      '| filesystem | mount s | cold s | warm s | cfs cold ÷ this | cfs warm ÷ this |', '|---|---|---|---|---|---|',
    ]
    for (const f of filesystems) {
      const x = results[f.name]!
      lines.push(`| ${f.name} | ${median(x.mount).toFixed(2)} | ${median(x.cold).toFixed(2)} | ${median(x.warm).toFixed(2)} | ${(median(cfs.cold) / median(x.cold)).toFixed(2)} | ${(median(cfs.warm) / median(x.warm)).toFixed(2)} |`)
    }
    lines.push('', 'All rounds (s): ' + filesystems.map(f => `${f.name} cold ${results[f.name]!.cold.map(t => t.toFixed(2)).join('/')} warm ${results[f.name]!.warm.map(t => t.toFixed(2)).join('/')}`).join('; '), '')
    const text = lines.join('\n')
    process.stdout.write(text + '\n')
    if (append) fs.appendFileSync(path.join(ROOT, 'docs/benchmarks.md'), text)
  } finally {
    for (const m of mounts) umount(m)
    fs.rmSync(tmp, { recursive: true, force: true })
  }
}

await main()
