import { decodeManifest, encodeManifest, finalizeTree, lookupPath, makeInode, manifestDigest, S_IFDIR, S_IFREG } from '@cfs/manifest'

const tree = finalizeTree({ root: { name: '', inode: makeInode(S_IFDIR | 0o755), children: [
  { name: 'hello', inode: makeInode(S_IFREG | 0o644, { size: 3, inline: Buffer.from('hi\n') }) },
] } })
const bytes = encodeManifest(tree)            // CFSM, version 4, MessagePack body
const id = manifestDigest(bytes)              // sha256:… identifies the tree
const back = decodeManifest(bytes)            // throws a typed CfsError on bad bytes
console.log(id, bytes.length, Buffer.from(lookupPath(back, '/hello')!.inode.inline!).toString())   // sha256:… 162 hi
