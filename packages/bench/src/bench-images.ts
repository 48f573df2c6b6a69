/**
 * `benchImages` prepares every strategy from the same images and times it: prepare, mount, a cold `ls -lR`
 * (caches dropped first) and a warm one, `runs` times, strategies interleaved within each run so drift of a
 * shared machine spreads over all of them. Every run starts from nothing (a new farm, fresh extraction, a new
 * EROFS image, a new FUSE server) and is removed before the next.
 */
import * as fs from 'node:fs'
import * as fsp from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { buildImage, countEntries } from '@cfs/build'
import { CfsError } from '@cfs/errors'
import { checkFuseAvailable } from '@cfs/fuse'
import { checkKernelSupport, ensureImage, mountKernel, unmountKernel } from '@cfs/kernel-mount'
import { decodeManifest, isRegular, MANIFEST_MAGIC, objectPathOf, walkDepthFirst, type Manifest } from '@cfs/manifest'
import { mountImage, type MountedImage } from '@cfs/mount'
import { detectFormat, openImage, type Image, type Layer } from '@cfs/oci'
import { OBJECTS_DIR, Store } from '@cfs/store'
import { CleanupStack } from './cleanup-stack.js'
import { diskUsage } from './disk-usage.js'
import { dropCaches, dropCachesUnavailable } from './drop-caches.js'
import { extractLayer } from './extract-layer.js'
import { removeLeftovers } from './remove-leftovers.js'
import { STRATEGY_NAMES, summarize, type BenchReport, type ImageInfo, type StrategyName, type StrategyResult } from './report.js'
import { runChecked, timed, timeLsR } from './run-process.js'
import { writeSymlinkFarm } from './write-symlink-farm.js'

export interface BenchOptions {
  /** images (anything `cfs build` reads) or manifest files (then `storeDir` holds their objects) */
  inputs: string[]
  /** the store of manifest inputs; images are built into a store of the bench's own */
  storeDir?: string
  /** runs per figure (default 3) */
  runs?: number
  /** strategies to run (default all) */
  only?: StrategyName[]
  /** where the bench's work directory is made (default os.tmpdir()); its filesystem is the one measured */
  tmpDir?: string
  /** aborting stops at the next step, undoes everything and throws ERR_CFS_INTERRUPTED */
  signal?: AbortSignal
  onProgress?: (message: string) => void
}

export const STRATEGY_LABELS: Record<StrategyName, string> = {
  symlinks: 'symlink farm into the store',
  overlayfs: 'overlayfs of extracted layers',
  kernel: 'composefs, kernel (EROFS + overlayfs)',
  fuse: 'cfs over FUSE',
}

interface BenchImage {
  index: number
  info: ImageInfo
  manifestPath: string
  manifest: Manifest
  storeDir: string
  objectsDir: string
  /** absolute paths of the objects the manifest references */
  objects: Set<string>
  layers: Layer[]
}

/** One strategy on one image in one run. */
interface Trial {
  prepare?: () => Promise<void>
  mount?: () => Promise<void>
  unmount?: () => Promise<void>
  /** what `ls -lR` walks */
  target: string
  /** the strategy's own files (disk keys → paths), once prepared */
  own: () => Array<{ key: string, path: string }>
}

const OPTION_UNSAFE = /[,:\\]/

/**
 * Runs the benchmark and returns its report. Throws ERR_CFS_USAGE for bad options, the errors of reading and
 * building the inputs, ERR_CFS_PERMISSION when no chosen strategy can run here, ERR_CFS_INTERRUPTED when
 * `signal` aborts, and the first failure of a strategy. Whatever happens, nothing it mounted or wrote remains.
 */
