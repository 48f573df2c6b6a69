/**
 * `mountImage` mounts a manifest read-only at a directory and serves it from this process: the FUSE loop runs on
 * a worker thread (see serve-worker.ts), so this thread stays free for signals and for unmounting.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { CfsError, fromSystemError, type CfsErrorCode } from '@cfs/errors'
import { checkFuseAvailable, findMount, mountFuse, openFuseDevice, unmountFuse } from '@cfs/fuse'
import { Store } from '@cfs/store'
import type { WorkerData, WorkerMessage } from './worker-protocol.js'

export interface MountImageOptions {
  /** path of a manifest file (`cfs build` output) */
  manifestPath: string
  mountpoint: string
  /** store holding the objects the manifest refers to */
  storeDir: string
  /** check each object's fs-verity digest before serving it the first time */
  verify?: boolean
}

export interface MountedImage {
  /** absolute path where the image is mounted */
  mountpoint: string
  /** Unmounts (lazily if busy) and resolves once serving has stopped. */
  unmount: () => Promise<void>
  /** resolves when serving stops: after `unmount`, `cfs umount` or any other unmount */
  closed: Promise<void>
}

/** The filesystem type cfs mounts show in /proc/mounts. */
export const MOUNT_TYPE = 'fuse.cfs'

/** Real path of `p`; when `p` cannot be resolved (a dead FUSE mount answers ENOTCONN), that of its parent + name. */
export function resolveMountpoint (p: string): string {
  const abs = path.resolve(p)
  try { return fs.realpathSync(abs) } catch {}
  try { return path.join(fs.realpathSync(path.dirname(abs)), path.basename(abs)) } catch { return abs }
}

/** Throws a CfsError unless `mountpoint` is an existing directory with nothing mounted on it. */
export function checkMountpoint (mountpoint: string): void {
  const existing = findMount(mountpoint)
  if (existing !== undefined) {
    throw new CfsError('ERR_CFS_MOUNT_FAILED', `${mountpoint} is already a mount point (${existing.fstype})`,
      { hint: existing.fstype === MOUNT_TYPE ? `unmount it first: cfs umount ${mountpoint}` : 'choose an empty directory' })
  }
  let st: fs.Stats
  try {
    st = fs.statSync(mountpoint)
  } catch (err) {
    throw new CfsError('ERR_CFS_FILE_NOT_FOUND', `mount point ${mountpoint} does not exist`, { hint: 'create the directory first', cause: err })
  }
  if (!st.isDirectory()) {
    throw new CfsError('ERR_CFS_MOUNT_FAILED', `mount point ${mountpoint} is not a directory`, { hint: 'give an empty directory' })
  }
}

/**
 * The checks `mountImage` makes before touching the kernel: FUSE available and root, the mount point an existing
 * directory with nothing mounted on it, the store and the manifest readable. Returns the resolved paths.
 */
export async function checkMountable (opts: MountImageOptions): Promise<{ mountpoint: string, objectsDir: string }> {
  checkFuseAvailable()
  const mountpoint = resolveMountpoint(opts.mountpoint)
  checkMountpoint(mountpoint)
  const store = await Store.open(opts.storeDir)
  let objectsDir: string
  try {
    objectsDir = fs.realpathSync(store.objectsDir)
    fs.accessSync(objectsDir, fs.constants.R_OK | fs.constants.X_OK)
  } catch (err) {
    throw fromSystemError(err, 'cannot read store', store.root)
  }
  try { fs.accessSync(opts.manifestPath, fs.constants.R_OK) } catch (err) {
    throw fromSystemError(err, 'cannot read manifest', opts.manifestPath)
  }
  return { mountpoint, objectsDir }
}

const WORKER_SCRIPT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'serve-worker.js')

/**
 * Mounts the manifest at `opts.mountpoint` and returns once the kernel has the mount and the server answered
 * its first request. Throws CfsError: ERR_CFS_FUSE_UNAVAILABLE / ERR_CFS_PERMISSION (no FUSE, not root),
 * ERR_CFS_FILE_NOT_FOUND (mount point, manifest or store missing), ERR_CFS_MOUNT_FAILED, manifest decode errors.
 * Objects are opened only when read: a missing one fails that file with EIO, not the mount.
 */
export async function mountImage (opts: MountImageOptions): Promise<MountedImage> {
  const { mountpoint, objectsDir } = await checkMountable(opts)
  const fd = openFuseDevice()
  const data: WorkerData = { fd, manifestPath: path.resolve(opts.manifestPath), objectsDir, verify: opts.verify === true }
  const worker = new Worker(WORKER_SCRIPT, { workerData: data })
  let mounted = false
  const closed = new Promise<void>((resolve, reject) => {
    worker.once('exit', () => {
      // normally the mount is already gone; if the server died, a lazy unmount leaves no dead mount behind
      try { if (mounted) unmountFuse(mountpoint) } catch {}
      fs.closeSync(fd)
      resolve()
    })
    worker.once('error', (err) => { reject(err) })
  })
  closed.catch(() => {})

  const next = async (): Promise<WorkerMessage> => await new Promise((resolve, reject) => {
    const onExit = (): void => { reject(new Error('the FUSE server thread stopped before it was ready')) }
    worker.once('message', (m: WorkerMessage) => { worker.off('exit', onExit); resolve(m) })
    worker.once('exit', onExit)
  })
  try {
    const loaded = await next()
    if (loaded.type === 'error') {
      if (loaded.code === undefined) throw new Error(`the FUSE server thread failed: ${loaded.message}`)
      throw new CfsError(loaded.code as CfsErrorCode, loaded.message, { hint: loaded.hint })
    }
    const initDone = next()
    await mountFuse(fd, mountpoint, { fsName: `cfs:${path.basename(opts.manifestPath)}`, subtype: 'cfs' })
    mounted = true
    const init = await initDone
    if (init.type !== 'init') throw new Error(`unexpected message from the FUSE server thread: ${init.type}`)
  } catch (err) {
    if (mounted) unmountFuse(mountpoint)
    await worker.terminate()
    await closed.catch(() => {})
    throw err
  }

  return {
    mountpoint,
    closed,
    unmount: async () => {
      unmountFuse(mountpoint)
      await closed
    },
  }
}
