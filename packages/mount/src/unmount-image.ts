import { CfsError } from '@cfs/errors'
import { findMount, unmountFuse } from '@cfs/fuse'
import { MOUNT_TYPE, resolveMountpoint } from './mount-image.js'

/**
 * Unmounts a cfs image, also one whose server died (then the mount only answers ENOTCONN); a busy one is unmounted
 * lazily (`lazy: true`: it disappears now, and its server exits once the last user leaves). Throws
 * ERR_CFS_MOUNT_FAILED when nothing, or something other than a cfs image, is mounted there.
 */
export function unmountImage (mountpoint: string): { mountpoint: string, lazy: boolean } {
  const target = resolveMountpoint(mountpoint)
  const entry = findMount(target)
  if (entry === undefined) throw new CfsError('ERR_CFS_MOUNT_FAILED', `nothing is mounted at ${target}`)
  if (entry.fstype !== MOUNT_TYPE) {
    throw new CfsError('ERR_CFS_MOUNT_FAILED', `${target} is a ${entry.fstype} mount, not a cfs image`, { hint: 'use umount(8) for it' })
  }
  return { mountpoint: target, lazy: unmountFuse(target) === 'lazy' }
}
