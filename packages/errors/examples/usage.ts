import { CfsError, ExitCode, exitCodeTable, fromSystemError, isCfsError } from '@cfs/errors'
import * as fs from 'node:fs'

try {
  try { fs.readFileSync('/nonexistent/image.tar') } catch (err) { throw fromSystemError(err, 'read', '/nonexistent/image.tar') }
} catch (err) {
  if (!isCfsError(err)) throw err
  console.log(err.code, err.exitCode === ExitCode.NOT_FOUND, err.message)  // ERR_CFS_FILE_NOT_FOUND true read /nonexistent/image.tar: no such file …
}
const e = new CfsError('ERR_CFS_USAGE', 'unknown flag --frob', { hint: 'see cfs --help' })
console.log(e.exitCode, exitCodeTable.ERR_CFS_OBJECT_CORRUPT)            // 2 6: every code's exit status
