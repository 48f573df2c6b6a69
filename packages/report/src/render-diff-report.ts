import { CLIENT_SCRIPT } from './client-script.js'
import { displayName, escapeHtml, formatBytes } from './escape.js'
import { renderPage } from './page.js'
import { pruneTree, type PruneOptions } from './size-tree.js'
import { LETTER, summarizeChanges, type ReportChange } from './summarize-changes.js'

export interface DiffReportInput {
  /** the changes, as `diffManifests(a, b).changes` gives them */
  changes: readonly ReportChange[]
  /** how the user named the two sides (file paths); text, shown as given */
  a: string
  b: string
  /** changes listed by size (default 50) */
  largest?: number
  tree?: PruneOptions
}

const KINDS = ['added', 'removed', 'modified', 'renamed'] as const

/**
 * One self-contained HTML page about a diff: totals by change kind, a treemap of the changed subtrees sized by
 * content bytes changed (removed + added), a collapsible tree of every changed path (attribute-only changes
 * included), and the changes that moved the most bytes. Pure; every name is escaped; nothing is fetched.
 */
export function renderDiffReport (input: DiffReportInput): string {
  const s = summarizeChanges(input.changes, input.largest ?? 50)
  const total = input.changes.length
  const kindRows = KINDS.map(k => {
    const v = s.byKind[k]
    return `<tr><td><span class="k k${LETTER[k]}">${LETTER[k]}</span> ${k}</td><td class="num">${v.paths}</td><td class="num">${v.bytesAdded > 0 ? '+' + formatBytes(v.bytesAdded) : ''}</td><td class="num">${v.bytesRemoved > 0 ? '−' + formatBytes(v.bytesRemoved) : ''}</td></tr>`
  }).join('\n')
  const attrs = [...s.byAttribute].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1))
    .map(([a, n]) => `${escapeHtml(a)} ${n}`).join(', ')
  const largest = s.largest.map(({ change: c, removed, added }) => {
    const where = c.from !== undefined ? `${displayName(c.from)} → ${displayName(c.path)}` : displayName(c.path)
    return `<tr><td><span class="k k${LETTER[c.kind]}" title="${c.kind}">${LETTER[c.kind]}</span></td><td class="num">${removed > 0 ? '−' + formatBytes(removed) : ''}</td><td class="num">${added > 0 ? '+' + formatBytes(added) : ''}</td><td>${escapeHtml(c.attributes.map(a => a.attribute).join(' '))}</td><td class="path">${escapeHtml(where)}</td></tr>`
  }).join('\n')
  const body = `<header><h1>cfs diff</h1><div class="sub">${escapeHtml(input.a)} → ${escapeHtml(input.b)}</div></header>
<main>
<div class="cards">
<div class="card"><div class="v">${total}</div><div class="l">changed paths</div></div>
<div class="card"><div class="v">${formatBytes(s.changedBytes)}</div><div class="l">content bytes changed</div></div>
${KINDS.map(k => `<div class="card"><div class="v">${s.byKind[k].paths}</div><div class="l">${k}</div></div>`).join('')}
</div>
<section id="summary"><h2>Changes by kind</h2>
<table><tr><th>kind</th><th class="num">paths</th><th class="num">bytes in</th><th class="num">bytes out</th></tr>
${kindRows}
</table>
${attrs !== '' ? `<p class="note">Changed attributes (modified and renamed paths): ${attrs}.</p>` : ''}
</section>
${total === 0
    ? '<section id="subtrees"><h2>Changed subtrees</h2><p class="note">The images are identical.</p></section>'
    : `<section id="subtrees"><h2>Changed subtrees</h2>
<p class="note">Area is content bytes changed: a removed file's size, an added file's size, both sizes of a file whose content changed. Colour is the kind of change (grey: several kinds). Click a directory to zoom in. Changes of attributes only have no area; the tree below lists them.</p>
<div class="legend"><span><i style="background:#43a047"></i>added</span><span><i style="background:#e53935"></i>removed</span><span><i style="background:#f9a825"></i>modified</span><span><i style="background:#1e88e5"></i>renamed</span><span><i style="background:#9aa3b2"></i>several</span></div>
<div data-treemap="tree"><div class="crumbs"></div><svg class="treemap" role="img" aria-label="treemap of changed bytes by directory"></svg><div class="info"></div></div>
</section>
<section id="tree"><h2>Changed paths</h2><div class="tree" data-tree="tree"></div></section>
<section id="largest"><h2>Largest changes</h2>
<table><tr><th></th><th class="num">out</th><th class="num">in</th><th>attributes</th><th>path</th></tr>
${largest}
</table></section>`}
</main>`
  return renderPage({
    title: `cfs diff ${input.a} ${input.b}`,
    body,
    data: { mode: 'diff', tree: pruneTree(s.tree, input.tree) },
    script: CLIENT_SCRIPT,
  })
}
