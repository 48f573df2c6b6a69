/** What `benchImages` measures, in the shape `cfs bench --json` prints (times in milliseconds, sizes in bytes). */

export type StrategyName = 'symlinks' | 'overlayfs' | 'kernel' | 'fuse'

/** Every strategy, in the order they run and are listed. */
export const STRATEGY_NAMES: readonly StrategyName[] = ['symlinks', 'overlayfs', 'kernel', 'fuse']

/** One figure over several runs. */
export interface Summary {
  median: number
  min: number
  max: number
  /** every run, in order */
  runs: number[]
}

export interface ImageInfo {
  /** the argument as given */
  input: string
  /** 'manifest' when a manifest file was given, else the image format cfs build found */
  format: string
  /** names in the tree (hardlinks counted once per name) */
  entries: number
  /** layers of the image; 0 for a manifest or a directory */
  layers: number
  /** time of the one `cfs build` into the bench's store; absent for a manifest */
  buildMs?: number
}

export interface StrategyImageResult {
  /** index into `BenchReport.images` */
  image: number
  /** symlinks: write the farm; overlayfs: extract the layers; kernel: write the EROFS image; fuse: none */
  prepare: Summary | null
  /** symlinks: none (nothing to mount) */
  mount: Summary | null
  /** first `ls -lR` after dropping caches (or only after mounting, when caches could not be dropped) */
  coldLs: Summary
  /** the `ls -lR` right after the cold one */
  warmLs: Summary
}

export interface DiskUsage {
  /** everything the strategy needs for all the images, each file counted once (allocated blocks) */
  totalBytes: number
  /** of which the objects in the shared store */
  storeBytes: number
  /** of which the strategy's own files: farms, extracted layers, EROFS images, manifests */
  ownBytes: number
}

export interface StrategyResult {
  strategy: StrategyName
  label: string
  results: StrategyImageResult[]
  disk: DiskUsage
}

export interface BenchReport {
  images: ImageInfo[]
  runs: number
  /** true when page, dentry and inode caches were dropped before every mount */
  cachesDropped: boolean
  /** why caches were not dropped */
  cacheNote?: string
  strategies: StrategyResult[]
  skipped: Array<{ strategy: StrategyName, reason: string }>
  machine: { cpus: number, loadAverage: number[], kernel: string, node: string, tmpDir: string }
  startedAt: string
}

/** Median, min and max of `xs` (the median of an even count is the mean of the middle two). */
export function summarize (xs: number[]): Summary {
  if (xs.length === 0) throw new Error('summarize: no samples')
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  const median = s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
  return { median, min: s[0]!, max: s[s.length - 1]!, runs: xs }
}
