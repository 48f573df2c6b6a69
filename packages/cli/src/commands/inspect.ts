import { fileKind, isRegular, MANIFEST_VERSION, manifestDigest, objectPathOf, walkDepthFirst, type FileKind, type Inode } from '@cfs/manifest'
import type { CommandSpec } from '../command.js'
import { displayBytes } from '../display-bytes.js'
import { formatBytes as humanBytes } from '../format.js'
import { writeImageHtml } from '../html-report.js'
import { readManifestFile } from '../read-manifest-file.js'

const LARGEST = 10
/** Version of the `cfs inspect --json` document (docs/cli.md); bumped only on an incompatible change. */
export const INSPECT_SCHEMA = 'cfs.inspect/1'

/** `12.0 MiB (12582912 B)`: readable, and exact for scripts that grep. */
function formatBytes (n: number): string { return n < 1024 ? `${n} B` : `${humanBytes(n)} (${n} B)` }

export const inspectCommand: CommandSpec = {
  command: 'inspect <manifest>',
  describe: 'summarize an image: digest, format, entries by type, sizes, objects, hardlinks, largest files',
  builder: (y) => y.positional('manifest', { type: 'string', describe: 'manifest file' })
    .option('html', { type: 'string', requiresArg: true, describe: 'also write a self-contained HTML page: bytes by directory, dedup per layer and against the store, largest files' })
    .option('store', { type: 'string', requiresArg: true, describe: 'with --html: the store to compare with (default: $CFS_STORE, $XDG_DATA_HOME/cfs, ~/.local/share/cfs; left out if absent)' }),
  examples: [
    ['cfs inspect image.cfsm', 'print a summary'],
    ['cfs inspect image.cfsm --json', 'the same as JSON'],
    ['cfs inspect image.cfsm --html image.html', 'also write a page to open in a browser (works offline)'],
  ],
  handler: async (args, ctx) => {
    const { bytes, manifest } = await readManifestFile(String(args.manifest), ctx.io.cwd)
    const html = typeof args.html === 'string'
      ? await writeImageHtml(args.html, { bytes, manifest, source: String(args.manifest) }, args.store, ctx.io)
      : undefined
    const types: Partial<Record<FileKind, number>> = {}
    const seen = new Map<Inode, { path: string, links: number }>()
    let entries = 0
    walkDepthFirst(manifest, (path, node) => {
      entries++
      const kind = fileKind(node.inode.mode)!
      types[kind] = (types[kind] ?? 0) + 1
      const s = seen.get(node.inode)
      if (s === undefined) seen.set(node.inode, { path, links: 1 }); else s.links++
    })
    let totalBytes = 0
    let inlineBytes = 0
    let inlineFiles = 0
    let externalFiles = 0
    let unbacked = 0
    const objects = new Map<string, number>()
    let hardlinkGroups = 0
    let hardlinkPaths = 0
    const files: Array<{ path: string, size: number }> = []
    for (const [inode, { path, links }] of seen) {
      if (links > 1) { hardlinkGroups++; hardlinkPaths += links }
      if (!isRegular(inode)) continue
      totalBytes += inode.size
      files.push({ path, size: inode.size })
      if (inode.inline !== undefined) { inlineFiles++; inlineBytes += inode.inline.length; continue }
      if (inode.size === 0) continue
      externalFiles++
      const key = inode.payload ?? (inode.digest !== undefined ? objectPathOf(inode.digest) : undefined)
      if (key === undefined) unbacked++; else objects.set(key, inode.size)
    }
    let storedBytes = 0
    for (const size of objects.values()) storedBytes += size
    files.sort((a, b) => b.size - a.size || (a.path < b.path ? -1 : 1))
    const largest = files.slice(0, LARGEST).map(f => ({ path: displayBytes(f.path), size: f.size }))
    const digest = manifestDigest(bytes)
    const json = {
      schema: INSPECT_SCHEMA,
      digest,
      formatVersion: bytes[4] ?? MANIFEST_VERSION,
      manifestBytes: bytes.length,
      entries,
      inodes: seen.size,
      types,
      totalBytes,
      storedBytes,
      objects: objects.size,
      externalFiles,
      externalFilesWithoutObject: unbacked,
      inlineFiles,
      inlineBytes,
      hardlinkGroups,
      hardlinkPaths,
      largestFiles: largest,
      ...(html !== undefined ? { html } : {}),
    }
    const typeText = Object.entries(types).map(([k, v]) => `${v} ${k}`).join(', ')
    const text = [
      `digest:          ${digest}`,
      `format:          cfs manifest v${json.formatVersion}, ${formatBytes(bytes.length)}`,
      `entries:         ${entries} (${typeText})`,
      `inodes:          ${seen.size}`,
      `file bytes:      ${formatBytes(totalBytes)} total, ${formatBytes(storedBytes)} in ${objects.size} distinct objects`,
      `external files:  ${externalFiles}${unbacked > 0 ? ` (${unbacked} without an object)` : ''}`,
      `inline files:    ${inlineFiles} (${formatBytes(inlineBytes)})`,
      `hardlinks:       ${hardlinkGroups} groups, ${hardlinkPaths} paths`,
      'largest files:',
      ...largest.map(f => `  ${formatBytes(f.size).padStart(10)}  ${f.path}`),
      ...(html !== undefined ? [`html report:     ${html}`] : []),
    ].join('\n')
    return { text, json }
  },
}
