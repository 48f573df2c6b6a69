import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import { CfsError } from '@cfs/errors'

const FUSE_HINT = 'use the FUSE backend (cfs mount --backend fuse)'

function kernelHas (fsType: string, filesystems: string): boolean {
  let text: string
  try { text = fs.readFileSync(filesystems, 'latin1') } catch { return false }
  // lines are `nodev\tNAME` or `\tNAME`
  return text.split('\n').some(line => line.split('\t').pop() === fsType)
}

/**
 * Throws unless this process can make a composefs kernel mount: root (ERR_CFS_PERMISSION), and the erofs and
 * overlay filesystems registered in `filesystems` (a /proc/filesystems table), after trying `modprobe` for a missing one (ERR_CFS_KERNEL_UNSUPPORTED).
 */
export function checkKernelSupport (filesystems = '/proc/filesystems'): void {
  if (process.getuid !== undefined && process.getuid() !== 0) {
    throw new CfsError('ERR_CFS_PERMISSION', 'kernel composefs mounts need root (mount(2) answers EPERM)', { hint: FUSE_HINT })
  }
  for (const fsType of ['erofs', 'overlay']) {
    if (kernelHas(fsType, filesystems)) continue
    try { execFileSync('modprobe', [fsType], { stdio: 'ignore' }) } catch { /* no modprobe or no module: re-check decides */ }
    if (!kernelHas(fsType, filesystems)) {
      throw new CfsError('ERR_CFS_KERNEL_UNSUPPORTED', `this kernel has no ${fsType} filesystem (not in ${filesystems}, modprobe ${fsType} did not help)`,
        { hint: FUSE_HINT })
    }
  }
}