export async function benchImages (opts: BenchOptions): Promise<BenchReport> {
  const runs = opts.runs ?? 3
  if (!Number.isInteger(runs) || runs < 1) throw new CfsError('ERR_CFS_USAGE', `runs must be a whole number ≥ 1, not ${String(runs)}`)
  if (opts.inputs.length === 0) throw new CfsError('ERR_CFS_USAGE', 'give at least one image')
  const signal = opts.signal
  const progress = opts.onProgress ?? (() => {})
  const tmpDir = fs.realpathSync(opts.tmpDir ?? os.tmpdir())
  const startedAt = new Date().toISOString()
  const cleanup = new CleanupStack()
  const work = await fsp.mkdtemp(path.join(tmpDir, 'cfs-bench-'))
  cleanup.push(`remove ${work}`, async () => {
    await removeLeftovers(work)
    await fsp.rm(work, { recursive: true, force: true })
  })
  let failed = false
  try {
    const images = await loadImages(opts, work, cleanup, progress, signal)
    const chosen = opts.only ?? [...STRATEGY_NAMES]
    const skipped: BenchReport['skipped'] = []
    const strategies: StrategyName[] = []
    for (const name of STRATEGY_NAMES) {
      if (!chosen.includes(name)) continue
      const reason = unavailable(name, images, work)
      if (reason !== undefined) skipped.push({ strategy: name, reason }); else strategies.push(name)
    }
    if (strategies.length === 0) {
      throw new CfsError('ERR_CFS_PERMISSION', `no chosen strategy can run here: ${skipped.map(s => `${s.strategy}: ${s.reason}`).join('; ')}`,
        { hint: 'run as root for overlayfs, kernel and fuse; symlinks runs as any user' })
    }
    const cacheNote = dropCachesUnavailable()
    const samples = new Map<string, { prepare: number[], mount: number[], cold: number[], warm: number[] }>()
    const ownBytes = new Map<StrategyName, Map<string, number>>()
    for (let run = 0; run < runs; run++) {
      for (const name of strategies) {
        for (const image of images) {
          signal?.throwIfAborted()
          progress(`${name}, image ${image.index + 1}, run ${run + 1}/${runs}`)
          const dir = path.join(work, `${name}-${image.index}-${run}`)
          await fsp.mkdir(dir)
          const removeDir = cleanup.push(`remove ${dir}`, async () => { await fsp.rm(dir, { recursive: true, force: true }) })
          const trial = makeTrial(name, image, dir, signal)
          const s = samples.get(`${name}:${image.index}`) ?? { prepare: [], mount: [], cold: [], warm: [] }
          samples.set(`${name}:${image.index}`, s)
          if (trial.prepare !== undefined) s.prepare.push((await timed(trial.prepare)).ms)
          if (run === 0) {
            const own = ownBytes.get(name) ?? new Map<string, number>()
            ownBytes.set(name, own)
            for (const { key, path: p } of trial.own()) if (!own.has(key)) own.set(key, diskUsage(p))
          }
          signal?.throwIfAborted()
          if (cacheNote === undefined) await dropCaches(signal)
          let unmount: (() => Promise<void>) | undefined
          if (trial.mount !== undefined) {
            s.mount.push((await timed(trial.mount)).ms)
            if (trial.unmount !== undefined) unmount = cleanup.push(`unmount ${trial.target}`, trial.unmount)
          }
          s.cold.push(await timeLsR(trial.target, signal))
          s.warm.push(await timeLsR(trial.target, signal))
          await unmount?.()
          await removeDir()
        }
      }
    }
    const storeBytes = strategies.some(n => n !== 'overlayfs') ? storeUsage(images) : 0
    const results: StrategyResult[] = strategies.map(name => {
      const own = [...(ownBytes.get(name)?.values() ?? [])].reduce((a, b) => a + b, 0)
      const store = name === 'overlayfs' ? 0 : storeBytes
      return {
        strategy: name,
        label: STRATEGY_LABELS[name],
        results: images.map(image => {
          const s = samples.get(`${name}:${image.index}`)!
          return {
            image: image.index,
            prepare: s.prepare.length > 0 ? summarize(s.prepare) : null,
            mount: s.mount.length > 0 ? summarize(s.mount) : null,
            coldLs: summarize(s.cold),
            warmLs: summarize(s.warm),
          }
        }),
        disk: { totalBytes: store + own, storeBytes: store, ownBytes: own },
      }
    })
    return {
      images: images.map(i => i.info),
      runs,
      cachesDropped: cacheNote === undefined,
      ...(cacheNote !== undefined ? { cacheNote } : {}),
      strategies: results,
      skipped,
      machine: { cpus: os.cpus().length, loadAverage: os.loadavg().map(x => Number(x.toFixed(2))), kernel: os.release(), node: process.version, tmpDir },
      startedAt,
    }
  } catch (err) {
    failed = true
    // a Ctrl-C reaches the running tool too, whose death may be seen before our own handler runs
    if (signal !== undefined && !signal.aborted) await new Promise(resolve => setTimeout(resolve, 50))
    if (signal?.aborted === true) {
      throw new CfsError('ERR_CFS_INTERRUPTED', `interrupted (${String(signal.reason instanceof Error ? signal.reason.message : signal.reason)}); everything mounted or created was removed`, { cause: err })
    }
    throw err
  } finally {
    const failures = await cleanup.runAll()
    if (failures.length > 0 && !failed) throw new CfsError('ERR_CFS_IO', `cleaning up failed: ${failures.join('; ')}`)
  }
}

