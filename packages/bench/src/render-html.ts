/**
 * A self-contained HTML page of a report: the tables as HTML (readable without scripts) and bar charts drawn as
 * SVG by a small inline script from the report's JSON, embedded in the page. No network, no libraries.
 */
import { formatBytes, formatSummary } from './format-table.js'
import type { BenchReport } from './report.js'

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, c => `&#${c.charCodeAt(0)};`)

/** The page, as one string. The script logs `cfs-bench: drew N bars` to the console when the charts are drawn. */
export function renderHtml (report: BenchReport): string {
  // `<` escaped so no string in the data can close the script element
  const data = JSON.stringify(report).replace(/</g, '\\u003c')
  const rows = report.strategies.flatMap(s => s.results.map(r => `<tr><td>${escapeHtml(s.label)}</td><td>${r.image + 1}</td>` +
    [r.prepare, r.mount, r.coldLs, r.warmLs].map(x => `<td>${escapeHtml(formatSummary(x))}</td>`).join('') + '</tr>')).join('\n')
  const disk = report.strategies.map(s => `<tr><td>${escapeHtml(s.label)}</td>` +
    [s.disk.totalBytes, s.disk.storeBytes, s.disk.ownBytes].map(b => `<td>${escapeHtml(formatBytes(b))}</td>`).join('') + '</tr>').join('\n')
  const images = report.images.map((img, i) => `<li>image ${i + 1}: <code>${escapeHtml(img.input)}</code> (${escapeHtml(img.format)}, ${img.entries} entries, ${img.layers} layers)</li>`).join('\n')
  const skipped = report.skipped.map(s => `<li>skipped <b>${escapeHtml(s.strategy)}</b>: ${escapeHtml(s.reason)}</li>`).join('\n')
  const m = report.machine
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>cfs bench</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; max-width: 1100px }
table { border-collapse: collapse; margin: 8px 0 16px } td, th { padding: 3px 10px; border-bottom: 1px solid #ddd; text-align: right }
td:first-child, th:first-child { text-align: left } .charts { display: flex; flex-wrap: wrap; gap: 12px 32px }
.chart h3 { margin: 8px 0 2px; font-size: 14px } .note { color: #555 } svg text { font: 11px system-ui, sans-serif }
</style></head>
<body>
<h1>cfs bench</h1>
<p class="note">${report.runs} run(s) per figure, times in ms as median (min–max). ${m.cpus} CPUs, load ${escapeHtml(m.loadAverage.join(' '))}, Linux ${escapeHtml(m.kernel)}, Node ${escapeHtml(m.node)}, started ${escapeHtml(report.startedAt)}.
${report.cachesDropped ? 'Cold: caches dropped before each mount.' : `Cold: caches not dropped (${escapeHtml(report.cacheNote ?? '')}).`}</p>
<ul>${images}${skipped}</ul>
<div class="charts" id="charts"></div>
<h2>Times (ms)</h2>
<table><tr><th>strategy</th><th>image</th><th>prepare</th><th>mount</th><th>cold ls -lR</th><th>warm ls -lR</th></tr>
${rows}</table>
<h2>Disk used</h2>
<table><tr><th>strategy</th><th>total</th><th>store objects</th><th>own files</th></tr>
${disk}</table>
<script type="application/json" id="report">${data}</script>
<script>
(function () {
  var report = JSON.parse(document.getElementById('report').textContent)
  var colors = { symlinks: '#8c6d31', overlayfs: '#3182bd', kernel: '#31a354', fuse: '#e6550d' }
  var metrics = [
    ['coldLs', 'cold ls -lR (ms)'], ['warmLs', 'warm ls -lR (ms)'], ['mount', 'mount (ms)'], ['prepare', 'prepare (ms)'], ['disk', 'disk used (MiB)']
  ]
  var NS = 'http://www.w3.org/2000/svg'
  function el (name, attrs, text) {
    var e = document.createElementNS(NS, name)
    for (var k in attrs) e.setAttribute(k, attrs[k])
    if (text !== undefined) e.textContent = text
    return e
  }
  var drawn = 0
  metrics.forEach(function (metric) {
    var bars = []
    report.strategies.forEach(function (s) {
      if (metric[0] === 'disk') { bars.push({ label: s.strategy, color: colors[s.strategy], median: s.disk.totalBytes / 1048576, min: null, max: null }); return }
      s.results.forEach(function (r) {
        var x = r[metric[0]]
        if (x === null) return
        var label = s.strategy + (report.images.length > 1 ? ' #' + (r.image + 1) : '')
        bars.push({ label: label, color: colors[s.strategy], median: x.median, min: x.min, max: x.max })
      })
    })
    if (bars.length === 0) return
    var top = Math.max.apply(null, bars.map(function (b) { return b.max !== null ? b.max : b.median })) || 1
    var W = 520, left = 90, barH = 18, gap = 6, H = bars.length * (barH + gap) + 8
    var div = document.createElement('div')
    div.className = 'chart'
    div.appendChild(document.createElement('h3')).textContent = metric[1]
    var svg = el('svg', { width: W, height: H, viewBox: '0 0 ' + W + ' ' + H, role: 'img' })
    var scale = (W - left - 70) / top
    bars.forEach(function (b, i) {
      var y = 4 + i * (barH + gap)
      svg.appendChild(el('text', { x: left - 6, y: y + barH - 5, 'text-anchor': 'end' }, b.label))
      svg.appendChild(el('rect', { x: left, y: y, width: Math.max(1, b.median * scale), height: barH, fill: b.color, 'data-median': b.median }))
      if (b.min !== null && b.max > b.min) {
        svg.appendChild(el('line', { x1: left + b.min * scale, x2: left + b.max * scale, y1: y + barH / 2, y2: y + barH / 2, stroke: '#000', 'stroke-width': 1.5 }))
      }
      var v = b.median >= 100 ? b.median.toFixed(0) : b.median >= 10 ? b.median.toFixed(1) : b.median.toFixed(2)
      svg.appendChild(el('text', { x: left + Math.max(b.max !== null ? b.max : b.median, b.median) * scale + 4, y: y + barH - 5 }, v))
      drawn++
    })
    div.appendChild(svg)
    document.getElementById('charts').appendChild(div)
  })
  console.log('cfs-bench: drew ' + drawn + ' bars')
})()
</script>
</body></html>
`
}
