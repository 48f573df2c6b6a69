/**
 * The page shell shared by both reports: one HTML document with its CSS and script inline and a Content Security
 * Policy that forbids every network fetch, so a report opens offline and an injected name could not load anything.
 * Data goes in as JSON (`jsonForScript`) and the script builds the treemap and tree from it with DOM calls
 * (`textContent`, `setAttribute`), never by parsing markup.
 */
import { escapeHtml, jsonForScript } from './escape.js'

const CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"

const CSS = `
:root { --fg: #1d2330; --muted: #5b6475; --line: #dde1e8; --bg: #f6f7f9; --card: #fff; --accent: #3b6fd8; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
header { padding: 18px 28px 10px; background: var(--card); border-bottom: 1px solid var(--line); }
header h1 { margin: 0 0 4px; font-size: 20px; }
header .sub { color: var(--muted); font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; word-break: break-all; }
main { padding: 16px 28px 40px; max-width: 1320px; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 14px 18px; margin: 0 0 16px; }
section h2 { margin: 0 0 10px; font-size: 16px; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; margin: 0 0 16px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; min-width: 150px; }
.card .v { font-size: 18px; font-weight: 600; }
.card .l { color: var(--muted); font-size: 12px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); font-size: 12px; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.path { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; word-break: break-all; }
.note { color: var(--muted); font-size: 12px; margin: 6px 0; }
.bar { display: flex; height: 14px; border-radius: 3px; overflow: hidden; background: #eceff3; min-width: 160px; }
.bar span { display: block; height: 100%; }
.legend { display: flex; flex-wrap: wrap; gap: 14px; font-size: 12px; color: var(--muted); margin: 6px 0; }
.legend i { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 5px; vertical-align: -1px; }
.crumbs { margin: 0 0 6px; font-size: 13px; }
.crumbs button { border: 0; background: none; color: var(--accent); cursor: pointer; padding: 0 2px; font: inherit; }
.crumbs button:disabled { color: var(--fg); cursor: default; font-weight: 600; }
.info { min-height: 20px; font-size: 12px; color: var(--muted); font-family: ui-monospace, Menlo, Consolas, monospace; }
svg.treemap { width: 100%; height: auto; display: block; border: 1px solid var(--line); border-radius: 4px; background: #fafbfc; }
svg.treemap rect { stroke: #fff; stroke-width: 1; cursor: pointer; }
svg.treemap text { font-size: 11px; pointer-events: none; fill: #1d2330; }
.tree { font-size: 13px; }
.tree details > .kids, .tree .kids { margin-left: 18px; }
.tree summary { cursor: pointer; }
.tree .row { display: inline-flex; gap: 8px; align-items: baseline; }
.tree .nm { font-family: ui-monospace, Menlo, Consolas, monospace; }
.tree .ct { color: var(--muted); font-size: 12px; }
.k { display: inline-block; width: 16px; text-align: center; border-radius: 3px; color: #fff; font-size: 11px; font-weight: 700; }
.kA { background: #43a047; } .kD { background: #e53935; } .kM { background: #f9a825; } .kR { background: #1e88e5; }
#cfs-errors { color: #b00020; white-space: pre-wrap; margin: 0; }
#cfs-errors:empty { display: none; }
footer { color: var(--muted); font-size: 12px; padding: 0 28px 24px; }
`

/** Every script error lands in #cfs-errors (and marks <html data-errors>), so a headless test can see it. */
const ERROR_HOOK = `window.cfsErrors = [];
window.onerror = function (message, source, line, column) {
  var text = String(message) + ' (line ' + line + ':' + column + ')';
  window.cfsErrors.push(text);
  document.documentElement.setAttribute('data-errors', String(window.cfsErrors.length));
  var pre = document.getElementById('cfs-errors');
  if (pre) pre.textContent += text + '\\n';
};`

/** A complete document: `body` is trusted markup built with escapeHtml; `data` is embedded for `script`. */
export function renderPage (opts: { title: string, body: string, data: unknown, script: string }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(opts.title)}</title>
<script>${ERROR_HOOK}</script>
<style>${CSS}</style>
</head>
<body>
<pre id="cfs-errors"></pre>
${opts.body}
<footer>Written by cfs. Self-contained: it loads nothing from the network.</footer>
<script type="application/json" id="cfs-data">${jsonForScript(opts.data)}</script>
<script>${opts.script}</script>
</body>
</html>
`
}
