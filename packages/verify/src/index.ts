export { verifyManifest, hexOfPayload, objectsReferencedBy } from './verify-manifest.js'
export type { VerifyReport, VerifyFinding, VerifyOptions, VerifyMethod, VerifyProblem } from './verify-manifest.js'
