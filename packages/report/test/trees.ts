import { finalizeTree, makeInode, objectPathOf, S_IFDIR, S_IFLNK, S_IFREG, type Inode, type Manifest, type Node } from '@cfs/manifest'

export const HOSTILE_DIR = 'x<'
/** with its parent `x<`, the path reads `/x</script><img src=x onerror=...>` */
export const HOSTILE_FILE = 'script><img src=x onerror="document.title=\'pwned\'">'
export const QUOTES = '"\'&amp;'
export const LATIN1 = 'caf\xc3\xa9\xff'

export function file (size: number, seed: number, fields: Partial<Inode> = {}): Inode {
  if (size <= 64) return makeInode(S_IFREG | 0o644, { size, ...(size > 0 ? { inline: Buffer.alloc(size, seed) } : {}), ...fields })
  const digest = Buffer.alloc(32, seed & 0xff)
  digest.writeUInt32BE(seed)
  return makeInode(S_IFREG | 0o644, { size, digest, payload: objectPathOf(digest), ...fields })
}

export function dir (children: Node[]): Omit<Node, 'name'> {
  return { inode: makeInode(S_IFDIR | 0o755), children: children.sort((a, b) => a.name < b.name ? -1 : 1) }
}

/** An image with big and small files, a hardlink pair, a shared object, hostile and non-UTF-8 names. */
export function sampleImage (opts: { extra?: number } = {}): Manifest {
  const linked = file(9000, 7, { nlink: 2 })
  const usr: Node[] = [
    { name: 'big', inode: file(100000, 1) },
    { name: 'same-as-big', inode: file(100000, 1) },
    { name: 'linked', inode: linked },
    { name: 'linked2', inode: linked },
    { name: 'tiny', inode: file(10, 2) },
    { name: 'empty', inode: file(0, 0) },
  ]
  for (let i = 0; i < (opts.extra ?? 0); i++) usr.push({ name: `f${String(i).padStart(5, '0')}`, inode: file(100 + i, 1000 + i) })
  return finalizeTree({
    root: {
      name: '',
      ...dir([
        { name: 'usr', ...dir(usr) },
        { name: HOSTILE_DIR, ...dir([{ name: HOSTILE_FILE, inode: file(5000, 4) }]) },
        { name: QUOTES, inode: file(300, 5) },
        { name: LATIN1, inode: file(200, 6) },
        { name: 'link', inode: makeInode(S_IFLNK | 0o777, { target: '</script>', size: 9 }) },
      ]),
    },
  })
}

/** The JSON a page embeds. */
export function pageData (html: string): any {
  const m = /<script type="application\/json" id="cfs-data">([^<]*)<\/script>/.exec(html)
  if (m === null) throw new Error('no data script')
  return JSON.parse(m[1]!)
}

/** What a page must never hold: markup from a name, or a reference to anything on the network. */
export function expectSafePage (html: string): void {
  if (/https?:\/\//.test(html)) throw new Error('page references a network URL')
  if (html.includes('<img')) throw new Error('a name injected markup')
  // the error hook, the data and the drawing script: nothing else
  if ((html.match(/<script/g) ?? []).length !== 3) throw new Error('unexpected script element')
  if ((html.match(/<\/script/g) ?? []).length !== 3) throw new Error('a name closed a script element')
}