async function loadImages (opts: BenchOptions, work: string, cleanup: CleanupStack, progress: (m: string) => void, signal?: AbortSignal): Promise<BenchImage[]> {
  let store: Store | undefined
  const images: BenchImage[] = []
  for (const [index, input] of opts.inputs.entries()) {
    signal?.throwIfAborted()
    const abs = path.resolve(input)
    if (isManifestFile(abs)) {
      if (opts.storeDir === undefined) throw new CfsError('ERR_CFS_USAGE', `${input} is a manifest: give the store that holds its objects`, { hint: 'cfs bench image.cfsm --store DIR' })
      const storeDir = path.resolve(opts.storeDir)
      const manifest = decodeManifest(fs.readFileSync(abs))
      images.push(benchImage(index, { input, format: 'manifest', entries: sumCounts(manifest), layers: 0 }, abs, manifest, storeDir, []))
      continue
    }
    store ??= await Store.open(path.join(work, 'store'), { create: true })
    progress(`building ${input} into the bench's store`)
    const { ms, value: built } = await timed(async () => await buildImage(abs, { store: store! }))
    const manifestPath = path.join(work, `image-${index}.cfsm`)
    fs.writeFileSync(manifestPath, built.bytes)
    let layers: Layer[] = []
    if (await detectFormat(abs) !== 'directory') {
      const image: Image = await openImage(abs, { tmpDir: store.tmpDir })
      cleanup.push(`close ${input}`, image.close)
      layers = image.layers
    }
    images.push(benchImage(index, { input, format: built.format, entries: sumCounts(built.manifest), layers: layers.length, buildMs: ms },
      manifestPath, built.manifest, store.root, layers))
  }
  return images
}

function benchImage (index: number, info: ImageInfo, manifestPath: string, manifest: Manifest, storeDir: string, layers: Layer[]): BenchImage {
  const objectsDir = path.join(storeDir, OBJECTS_DIR)
  const objects = new Set<string>()
  walkDepthFirst(manifest, (_p, node) => {
    const ino = node.inode
    if (isRegular(ino) && (ino.payload !== undefined || ino.digest !== undefined)) {
      objects.add(path.join(objectsDir, Buffer.from(ino.payload ?? objectPathOf(ino.digest!), 'latin1').toString('utf8')))
    }
  })
  return { index, info, manifestPath, manifest, storeDir, objectsDir, objects, layers }
}

function sumCounts (manifest: Manifest): number {
  return Object.values(countEntries(manifest)).reduce((a, b) => a + b, 0)
}

function isManifestFile (file: string): boolean {
  let fd: number
  try { fd = fs.openSync(file, 'r') } catch { return false }
  try {
    const head = Buffer.alloc(MANIFEST_MAGIC.length)
    return fs.readSync(fd, head, 0, head.length, 0) === head.length && head.equals(MANIFEST_MAGIC)
  } catch { return false } finally { fs.closeSync(fd) }
}

function storeUsage (images: BenchImage[]): number {
  const seen = new Set<string>()
  let total = 0
  for (const image of images) {
    for (const p of image.objects) {
      try { total += diskUsage(p, seen) } catch { /* a missing object: nothing on disk */ }
    }
  }
  return total
}

