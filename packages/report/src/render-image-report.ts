import type { Manifest } from '@cfs/manifest'
import type { ImageLayers } from '@cfs/store'
import { CLIENT_SCRIPT } from './client-script.js'
import { displayName, escapeHtml, formatBytes } from './escape.js'
import { renderPage } from './page.js'
import { pruneTree, type PruneOptions } from './size-tree.js'
import { summarizeImage, type ImageSummary, type StoreSharing } from './summarize-image.js'

export interface ImageReportInput {
  manifest: Manifest
  /** `sha256:…` of the manifest bytes */
  digest: string
  /** what the user named (a file path), shown under the title */
  source?: string
  /** the image's layer record from the store, when it has one */
  layers?: ImageLayers
  /** sharing with the store's other kept images (`storeSharing`), when a store was read */
  store?: StoreSharing
  /** said in the store section: why there is no store, or that the image is not kept in it */
  storeNote?: string
  /** largest files listed (default 50) */
  largest?: number
  tree?: PruneOptions
  /** a summary already computed for `manifest` (`summarizeImage`), to avoid a second pass */
  summary?: ImageSummary
}

const COLOURS = { new: '#3b6fd8', reused: '#7cb342', deduped: '#26a69a', inline: '#ab47bc', shared: '#7cb342', exclusive: '#3b6fd8' }

/**
 * One self-contained HTML page about an image: where its bytes are (a treemap by directory), how much dedup saves
 * inside the image, per layer (from the layer record) and against the store's other images, and its largest files.
 * Pure: everything comes from `input`. Every name is escaped; the page loads nothing from the network.
 */
export function renderImageReport (input: ImageReportInput): string {
  const s = input.summary ?? summarizeImage(input.manifest, input.largest ?? 50)
  const cards = [
    ['entries', String(s.entries)],
    ['regular files', String(s.files)],
    ['file bytes', formatBytes(s.inodeBytes)],
    ['distinct objects', `${s.objects.size} (${formatBytes(s.objectBytes)})`],
    ['inline files', `${s.inlineFiles} (${formatBytes(s.inlineBytes)})`],
  ]
  const body = `<header><h1>cfs inspect</h1><div class="sub">${escapeHtml(input.digest)}${input.source !== undefined ? ' &middot; ' + escapeHtml(input.source) : ''}</div></header>
<main>
<div class="cards">${cards.map(([l, v]) => `<div class="card"><div class="v">${escapeHtml(v!)}</div><div class="l">${escapeHtml(l!)}</div></div>`).join('')}</div>
<section id="bytes"><h2>Where the bytes are</h2>
<p class="note">Area is regular-file bytes (a hardlinked file counts once). Click a directory to zoom in; the path above leads back.</p>
<div data-treemap="tree"><div class="crumbs"></div><svg class="treemap" role="img" aria-label="treemap of file bytes by directory"></svg><div class="info"></div></div>
</section>
${dedupSection(s)}
${layersSection(input.layers)}
${storeSection(s, input.store, input.storeNote)}
${largestSection(s, input.store)}
</main>`
  return renderPage({
    title: `cfs inspect ${input.digest}`,
    body,
    data: { mode: 'image', tree: pruneTree(s.tree, input.tree) },
    script: CLIENT_SCRIPT,
  })
}

function bar (parts: Array<[number, string, string]>, total: number): string {
  if (total <= 0) return '<div class="bar"></div>'
  return `<div class="bar">${parts.filter(p => p[0] > 0).map(([v, colour, title]) =>
    `<span style="width:${(100 * v / total).toFixed(2)}%;background:${colour}" title="${escapeHtml(title)}"></span>`).join('')}</div>`
}

function legend (items: Array<[string, string]>): string {
  return `<div class="legend">${items.map(([colour, text]) => `<span><i style="background:${colour}"></i>${escapeHtml(text)}</span>`).join('')}</div>`
}

function pct (part: number, whole: number): string { return whole > 0 ? `${(100 * part / whole).toFixed(1)}%` : '–' }

function dedupSection (s: ImageSummary): string {
  const unique = s.objectBytes + s.inlineBytes
  const rows: Array<[string, number, string]> = [
    ['every path (hardlinks counted at each)', s.pathBytes, 'what copying the tree file by file would write'],
    ['every inode (hardlinks once)', s.inodeBytes, 'the image\'s regular-file bytes'],
    ['distinct content (objects + inline)', unique, 'what the store holds for this image'],
  ]
  return `<section id="dedup"><h2>Dedup inside the image</h2>
<table><tr><th>counting</th><th class="num">bytes</th><th class="num">of paths</th><th></th><th>meaning</th></tr>
${rows.map(([what, n, meaning]) => `<tr><td>${escapeHtml(what)}</td><td class="num">${formatBytes(n)}</td><td class="num">${pct(n, s.pathBytes)}</td><td style="width:30%">${bar([[n, COLOURS.new, formatBytes(n)]], s.pathBytes)}</td><td class="note">${escapeHtml(meaning)}</td></tr>`).join('\n')}
</table>
<p class="note">Saved by content addressing: ${formatBytes(Math.max(0, s.pathBytes - unique))} (${pct(Math.max(0, s.pathBytes - unique), s.pathBytes)}) of ${s.files} files.</p>
</section>`
}

