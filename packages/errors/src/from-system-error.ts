import { CfsError, type CfsErrorCode } from './cfs-error.js'

/**
 * Turns a Node system error (ENOENT, EACCES, ENOSPC, …) into a `CfsError` that says what was being done and
 * where. Call it at the spot that knows what was missing; anything that is not a system error is returned as is.
 */
export function fromSystemError (err: unknown, doing: string, path: string): unknown {
  if (err instanceof CfsError) return err
  const code = (err as NodeJS.ErrnoException | null)?.code
  if (typeof code !== 'string') return err
  const table: Record<string, [CfsErrorCode, string, string | undefined]> = {
    ENOENT: ['ERR_CFS_FILE_NOT_FOUND', 'no such file or directory', 'check the path'],
    ENOTDIR: ['ERR_CFS_FILE_NOT_FOUND', 'a component of the path is not a directory', 'check the path'],
    EACCES: ['ERR_CFS_PERMISSION', 'permission denied', 'run as a user that may access it, or choose another path'],
    EPERM: ['ERR_CFS_PERMISSION', 'operation not permitted', 'run as root, or choose another path'],
    EROFS: ['ERR_CFS_PERMISSION', 'read-only file system', 'choose a writable location'],
    ENOSPC: ['ERR_CFS_NO_SPACE', 'no space left on device', 'free some space or choose another store with --store'],
    EDQUOT: ['ERR_CFS_NO_SPACE', 'disk quota exceeded', 'free some space or choose another store with --store'],
    EISDIR: ['ERR_CFS_IO', 'is a directory', 'give a file path'],
  }
  const known = table[code]
  if (known === undefined) return new CfsError('ERR_CFS_IO', `${doing} ${path}: ${code}`, { cause: err })
  return new CfsError(known[0], `${doing} ${path}: ${known[1]}`, { hint: known[2], cause: err })
}