function isRoot (): boolean { return process.getuid === undefined || process.getuid() === 0 }

/** Why a strategy cannot run here, or undefined. */
function unavailable (name: StrategyName, images: BenchImage[], work: string): string | undefined {
  const reasonOf = (fn: () => void): string | undefined => { try { fn(); return undefined } catch (err) { return (err as Error).message } }
  switch (name) {
    case 'symlinks': return undefined
    case 'overlayfs': {
      if (!isRoot()) return 'needs root (mount -t overlay; tar restoring owners and devices)'
      const without = images.filter(i => i.layers.length === 0).map(i => i.info.input)
      if (without.length > 0) return `no layers to extract in ${without.join(', ')} (a manifest or a directory)`
      if (OPTION_UNSAFE.test(work)) return `the work directory ${work} has a comma, colon or backslash, which overlay options cannot carry`
      return reasonOf(() => { if (!fs.readFileSync('/proc/filesystems', 'latin1').includes('\toverlay\n')) throw new Error('this kernel has no overlay filesystem') })
    }
    case 'kernel':
      if (OPTION_UNSAFE.test(work)) return `the work directory ${work} has a comma, colon or backslash, which overlay options cannot carry`
      return reasonOf(checkKernelSupport)
    case 'fuse': return reasonOf(checkFuseAvailable)
  }
}

function makeTrial (name: StrategyName, image: BenchImage, dir: string, signal?: AbortSignal): Trial {
  const mnt = path.join(dir, 'mnt')
  switch (name) {
    case 'symlinks': {
      const farm = path.join(dir, 'farm')
      return {
        prepare: async () => { await writeSymlinkFarm(image.manifest, image.objectsDir, farm, signal) },
        target: farm,
        own: () => [{ key: `farm:${image.index}`, path: farm }],
      }
    }
    case 'overlayfs': {
      const layerDirs = image.layers.map((_l, i) => path.join(dir, 'layers', String(i)))
      return {
        prepare: async () => {
          for (const [i, layer] of image.layers.entries()) {
            await fsp.mkdir(layerDirs[i]!, { recursive: true })
            await extractLayer(layer, layerDirs[i]!, layerDirs.slice(0, i).reverse(), signal)
          }
        },
        mount: async () => {
          await fsp.mkdir(mnt)
          const lower = [...layerDirs].reverse()
          // overlayfs needs two lower layers when it has no upper one
          if (lower.length === 1) { const empty = path.join(dir, 'empty'); await fsp.mkdir(empty); lower.push(empty) }
          await runChecked('mount', ['-t', 'overlay', 'cfs-bench', '-o', `ro,lowerdir=${lower.join(':')}`, mnt], `cannot mount overlay on ${mnt}`)
        },
        unmount: async () => { await runChecked('umount', [mnt], `cannot unmount ${mnt}`) },
        target: mnt,
        own: () => image.layers.map((l, i) => ({ key: `layer:${l.diffId ?? l.digest ?? `${image.index}/${l.name}`}`, path: layerDirs[i]! })),
      }
    }
    case 'kernel': {
      const cacheDir = path.join(dir, 'erofs')
      let imagePath = ''
      return {
        prepare: async () => { imagePath = ensureImage({ manifestPath: image.manifestPath }, cacheDir).path },
        mount: async () => {
          await fsp.mkdir(mnt)
          await mountKernel({ manifestPath: image.manifestPath, mountpoint: mnt, storeDir: image.storeDir, cacheDir, runDir: path.join(dir, 'run') })
        },
        unmount: async () => { await unmountKernel(mnt) },
        target: mnt,
        own: () => [{ key: `erofs:${image.index}`, path: imagePath }],
      }
    }
    case 'fuse': {
      let mounted: MountedImage | undefined
      return {
        mount: async () => {
          await fsp.mkdir(mnt)
          mounted = await mountImage({ manifestPath: image.manifestPath, mountpoint: mnt, storeDir: image.storeDir })
        },
        unmount: async () => { await mounted?.unmount() },
        target: mnt,
        own: () => [{ key: `manifest:${image.index}`, path: image.manifestPath }],
      }
    }
  }
}
