export * from './model.js'
export { compareBytes, finalizeTree, walkDepthFirst, findChild, lookupPath, directorySize, numberInodes, ROOT_WHITEOUT_NAMES } from './tree.js'
export type { Visit } from './tree.js'
export { encodeManifest, decodeManifest, manifestDigest, MANIFEST_MAGIC, MANIFEST_VERSION } from './codec.js'
