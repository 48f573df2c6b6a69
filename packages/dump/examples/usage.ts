import { encodeDump, parseDump } from '@cfs/dump'
import { finalizeTree, makeInode, S_IFDIR, S_IFREG } from '@cfs/manifest'

const tree = finalizeTree({ root: { name: '', inode: makeInode(S_IFDIR | 0o755), children: [
  { name: 'hello', inode: makeInode(S_IFREG | 0o644, { size: 3, inline: Buffer.from('hi\n') }) },
] } })
const text = encodeDump(tree)                      // what `composefs-info dump` prints for mkcomposefs' image
console.log(text.toString())                       // / 4096 40755 2 0 0 0 0.0 - - -  /  /hello 3 100644 1 0 0 0 0.0 - hi\n -
const back = parseDump(text)                       // plain or gzip bytes; readDump(stream) for streams
console.log(encodeDump(back).equals(text))         // true
