export { FsVerityHasher, fsverityDigest, fsverityDescriptor, FSVERITY_BLOCK_SIZE, FSVERITY_HASH_SIZE } from './fsverity.js'
export { fsverityDigestFile } from './fsverity-file.js'
export { parseDigest, digestHex, digestFromBytes, digestToBytes, sha256, isHex64 } from './digest.js'
export type { Digest } from './digest.js'
