/**
 * Every failure a user or an input file can cause is a `CfsError` with a stable code. The code decides the
 * process exit status through `EXIT_CODE_OF`; both are public and documented in docs/cli.md, so codes are only
 * ever added, never renumbered or reused.
 */
export const ExitCode = {
  OK: 0,
  /** a bug: an impossible state or an escaped crash (Node itself also exits 1 then) */
  INTERNAL: 1,
  /** bad flags or arguments */
  USAGE: 2,
  /** malformed input: tar, image, manifest, dump, digest */
  BAD_INPUT: 3,
  /** a missing file, object, blob or ref */
  NOT_FOUND: 4,
  /** the system refused: EACCES, ENOSPC, no FUSE, not root, mount failures */
  IO: 5,
  /** a mismatch: verify found bad objects, a digest differs, diff found differences */
  MISMATCH: 6,
} as const
export type ExitCodeValue = typeof ExitCode[keyof typeof ExitCode]

const EXIT_CODE_OF = {
  ERR_CFS_USAGE: ExitCode.USAGE,
  ERR_CFS_INTERNAL: ExitCode.INTERNAL,
  // inputs
  ERR_CFS_TAR_BAD_CHECKSUM: ExitCode.BAD_INPUT,
  ERR_CFS_TAR_TRUNCATED: ExitCode.BAD_INPUT,
  ERR_CFS_TAR_BAD_HEADER: ExitCode.BAD_INPUT,
  ERR_CFS_TAR_LIMIT: ExitCode.BAD_INPUT,
  ERR_CFS_DECOMPRESS: ExitCode.BAD_INPUT,
  /** a layer decompresses past --max-decompress-ratio or --max-layer-size */
  ERR_CFS_DECOMPRESS_LIMIT: ExitCode.BAD_INPUT,
  ERR_CFS_BAD_PATH: ExitCode.BAD_INPUT,
  ERR_CFS_IMAGE_BAD: ExitCode.BAD_INPUT,
  ERR_CFS_IMAGE_UNKNOWN_FORMAT: ExitCode.BAD_INPUT,
  ERR_CFS_PLATFORM_NOT_FOUND: ExitCode.NOT_FOUND,
  ERR_CFS_BLOB_NOT_FOUND: ExitCode.NOT_FOUND,
  ERR_CFS_BLOB_DIGEST_MISMATCH: ExitCode.MISMATCH,
  ERR_CFS_DIGEST_BAD: ExitCode.BAD_INPUT,
  ERR_CFS_MANIFEST_CORRUPT: ExitCode.BAD_INPUT,
  ERR_CFS_MANIFEST_VERSION: ExitCode.BAD_INPUT,
  ERR_CFS_MANIFEST_INVALID: ExitCode.BAD_INPUT,
  ERR_CFS_DUMP_PARSE: ExitCode.BAD_INPUT,
  ERR_CFS_TREE_INVALID: ExitCode.BAD_INPUT,
  ERR_CFS_EROFS_UNSUPPORTED: ExitCode.BAD_INPUT,
  // lookups
  ERR_CFS_FILE_NOT_FOUND: ExitCode.NOT_FOUND,
  ERR_CFS_OBJECT_NOT_FOUND: ExitCode.NOT_FOUND,
  ERR_CFS_PATH_NOT_FOUND: ExitCode.NOT_FOUND,
  ERR_CFS_IMAGE_NOT_FOUND: ExitCode.NOT_FOUND,
  ERR_CFS_NOT_MOUNTED: ExitCode.NOT_FOUND,
  /** an image digest prefix matches more than one kept image */
  ERR_CFS_IMAGE_AMBIGUOUS: ExitCode.USAGE,
  // the system
  ERR_CFS_IO: ExitCode.IO,
  ERR_CFS_NO_SPACE: ExitCode.IO,
  ERR_CFS_PERMISSION: ExitCode.IO,
  ERR_CFS_STORE_LOCKED: ExitCode.IO,
  ERR_CFS_FUSE_UNAVAILABLE: ExitCode.IO,
  ERR_CFS_MOUNT_FAILED: ExitCode.IO,
  ERR_CFS_VERITY_UNSUPPORTED: ExitCode.IO,
  ERR_CFS_KERNEL_UNSUPPORTED: ExitCode.IO,
  ERR_CFS_MOUNTPOINT_BUSY: ExitCode.IO,
  /** SIGINT or SIGTERM stopped a long command (cfs bench) after it undid what it had made */
  ERR_CFS_INTERRUPTED: ExitCode.IO,
  // mismatches
  ERR_CFS_MISMATCH: ExitCode.MISMATCH,
  ERR_CFS_OBJECT_CORRUPT: ExitCode.MISMATCH,
  /** the manifest is intact but is not the one `--expect` names */
  ERR_CFS_MANIFEST_DIGEST_MISMATCH: ExitCode.MISMATCH,
  /** fsck found problems it did not (or could not) repair */
  ERR_CFS_STORE_DAMAGED: ExitCode.MISMATCH,
} as const satisfies Record<`ERR_CFS_${string}`, number>

export type CfsErrorCode = keyof typeof EXIT_CODE_OF

/** The whole code → exit status table, for docs and for the CLI's `--help`. */
export const exitCodeTable: Readonly<Record<CfsErrorCode, number>> = EXIT_CODE_OF

export interface CfsErrorOptions {
  /** what the user can do about it; printed after the message */
  hint?: string
  cause?: unknown
}

export class CfsError extends Error {
  override readonly name = 'CfsError'
  readonly hint: string | undefined

  constructor (readonly code: CfsErrorCode, message: string, opts: CfsErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause })
    this.hint = opts.hint
  }

  get exitCode (): number { return EXIT_CODE_OF[this.code] }
}

export function isCfsError (err: unknown, code?: CfsErrorCode): err is CfsError {
  return err instanceof CfsError && (code === undefined || err.code === code)
}
