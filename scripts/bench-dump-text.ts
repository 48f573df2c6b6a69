/**
 * BENCHMARK ONLY: a minimal composefs dump reader and writer (no validation, no strictness) so that
 * scripts/bench-manifest.ts does not wait for @cfs/dump. Do not import them anywhere else.
 */
import { finalizeTree, makeInode, walkDepthFirst, S_IFDIR, S_IFMT, type Manifest, type Node } from '../packages/manifest/src/index.js'

function unescape (s: string): string {
  if (!s.includes('\\')) return s
  return s.replace(/\\(x[0-9a-fA-F]{2}|.)/g, (_m, e: string) => {
    if (e[0] === 'x') return String.fromCharCode(parseInt(e.slice(1), 16))
    return ({ n: '\n', r: '\r', t: '\t', '\\': '\\' } as Record<string, string>)[e] ?? e
  })
}

/** benchmark-only dump reader */
export function readDump (text: string): Manifest {
  const byPath = new Map<string, Node>()
  const links: Array<[Node, string]> = []
  let root: Node | undefined
  for (const line of text.split('\n')) {
    if (line === '') continue
    const f = line.split(' ')
    const path = unescape(f[0]!)
    const hard = f[2]!.startsWith('@')
    const mode = parseInt(f[2]!.replace('@', ''), 8)
    const [sec, nsec] = f[7]!.split('.')
    const inode = makeInode(mode, { size: Number(f[1]), nlink: Number(f[3]), uid: Number(f[4]), gid: Number(f[5]), rdev: Number(f[6]), mtimeSec: Number(sec), mtimeNsec: Number(nsec) })
    const payload = f[8] === '-' ? undefined : unescape(f[8]!)
    if ((mode & S_IFMT) === 0o120000) inode.target = payload
    else if ((mode & S_IFMT) === 0o100000) {
      if (payload !== undefined) inode.payload = payload
      if (f[9] !== '-') inode.inline = Buffer.from(unescape(f[9]!), 'latin1')
      if (f[10] !== '-') inode.digest = Buffer.from(f[10]!, 'hex')
    }
    for (const x of f.slice(11)) {
      if (x === '') continue
      const eq = x.indexOf('=')
      inode.xattrs.push({ key: unescape(x.slice(0, eq)), value: Buffer.from(unescape(x.slice(eq + 1)), 'latin1') })
    }
    const node: Node = { name: path === '/' ? '' : path.slice(path.lastIndexOf('/') + 1), inode }
    if ((mode & S_IFMT) === S_IFDIR) { node.children = []; inode.size = 0 }
    if (path === '/') root = node
    else byPath.get(path.slice(0, path.lastIndexOf('/')) || '/')!.children!.push(node)
    byPath.set(path, node)
    if (hard) links.push([node, payload!])
  }
  for (const [node, target] of links) node.inode = byPath.get(target)!.inode
  return finalizeTree({ root: root! })
}

function escape (s: string, xattr = false): string {
  let out = ''
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c === 0x5c) out += '\\\\'
    else if (c === 0x0a) out += '\\n'
    else if (c === 0x0d) out += '\\r'
    else if (c === 0x09) out += '\\t'
    else if (c < 0x21 || c > 0x7e || (xattr && c === 0x3d)) out += '\\x' + c.toString(16).padStart(2, '0')
    else out += s[i]
  }
  return out
}

/** benchmark-only dump writer (composefs-info dump shape, byte strings as latin1) */
export function writeDump (m: Manifest): string {
  const lines: string[] = []
  const first = new Map<object, string>()
  walkDepthFirst(m, (path, node) => {
    const i = node.inode
    const seen = first.get(i)
    if (seen === undefined) first.set(i, path)
    const payload = seen !== undefined ? escape(seen) : i.target !== undefined ? escape(i.target) : i.payload !== undefined ? escape(i.payload) : '-'
    const xs = i.xattrs.map(x => `${escape(x.key, true)}=${escape(Buffer.from(x.value).toString('latin1'), true)}`)
    lines.push([escape(path), i.size, (seen !== undefined ? '@' : '') + i.mode.toString(8), i.nlink, i.uid, i.gid, i.rdev, `${i.mtimeSec}.${i.mtimeNsec}`,
      payload, i.inline !== undefined ? escape(Buffer.from(i.inline).toString('latin1')) : '-',
      i.digest !== undefined ? Buffer.from(i.digest).toString('hex') : '-', ...xs].join(' '))
  })
  return lines.join('\n') + '\n'
}

