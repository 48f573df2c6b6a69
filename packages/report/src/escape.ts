/**
 * Getting names into a page safely. Names are byte strings (model.ts): `displayName` turns one into text, and
 * `escapeHtml` / `jsonForScript` put text into markup. Nothing from an image ever reaches the page any other way.
 */
import { escapeBytes } from '@cfs/manifest'

/**
 * A byte string as text: valid UTF-8 shows as itself; invalid bytes, control characters and backslash show as
 * `\xHH` / `\\`, so every name is visible and distinct names stay distinct (@cfs/manifest's `escapeBytes`, as
 * the CLI prints names).
 */
export const displayName: (s: string) => string = escapeBytes

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

/** Text for an HTML text node or a quoted attribute value. */
export function escapeHtml (text: string): string {
  return text.replace(/[&<>"']/g, ch => HTML_ESCAPES[ch]!)
}

/**
 * JSON to place inside `<script type="application/json">`: `<`, `>` and `&` become `\u003c` etc., so no string
 * in the data can close the element or open a comment; JSON.parse gives the same value back.
 */
export function jsonForScript (value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, ch => '\\u' + ch.charCodeAt(0).toString(16).padStart(4, '0'))
}

/** 1536 → `1.5 KiB`; below 1 KiB exact bytes. */
export function formatBytes (n: number): string {
  if (n < 1024) return `${n} B`
  const units = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB']
  let v = n / 1024
  let u = 0
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++ }
  return `${v.toFixed(1)} ${units[u]!}`
}
