import { finalizeTree, makeInode, S_IFDIR, S_IFREG, type Manifest, type Node } from '@cfs/manifest'
import { diffManifests, diffToJson, escapeBytes, summarizeDiff } from '@cfs/diff'

const file = (name: string, text: string, mode = 0o644): Node =>
  ({ name, inode: makeInode(S_IFREG | mode, { size: text.length, inline: Buffer.from(text) }) })
const image = (...children: Node[]): Manifest => finalizeTree({ root: { name: '', inode: makeInode(S_IFDIR | 0o755), children } })

const a = image(file('motd', 'hello\n'), file('old', 'bye\n'))            // or decodeManifest(fs.readFileSync('old.cfsm'))
const b = image(file('motd', 'hello, world\n', 0o600), file('new', 'hi\n'))
const result = diffManifests(a, b, { ignore: ['mtime'] })
for (const c of result.changes) console.log(c.kind, escapeBytes(c.path), c.attributes.map(x => x.attribute))
// modified /motd [ 'content', 'size', 'mode' ]   added /new []   removed /old []
console.log(result.identical, summarizeDiff(result).changedBytes, diffToJson(result).schema)   // false 26 'cfs.diff/1'
