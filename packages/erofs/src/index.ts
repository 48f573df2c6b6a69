export { writeErofs, selectVersion } from './write-erofs.js'
export type { ErofsOptions } from './write-erofs.js'
export { writeErofsFile, erofsImageDigest } from './write-erofs-file.js'
export { xxh32 } from './xxh32.js'