function layersSection (layers: ImageLayers | undefined): string {
  if (layers === undefined || layers.layers.length === 0) {
    return `<section id="layers"><h2>Dedup per layer</h2><p class="note">No layer record for this image in the store: it is kept only for images that <code>cfs build</code> registered from layered input (not directories or dumps), and only in the store it was built into.</p></section>`
  }
  const max = Math.max(...layers.layers.map(l => l.fileBytes), 1)
  const rows = layers.layers.map(l => {
    const o = l.objects
    const stored = formatBytes(l.storedBytes) + (l.tarBytes !== l.storedBytes ? ` (${formatBytes(l.tarBytes)} tar)` : '')
    return `<tr><td class="num">${l.index}</td><td class="path" title="${escapeHtml(l.name)}">${escapeHtml(shortName(l.name))}</td><td class="num">${stored}</td>
<td class="num">${l.files}</td><td class="num">${formatBytes(l.fileBytes)}</td>
<td class="num">${formatBytes(o.new.bytes)}</td><td class="num">${formatBytes(o.reused.bytes)}</td><td class="num">${formatBytes(o.deduped.bytes)}</td><td class="num">${formatBytes(l.inlineBytes)}</td>
<td class="num">${pct(o.reused.bytes + o.deduped.bytes, l.fileBytes)}</td>
<td style="width:22%">${bar([
      [o.new.bytes, COLOURS.new, `new ${formatBytes(o.new.bytes)} in ${o.new.count} objects`],
      [o.reused.bytes, COLOURS.reused, `reused ${formatBytes(o.reused.bytes)} in ${o.reused.count} objects`],
      [o.deduped.bytes, COLOURS.deduped, `deduped ${formatBytes(o.deduped.bytes)}, ${o.deduped.count} files`],
      [l.inlineBytes, COLOURS.inline, `inline ${formatBytes(l.inlineBytes)}, ${l.inlineFiles} files`],
    ], max)}</td></tr>`
  }).join('\n')
  return `<section id="layers"><h2>Dedup per layer</h2>
<p class="note">Recorded by the first build of this image into the store (${escapeHtml(layers.recorded)}, ${escapeHtml(layers.format)}${layers.platform !== undefined ? ', ' + escapeHtml(layers.platform) : ''}). Per layer: file bytes written as <b>new</b> objects, found already in the store (<b>reused</b>), or already written for an earlier file of this image (<b>deduped</b>), and small files kept <b>inline</b> in the manifest. Files a higher layer replaces still count in their own layer.</p>
${legend([[COLOURS.new, 'new'], [COLOURS.reused, 'reused from the store'], [COLOURS.deduped, 'deduped within the image'], [COLOURS.inline, 'inline']])}
<table><tr><th class="num">#</th><th>layer</th><th class="num">stored</th><th class="num">files</th><th class="num">file bytes</th><th class="num">new</th><th class="num">reused</th><th class="num">deduped</th><th class="num">inline</th><th class="num">saved</th><th></th></tr>
${rows}
</table></section>`
}

function shortName (name: string): string {
  const m = /^sha256:([0-9a-f]{64})$/.exec(name)
  return m !== null ? `sha256:${m[1]!.slice(0, 12)}…` : displayName(name)
}

function storeSection (s: ImageSummary, store: StoreSharing | undefined, note: string | undefined): string {
  if (store === undefined) {
    return `<section id="store"><h2>Dedup against the store</h2><p class="note">${escapeHtml(note ?? 'No store was read.')}</p></section>`
  }
  const total = s.objectBytes
  return `<section id="store"><h2>Dedup against the store</h2>
<p class="note">Store <code>${escapeHtml(store.root)}</code>: ${store.otherImages} other kept image${store.otherImages === 1 ? '' : 's'}${store.unreadable > 0 ? ` (${store.unreadable} unreadable, not counted)` : ''}.${note !== undefined ? ' ' + escapeHtml(note) : ''}</p>
${legend([[COLOURS.shared, 'objects other kept images also use'], [COLOURS.exclusive, 'objects only this image uses']])}
${bar([[store.shared.bytes, COLOURS.shared, `shared ${formatBytes(store.shared.bytes)}`], [store.exclusive.bytes, COLOURS.exclusive, `exclusive ${formatBytes(store.exclusive.bytes)}`]], total)}
<table><tr><th>objects</th><th class="num">count</th><th class="num">bytes</th><th class="num">of object bytes</th></tr>
<tr><td>all of this image's</td><td class="num">${s.objects.size}</td><td class="num">${formatBytes(total)}</td><td class="num">${pct(total, total)}</td></tr>
<tr><td>shared with other kept images</td><td class="num">${store.shared.count}</td><td class="num">${formatBytes(store.shared.bytes)}</td><td class="num">${pct(store.shared.bytes, total)}</td></tr>
<tr><td>only this image (freed by <code>cfs rm</code> + <code>cfs gc</code>)</td><td class="num">${store.exclusive.count}</td><td class="num">${formatBytes(store.exclusive.bytes)}</td><td class="num">${pct(store.exclusive.bytes, total)}</td></tr>
</table></section>`
}

function largestSection (s: ImageSummary, store: StoreSharing | undefined): string {
  const rows = s.largest.map(f => {
    const shared = store === undefined || f.object === undefined ? '' : store.sharedKeys.has(f.object) ? 'shared' : 'only here'
    return `<tr><td class="num">${formatBytes(f.size)}</td><td class="num">${f.size}</td><td class="num">${f.links}</td><td>${shared}</td><td class="path">${escapeHtml(displayName(f.path))}</td></tr>`
  }).join('\n')
  return `<section id="largest"><h2>Largest files</h2>
<table><tr><th class="num">size</th><th class="num">bytes</th><th class="num">links</th><th>${store === undefined ? '' : 'object in store'}</th><th>path</th></tr>
${rows}
</table></section>`
}
