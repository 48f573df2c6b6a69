export { CfsError, ExitCode, exitCodeTable, isCfsError } from './cfs-error.js'
export type { CfsErrorCode, CfsErrorOptions, ExitCodeValue } from './cfs-error.js'
export { fromSystemError } from './from-system-error.js'
