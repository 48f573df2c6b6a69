/**
 * Mounting without libfuse: open /dev/fuse, then let mount(8) call mount(2) with `fd=3` pointing at that open
 * device (it is passed to the child as its fd 3). The kernel binds the new superblock to our descriptor, so
 * whoever reads it serves the filesystem. This needs root (CAP_SYS_ADMIN); unprivileged FUSE would need
 * fusermount3 to pass the descriptor back over a unix socket, which Node cannot receive.
 */
import { spawn, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import { CfsError } from '@cfs/errors'
import { findMount } from './mount-table.js'

export const FUSE_DEVICE = '/dev/fuse'

export interface FuseMountOptions {
  /** shown as the mount source, e.g. in /proc/mounts */
  fsName: string
  /** the mount type becomes `fuse.<subtype>` */
  subtype: string
  /** let users other than root see the files (mode bits are still enforced); default true */
  allowOther?: boolean
}

/** Throws ERR_CFS_FUSE_UNAVAILABLE or ERR_CFS_PERMISSION when this machine cannot serve FUSE from Node. */
export function checkFuseAvailable (): void {
  if (!fs.existsSync(FUSE_DEVICE)) {
    throw new CfsError('ERR_CFS_FUSE_UNAVAILABLE', `no ${FUSE_DEVICE} on this machine`,
      { hint: 'install FUSE (apt-get install fuse3) and load it (modprobe fuse); in a container, pass --device /dev/fuse' })
  }
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new CfsError('ERR_CFS_PERMISSION', 'mounting needs root', { hint: 'run cfs mount as root (sudo)' })
  }
}

/** Opens the FUSE device; the descriptor is what `mountFuse` binds and `serveFuse` reads. */
export function openFuseDevice (): number {
  checkFuseAvailable()
  try {
    return fs.openSync(FUSE_DEVICE, 'r+')
  } catch (err) {
    throw new CfsError('ERR_CFS_FUSE_UNAVAILABLE', `cannot open ${FUSE_DEVICE}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      { hint: 'load the fuse module (modprobe fuse) and run as root', cause: err })
  }
}

/**
 * Mounts the FUSE connection open on `fd` read-only at `mountpoint` (absolute). Throws ERR_CFS_MOUNT_FAILED.
 * Asynchronous, so a server on this process's event loop or threads can answer the kernel meanwhile.
 */
export async function mountFuse (fd: number, mountpoint: string, opts: FuseMountOptions): Promise<void> {
  const options = [
    'fd=3', 'rootmode=40000', 'user_id=0', 'group_id=0', 'ro', 'default_permissions',
    ...(opts.allowOther === false ? [] : ['allow_other']),
  ].join(',')
  // -i: never run a mount.fuse helper, which would try to start a daemon of its own
  const child = spawn('mount', ['-i', '-t', `fuse.${opts.subtype}`, '-o', options, opts.fsName, mountpoint],
    { stdio: ['ignore', 'ignore', 'pipe', fd] })
  let stderr = ''
  child.stderr!.setEncoding('utf8').on('data', (s: string) => { stderr += s })
  const [status, error] = await new Promise<[number | null, Error | undefined]>((resolve) => {
    child.once('error', (err) => { resolve([null, err]) })
    child.once('close', (code) => { resolve([code, undefined]) })
  })
  if (error !== undefined || status !== 0) {
    const why = error?.message ?? (stderr.trim() || `mount exited with ${String(status)}`)
    throw new CfsError('ERR_CFS_MOUNT_FAILED', `cannot mount FUSE at ${mountpoint}: ${why}`,
      { hint: 'run as root; mount(8) from util-linux must be installed', cause: error })
  }
}

/**
 * Unmounts `mountpoint`, also when its server is gone (a dead FUSE connection): umount(8), then fusermount3 -u,
 * then a lazy unmount when it is busy (the mount disappears now, the filesystem once its last user leaves).
 * Returns how: 'unmounted', 'lazy', or 'none' when nothing was mounted there. Throws ERR_CFS_MOUNT_FAILED when
 * every way failed.
 */
export function unmountFuse (mountpoint: string, opts: { lazyIfBusy?: boolean } = {}): 'unmounted' | 'lazy' | 'none' {
  if (findMount(mountpoint) === undefined) return 'none'
  const attempts: Array<[string, string[]]> = [
    ['umount', [mountpoint]],
    ['fusermount3', ['-u', mountpoint]],
    ['fusermount', ['-u', mountpoint]],
  ]
  if (opts.lazyIfBusy !== false) attempts.push(['umount', ['-l', mountpoint]])
  const errors: string[] = []
  for (const [cmd, args] of attempts) {
    const r = spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' })
    if (r.status === 0 || findMount(mountpoint) === undefined) return args[0] === '-l' ? 'lazy' : 'unmounted'
    errors.push(r.error?.message ?? r.stderr.trim())
  }
  throw new CfsError('ERR_CFS_MOUNT_FAILED', `cannot unmount ${mountpoint}: ${errors.filter(e => e !== '').join('; ')}`,
    { hint: 'close programs using files under it and try again' })
}
