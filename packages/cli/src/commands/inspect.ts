import { fileKind, isRegular, MANIFEST_VERSION, manifestDigest, objectPathOf, type FileKind, type Inode, type Node } from '@cfs/manifest'
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
    // Paths of the files that make the largest list: built when a file qualifies, not for every entry (a path per
    // entry was most of this command's time on a large image).
    const largestFiles: Array<{ path: string, size: number }> = []
    const consider = (size: number, dirPath: string, name: string): void => {
      if (largestFiles.length === LARGEST && size < largestFiles[LARGEST - 1]!.size) return
      const f = { path: dirPath + name, size }
      let i = largestFiles.length
      while (i > 0 && (size > largestFiles[i - 1]!.size || (size === largestFiles[i - 1]!.size && f.path < largestFiles[i - 1]!.path))) i--
      largestFiles.splice(i, 0, f)
      if (largestFiles.length > LARGEST) largestFiles.pop()
    }
    /** paths per non-directory inode (directories cannot be shared) */
    const links = new Map<Inode, number>()
    let entries = 0
    let dirs = 0
    let totalBytes = 0
    let inlineBytes = 0
    let inlineFiles = 0
    let externalFiles = 0
    let unbacked = 0
    const objects = new Map<string, number>()
    // depth-first in name order, each inode counted where it is first met (as walkDepthFirst would meet it)
    const walk = (node: Node, dirPath: string): void => {
      for (const child of node.children ?? []) {
        entries++
        const inode = child.inode
        const kind = fileKind(inode.mode)!
        types[kind] = (types[kind] ?? 0) + 1
        if (kind === 'dir') { dirs++; walk(child, dirPath + child.name + '/'); continue }
        const n = links.get(inode)
        links.set(inode, (n ?? 0) + 1)
        if (n !== undefined || !isRegular(inode)) continue
        totalBytes += inode.size
        consider(inode.size, dirPath, child.name)
        if (inode.inline !== undefined) { inlineFiles++; inlineBytes += inode.inline.length; continue }
        if (inode.size === 0) continue
        externalFiles++
        const key = inode.payload ?? (inode.digest !== undefined ? objectPathOf(inode.digest) : undefined)
        if (key === undefined) unbacked++; else objects.set(key, inode.size)
      }
    }
    entries++
    types.dir = 1
    walk(manifest.root, '/')
    let hardlinkGroups = 0
    let hardlinkPaths = 0
    for (const count of links.values()) if (count > 1) { hardlinkGroups++; hardlinkPaths += count }
    const inodes = 1 + dirs + links.size
    let storedBytes = 0
    for (const size of objects.values()) storedBytes += size
    const largest = largestFiles.map(f => ({ path: displayBytes(f.path), size: f.size }))
    const digest = manifestDigest(bytes)
    const json = {
      schema: INSPECT_SCHEMA,
      digest,
      formatVersion: bytes[4] ?? MANIFEST_VERSION,
      manifestBytes: bytes.length,
      entries,
      inodes,
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
      `inodes:          ${inodes}`,
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
