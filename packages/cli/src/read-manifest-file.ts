/** Reading a manifest file named on the command line, for the commands that look inside one image. */
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { CfsError } from '@cfs/errors'
import { decodeManifest, type Manifest } from '@cfs/manifest'

export interface ManifestFile { file: string, bytes: Buffer, manifest: Manifest }

/** Reads and decodes `arg` (relative to `cwd`). Missing file: ERR_CFS_FILE_NOT_FOUND; bad bytes: the codec's errors. */
export async function readManifestFile (arg: string, cwd: string): Promise<ManifestFile> {
  const file = path.resolve(cwd, arg)
  let bytes: Buffer
  try {
    bytes = await fs.readFile(file)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') throw new CfsError('ERR_CFS_FILE_NOT_FOUND', `no manifest file ${arg}`, { cause: err })
    if (code === 'EACCES' || code === 'EPERM') throw new CfsError('ERR_CFS_PERMISSION', `cannot read manifest ${arg}: permission denied`, { cause: err })
    if (code === 'EISDIR') throw new CfsError('ERR_CFS_USAGE', `${arg} is a directory, not a manifest file`, { cause: err })
    throw new CfsError('ERR_CFS_IO', `cannot read manifest ${arg}: ${(err as Error).message}`, { cause: err })
  }
  try {
    return { file, bytes, manifest: decodeManifest(bytes) }
  } catch (err) {
    if (err instanceof CfsError) throw new CfsError(err.code, `${arg}: ${err.message}`, { hint: err.hint, cause: err })
    throw err
  }
}
