export { writeErofs } from './write-erofs.js'
export {
  planImage, selectVersion, isWhiteout, xattrNameIndex, xattrEntryLength,
  OVERLAY_PREFIX, OVERLAY_ESCAPED_PREFIX, METACOPY_XATTR, REDIRECT_XATTR, OPAQUE_XATTR, ESCAPED_WHITEOUT_XATTR,
  ESCAPED_WHITEOUTS_XATTR, ESCAPED_OPAQUE_XATTR, USER_WHITEOUT_XATTR, USER_WHITEOUTS_XATTR, USER_OPAQUE_XATTR,
} from './plan-image.js'
export type { ErofsOptions, PlanOptions, ImagePlan, PlannedInode, PlannedDirent, SharedXattr } from './plan-image.js'
export { writeErofsFile, erofsImageDigest } from './write-erofs-file.js'
export { xxh32 } from './xxh32.js'
