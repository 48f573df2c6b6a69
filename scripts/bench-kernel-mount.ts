/**
 * Kernel mount speed on a synthetic image of ≥ 60k entries: time to write the composefs image into the cache,
 * then for each mount backend a cold-cache run (drop_caches, fresh mount, `ls -lR`) and warm `ls -lR` runs.
 * External files have digests and payloads but no objects: `ls -lR` only stats, and overlayfs looks up data-only
 * layers lazily (on open), so the store can stay empty. Needs root.
 * Run: pnpm exec tsc -b && pnpm exec tsx scripts/bench-kernel-mount.ts [entries] [--runs=N] [--append]
 * Backends: kernel (erofs + overlayfs), FUSE (@cfs/mount), and the EROFS layer alone as a reference; another is
 * added by putting a MountBackend into `backends` in main().
 */
import { execFileSync, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { performance } from 'node:perf_hooks'
import { writeErofs } from '../packages/erofs/dist/index.js'
import { ensureImage, mountKernel, unmountKernel } from '../packages/kernel-mount/dist/index.js'
import { mountImage, type MountedImage } from '../packages/mount/dist/index.js'
import {
  decodeManifest, encodeManifest, finalizeTree, makeInode, objectPathOf, S_IFDIR, S_IFLNK, S_IFREG, type Manifest, type Node,
} from '../packages/manifest/dist/index.js'
import { Store } from '../packages/store/dist/index.js'

/** A mount backend under test: mount `manifestPath` (objects in `storeDir`) on `mountpoint`, and undo it. */
export interface MountBackend {
  name: string
  mount: (manifestPath: string, mountpoint: string, storeDir: string) => Promise<void>
  unmount: (mountpoint: string) => Promise<void>
}

export function kernelBackend (runDir: string): MountBackend {
  return {
    name: 'kernel (erofs + overlayfs)',
    mount: async (manifestPath, mountpoint, storeDir) => { await mountKernel({ manifestPath, mountpoint, storeDir, runDir }) },
    unmount: async (mountpoint) => { await unmountKernel(mountpoint) },
  }
}

/** `cfs mount --backend fuse`: the FUSE server runs on a worker thread of this process. */
export function fuseBackend (): MountBackend {
  const mounted = new Map<string, MountedImage>()
  return {
    name: 'FUSE (@cfs/mount)',
    mount: async (manifestPath, mountpoint, storeDir) => { mounted.set(mountpoint, await mountImage({ manifestPath, mountpoint, storeDir })) },
    unmount: async (mountpoint) => { await mounted.get(mountpoint)?.unmount(); mounted.delete(mountpoint) },
  }
}

/** Reference point, not a composefs mount: the image's EROFS layer alone, to show what overlayfs adds. */
export function erofsOnlyBackend (cacheDir: string): MountBackend {
  return {
    name: 'reference: EROFS layer alone (no overlay)',
    mount: async (manifestPath, mountpoint) => {
      execFileSync('mount', ['-t', 'erofs', '-o', 'ro,loop,noacl', ensureImage({ manifestPath }, cacheDir).path, mountpoint])
    },
    unmount: async (mountpoint) => { execFileSync('umount', [mountpoint]) },
  }
}

/** Directories of 48 entries, one in 6 a subdirectory, so the tree is several levels deep. */
function syntheticTree (entries: number): Manifest {
  const label = Buffer.from('system_u:object_r:usr_t:s0\0')
  const t = { mtimeSec: 1700000000, xattrs: [{ key: 'security.selinux', value: label }] }
  const root: Node = { name: '', inode: makeInode(S_IFDIR | 0o755, t), children: [] }
  const dirs: Node[] = [root]
  let made = 1
  for (let d = 0; made < entries; d++) {
    const parent = dirs[d]!
    for (let i = 0; i < 48 && made < entries; i++, made++) {
      const name = `e${made.toString(36)}`
      let node: Node
      if (i % 6 === 0) {
        node = { name, inode: makeInode(S_IFDIR | 0o755, t), children: [] }
        dirs.push(node)
      } else if (i % 6 === 1) {
        node = { name, inode: makeInode(S_IFLNK | 0o777, { ...t, size: 9, target: '../lib/x' }) }
      } else if (i % 6 === 2) {
        const inline = Buffer.from(`config ${made}\n`)
        node = { name, inode: makeInode(S_IFREG | 0o644, { ...t, mtimeNsec: made, size: inline.length, inline }) }
      } else {
        const digest = createHash('sha256').update(name).digest()
        node = { name, inode: makeInode(S_IFREG | 0o755, { ...t, uid: 1000, size: 4096 + made, digest, payload: objectPathOf(digest) }) }
      }
      parent.children!.push(node)
    }
  }
  return finalizeTree({ root })
}

async function timeLsR (dir: string): Promise<number> {
  const t0 = performance.now()
  await new Promise<void>((resolve, reject) => {
    const child = spawn('ls', ['-lR', dir], { stdio: ['ignore', 'ignore', 'inherit'] })
    child.on('error', reject)
    child.on('exit', code => { code === 0 ? resolve() : reject(new Error(`ls -lR exited with ${code}`)) })
  })
  return performance.now() - t0
}

function dropCaches (): void {
  execFileSync('sync')
  fs.writeFileSync('/proc/sys/vm/drop_caches', '3')
}

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]! }
const ms = (x: number): string => x >= 100 ? x.toFixed(0) : x.toFixed(1)

