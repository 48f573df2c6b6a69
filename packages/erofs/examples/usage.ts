import { erofsImageDigest, planImage, writeErofs } from '@cfs/erofs'
import { finalizeTree, makeInode, S_IFDIR, S_IFREG } from '@cfs/manifest'

const tree = finalizeTree({ root: { name: '', inode: makeInode(S_IFDIR | 0o755), children: [
  { name: 'hello', inode: makeInode(S_IFREG | 0o644, { size: 3, inline: Buffer.from('hi\n') }) },
] } })
const image = writeErofs(tree)                     // = mkcomposefs of the same tree, byte for byte
console.log(image.length, erofsImageDigest(image)) // 16384 and the fs-verity digest (hex) for mount -o digest=
console.log(planImage(tree).inodes.length)         // 258: the root, /hello and the 256 whiteouts composefs puts in the root
