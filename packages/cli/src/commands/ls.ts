import { directorySize, fileKind, isDir, S_IFMT, S_IFCHR, S_IFBLK, type Node } from '@cfs/manifest'
import type { CommandSpec } from '../command.js'
import { displayBytes } from '../display-bytes.js'
import { readManifestFile } from '../read-manifest-file.js'
import { formatTime, modeString, resolvePath, splitDev } from '../tree-view.js'

/** Version of the `cfs ls --json` document (docs/cli.md); bumped only on an incompatible change. */
export const LS_SCHEMA = 'cfs.ls/1'

interface Row { path: string, node: Node, isRoot: boolean }

function sizeOf (row: Row): number {
  return isDir(row.node.inode) ? directorySize(row.node, row.isRoot) : row.node.inode.size
}

function jsonOf (row: Row): Record<string, unknown> {
  const i = row.node.inode
  const out: Record<string, unknown> = {
    path: displayBytes(row.path),
    name: displayBytes(row.node.name),
    type: fileKind(i.mode),
    mode: i.mode,
    modeString: modeString(i.mode),
    nlink: i.nlink,
    uid: i.uid,
    gid: i.gid,
    size: sizeOf(row),
    mtime: i.mtimeSec,
    mtimeNsec: i.mtimeNsec,
  }
  const type = i.mode & S_IFMT
  if (type === S_IFCHR || type === S_IFBLK) out.rdev = i.rdev
  if (i.target !== undefined) out.target = displayBytes(i.target)
  if (i.inline !== undefined) out.inline = true
  if (i.digest !== undefined) out.digest = Buffer.from(i.digest).toString('hex')
  if (i.payload !== undefined) out.payload = displayBytes(i.payload)
  if (i.xattrs.length > 0) out.xattrs = i.xattrs.map(x => displayBytes(x.key))
  return out
}

/** ls -l lines for `rows`, columns aligned within the block. */
function textOf (rows: Row[], nameOf: (r: Row) => string): string[] {
  const cells = rows.map(r => {
    const i = r.node.inode
    const type = i.mode & S_IFMT
    const size = type === S_IFCHR || type === S_IFBLK ? splitDev(i.rdev).join(', ') : String(sizeOf(r))
    const name = nameOf(r) + (i.target !== undefined ? ' -> ' + displayBytes(i.target) : '')
    return [modeString(i.mode), String(i.nlink), String(i.uid), String(i.gid), size, formatTime(i.mtimeSec), name]
  })
  const width = [1, 2, 3, 4].map(c => Math.max(0, ...cells.map(x => x[c]!.length)))
  return cells.map(x => [x[0], x[1]!.padStart(width[0]!), x[2]!.padEnd(width[1]!), x[3]!.padEnd(width[2]!), x[4]!.padStart(width[3]!), x[5], x[6]].join(' '))
}

const childPath = (dir: string, name: string): string => dir === '/' ? '/' + name : dir + '/' + name

export const lsCommand: CommandSpec = {
  command: 'ls <manifest> [path]',
  describe: 'list entries of an image like ls -l, without mounting it',
  builder: (y) => y
    .positional('manifest', { type: 'string', describe: 'manifest file' })
    .positional('path', { type: 'string', default: '/', describe: 'path inside the image (symlinks are not followed at the end)' })
    .option('recursive', { alias: 'R', type: 'boolean', default: false, describe: 'list subdirectories too' }),
  examples: [
    ['cfs ls image.cfsm', 'list the root directory'],
    ['cfs ls image.cfsm /usr/bin -R', 'list /usr/bin and everything below it'],
    ['cfs ls image.cfsm /etc/passwd --json', 'one entry as JSON'],
  ],
  handler: async (args, ctx) => {
    const { manifest } = await readManifestFile(String(args.manifest), ctx.io.cwd)
    const typed = String(args.path ?? '/')
    // like ls -l: a final symlink is listed itself, unless the path ends in a slash
    const at = resolvePath(manifest, typed, typed.length > 1 && typed.endsWith('/'))
    const recursive = args.recursive === true
    const start: Row = { path: at.path, node: at.node, isRoot: at.node === manifest.root }
    if (!isDir(start.node.inode)) {
      // named as typed, like ls -l does; JSON carries the resolved path
      return { text: textOf([start], () => typed).join('\n'), json: { schema: LS_SCHEMA, path: displayBytes(start.path), recursive: false, entries: [jsonOf(start)] } }
    }
    const blocks: string[] = []
    const entries: Array<Record<string, unknown>> = []
    // directories in depth-first order; each lists its children (ls -lR order, with an explicit stack)
    const dirs: Row[] = [start]
    while (dirs.length > 0) {
      const dir = dirs.pop()!
      const rows = (dir.node.children ?? []).map(c => ({ path: childPath(dir.path, c.name), node: c, isRoot: false }))
      for (const r of rows) entries.push(jsonOf(r))
      const lines = textOf(rows, r => displayBytes(r.node.name))
      blocks.push(recursive ? `${displayBytes(dir.path)}:\n${lines.map(l => l + '\n').join('')}` : lines.join('\n'))
      if (recursive) for (let k = rows.length - 1; k >= 0; k--) if (isDir(rows[k]!.node.inode)) dirs.push(rows[k]!)
    }
    return { text: blocks.join('\n'), json: { schema: LS_SCHEMA, path: displayBytes(start.path), recursive, entries } }
  },
}