async function main (): Promise<void> {
  const entries = Number(process.argv.find(a => /^\d+$/.test(a)) ?? 65536)
  const append = process.argv.includes('--append')
  const runs = Number(process.argv.find(a => a.startsWith('--runs='))?.slice(7) ?? 5)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-'))
  const rows: string[] = []
  try {
    const store = await Store.open(path.join(dir, 'store'), { create: true })
    const manifestPath = path.join(dir, 'image.cfsm')
    fs.writeFileSync(manifestPath, encodeManifest(syntheticTree(entries)))
    const cacheDir = path.join(store.root, 'erofs-cache')

    const writes: number[] = []
    let imageBytes = 0
    for (let i = 0; i < runs; i++) {
      fs.rmSync(cacheDir, { recursive: true, force: true })
      const t0 = performance.now()
      const img = ensureImage({ manifestPath }, cacheDir)
      writes.push(performance.now() - t0)
      imageBytes = fs.statSync(img.path).size
    }
    const decodes: number[] = []
    const builds: number[] = []
    for (let i = 0; i < runs; i++) {
      const d0 = performance.now()
      const m = decodeManifest(fs.readFileSync(manifestPath))
      const d1 = performance.now()
      writeErofs(m)
      builds.push(performance.now() - d1)
      decodes.push(d1 - d0)
    }
    const t0 = performance.now()
    ensureImage({ manifestPath }, cacheDir)
    const reuse = performance.now() - t0
    rows.push(`| image write (read + decode manifest, writeErofs, atomic file) | ${ms(median(writes))} ms | ${ms(Math.min(...writes))} ms |`)
    rows.push(`| of which: read + decodeManifest | ${ms(median(decodes))} ms | ${ms(Math.min(...decodes))} ms |`)
    rows.push(`| of which: writeErofs (in memory) | ${ms(median(builds))} ms | ${ms(Math.min(...builds))} ms |`)
    rows.push(`| cached image lookup (manifest sha256 + header check) | ${ms(reuse)} ms | |`)

    const backends: MountBackend[] = [kernelBackend(path.join(dir, 'run')), fuseBackend(), erofsOnlyBackend(cacheDir)]
    for (const backend of backends) {
      const mnt = path.join(dir, 'mnt')
      fs.mkdirSync(mnt, { recursive: true })
      const mounts: number[] = []
      const colds: number[] = []
      for (let i = 0; i < runs; i++) {
        dropCaches()
        const m0 = performance.now()
        await backend.mount(manifestPath, mnt, store.root)
        mounts.push(performance.now() - m0)
        try { colds.push(await timeLsR(mnt)) } finally { await backend.unmount(mnt) }
      }
      const warms: number[] = []
      await backend.mount(manifestPath, mnt, store.root)
      try {
        const count = execFileSync('find', [mnt], { maxBuffer: 1 << 28 }).toString().split('\n').length - 2
        // the EROFS layer alone also shows the root whiteouts 00…ff that overlayfs hides
        if (count < entries - 1) throw new Error(`${backend.name}: find saw ${count} entries, expected at least ${entries - 1}`)
        for (let i = 0; i < runs; i++) warms.push(await timeLsR(mnt))
      } finally { await backend.unmount(mnt) }
      rows.push(`| ${backend.name}: mount after drop_caches | ${ms(median(mounts))} ms | ${ms(Math.min(...mounts))} ms |`)
      rows.push(`| ${backend.name}: cold \`ls -lR\` (after drop_caches + fresh mount) | ${ms(median(colds))} ms | ${ms(Math.min(...colds))} ms |`)
      rows.push(`| ${backend.name}: warm \`ls -lR\` | ${ms(median(warms))} ms | ${ms(Math.min(...warms))} ms |`)
    }
    const load = os.loadavg().map(x => x.toFixed(1)).join(', ')
    const report = [
      '',
      '## Kernel mount (`@cfs/kernel-mount`, `scripts/bench-kernel-mount.ts`)',
      '',
      `Command: \`pnpm exec tsc -b && pnpm exec tsx scripts/bench-kernel-mount.ts ${entries} --append\` (as root). Synthetic tree of`,
      `${entries} entries (directories of 48 entries, one in six a subdirectory; symlinks, inline files, external files`,
      'with digests but no objects; an SELinux label on everything); composefs image of ' + `${imageBytes} bytes. Median and min of ${runs} runs.`,
      `Machine: ${os.cpus()[0]?.model ?? '?'}, ${os.cpus().length} cores, Linux ${os.release()}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}.`,
      `**Loaded by other helpers working in parallel** (load average ${load} at the end of the run), so figures are noisy upper bounds.`,
      '',
      '| step | median | min |',
      '|---|---|---|',
      ...rows,
      '',
    ].join('\n')
    console.log(report)
    if (append) fs.appendFileSync(path.resolve(path.dirname(new URL(import.meta.url).pathname), '../docs/benchmarks.md'), report)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

await main()
