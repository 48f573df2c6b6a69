import * as fs from 'node:fs'
import * as path from 'node:path'
import { CfsError } from '@cfs/errors'
import { fsverityDigest } from '@cfs/digest'
import type { Manifest } from '@cfs/manifest'
import type { ErofsOptions } from './plan-image.js'
import { writeErofs } from './write-erofs.js'

/** fs-verity SHA-256 digest of an image, as bare lowercase hex: what `mount.composefs -o digest=` expects. */
export function erofsImageDigest (image: Uint8Array): string {
  return fsverityDigest(image).toString('hex')
}

/**
 * Writes the composefs EROFS image of `manifest` to `file` atomically (a temporary file in the same directory,
 * then rename) and returns its size and fs-verity digest. Errors as `writeErofs`, plus ERR_CFS_IO,
 * ERR_CFS_NO_SPACE or ERR_CFS_PERMISSION when the file cannot be written.
 */
export function writeErofsFile (manifest: Manifest, file: string, opts: ErofsOptions = {}): { size: number, digest: string } {
  const image = writeErofs(manifest, opts)
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}-${Date.now()}`)
  try {
    fs.writeFileSync(tmp, image, { mode: 0o644 })
    fs.renameSync(tmp, file)
  } catch (err) {
    fs.rmSync(tmp, { force: true })
    const code = (err as NodeJS.ErrnoException).code
    const cfsCode = code === 'ENOSPC' ? 'ERR_CFS_NO_SPACE' : code === 'EACCES' || code === 'EPERM' ? 'ERR_CFS_PERMISSION' : 'ERR_CFS_IO'
    throw new CfsError(cfsCode, `cannot write EROFS image ${file}: ${(err as Error).message}`, { cause: err })
  }
  return { size: image.length, digest: erofsImageDigest(image) }
}
