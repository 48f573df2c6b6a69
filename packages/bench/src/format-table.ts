import type { BenchReport, Summary } from './report.js'

/** `12.3 ms (11.0–14.2)`: median, then min–max when there was more than one run. */
export function formatSummary (s: Summary | null): string {
  if (s === null) return '–'
  const f = (x: number): string => x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2)
  return s.runs.length > 1 ? `${f(s.median)} (${f(s.min)}–${f(s.max)})` : f(s.median)
}

/** Bytes in binary units with three significant digits: `1.23 MiB`. */
export function formatBytes (n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let i = 0
  let x = n
  while (x >= 1024 && i < units.length - 1) { x /= 1024; i++ }
  return i === 0 ? `${n} B` : `${x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2)} ${units[i]!}`
}

/** The report as the plain-text tables `cfs bench` prints. */
export function formatTable (report: BenchReport): string {
  const out: string[] = []
  const m = report.machine
  out.push(`cfs bench: ${report.runs} run${report.runs === 1 ? '' : 's'} per figure, times in ms as median (min–max); ${m.cpus} CPUs, load ${m.loadAverage.join(' ')}, Linux ${m.kernel}, Node ${m.node}, work dir in ${m.tmpDir}`)
  out.push(report.cachesDropped ? 'cold: page, dentry and inode caches dropped (sync; echo 3 > /proc/sys/vm/drop_caches) before each mount' : `cold: caches NOT dropped: ${report.cacheNote ?? ''}`)
  for (const [i, img] of report.images.entries()) {
    out.push(`image ${i + 1}: ${img.input} (${img.format}, ${img.entries} entries, ${img.layers} layer${img.layers === 1 ? '' : 's'}${img.buildMs !== undefined ? `, cfs build ${formatSummary({ median: img.buildMs, min: img.buildMs, max: img.buildMs, runs: [img.buildMs] })} ms` : ''})`)
  }
  out.push('')
  const header = ['strategy', 'image', 'prepare', 'mount', 'cold ls -lR', 'warm ls -lR']
  const rows: string[][] = []
  for (const s of report.strategies) {
    for (const r of s.results) {
      rows.push([s.label, String(r.image + 1), formatSummary(r.prepare), formatSummary(r.mount), formatSummary(r.coldLs), formatSummary(r.warmLs)])
    }
  }
  out.push(...alignRows([header, ...rows]))
  out.push('')
  const diskHeader = ['strategy', `disk used (${report.images.length > 1 ? 'all images, store counted once' : 'the image'})`, 'store objects', 'own files']
  out.push(...alignRows([diskHeader, ...report.strategies.map(s => [s.label, formatBytes(s.disk.totalBytes), formatBytes(s.disk.storeBytes), formatBytes(s.disk.ownBytes)])]))
  out.push('prepare: symlinks write the farm; overlayfs extracts the layers with tar; kernel writes the EROFS image; fuse has nothing to prepare')
  for (const s of report.skipped) out.push(`skipped ${s.strategy}: ${s.reason}`)
  return out.join('\n')
}

function alignRows (rows: string[][]): string[] {
  const widths: number[] = []
  for (const r of rows) r.forEach((c, i) => { widths[i] = Math.max(widths[i] ?? 0, [...c].length) })
  // first column left-aligned (names), figures right-aligned
  return rows.map(r => r.map((c, i) => i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)).join('  ').trimEnd())
}
