/**
 * Mounts a manifest with the kernel's own drivers, the way `mount.composefs` does (spec §6.2, §6.3): the composefs
 * EROFS image is loop-mounted read-only on a private directory, overlayfs stacks it over the store's `objects/`
 * as a data-only lower layer (`lowerdir=META::OBJECTS`), and the EROFS mount is then detached lazily. The overlay
 * keeps the EROFS superblock alive, and `mount -o loop` sets autoclear on the loop device, so a plain
 * `umount MOUNTPOINT` releases everything. A small state file next to the private directory records the loop
 * device, so `unmountKernel` can also clean up after a crash or an external `umount`.
 */
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { CfsError, fromSystemError } from '@cfs/errors'
import type { Manifest } from '@cfs/manifest'
import { OBJECTS_DIR, Store } from '@cfs/store'
import { EROFS_CACHE_DIR, ensureImage } from './image-cache.js'
import { checkKernelSupport } from './kernel-support.js'
import { COMPOSEFS_SOURCE, optionValue, readMountTable, topMountAt } from './mount-table.js'
import { runTool } from './run-tool.js'

export const DEFAULT_RUN_DIR = '/run/cfs'
const META_PREFIX = 'meta-'
/** how long unmountKernel waits for autoclear to detach the loop device before detaching it itself */
const LOOP_RELEASE_WAIT_MS = 500

export interface MountKernelOptions {
  /** the manifest file (CFSM) to mount; or give `manifest` */
  manifestPath?: string
  manifest?: Manifest
  /** an existing, empty-or-not directory that is not already a mount point */
  mountpoint: string
  /** the cfs store whose `objects/` holds the external files */
  storeDir: string
  /** overlayfs `verity=require`: every external file must carry a digest and its object must have fs-verity */
  verity?: boolean
  /** where images are cached (default `<store>/erofs-cache`) */
  cacheDir?: string
  /** where the private EROFS mount directory and its state file live (default /run/cfs) */
  runDir?: string
}

export interface KernelMount {
  mountpoint: string
  /** the composefs image that is mounted */
  image: string
  /** false when the image was written for this mount, true when a cached one was reused */
  imageReused: boolean
  /** the loop device behind the EROFS layer, e.g. /dev/loop3 */
  loopDevice: string
  objectsDir: string
  verity: boolean
}

interface MountState { mountpoint: string, image: string, loopDevice: string, metaDir: string }

/** overlayfs splits lowerdir on `:` and options on `,`; util-linux's escaping of them is unverified (spec §6.3) */
function checkOptionPath (p: string, what: string): void {
  if (/[,:\\]/.test(p)) {
    throw new CfsError('ERR_CFS_USAGE', `${what} ${p} contains a comma, colon or backslash, which cannot be passed in overlay mount options`,
      { hint: 'choose a path without , : or \\, or use the FUSE backend (cfs mount --backend fuse)' })
  }
}

function checkMountpoint (mountpoint: string): string {
  let real: string
  let st: fs.Stats
  try {
    real = fs.realpathSync(mountpoint)
    st = fs.statSync(real)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new CfsError('ERR_CFS_FILE_NOT_FOUND', `mountpoint ${mountpoint} does not exist`, { hint: 'create the directory first', cause: err })
    }
    throw fromSystemError(err, 'cannot use mountpoint', mountpoint)
  }
  if (!st.isDirectory()) throw new CfsError('ERR_CFS_USAGE', `mountpoint ${mountpoint} is not a directory`)
  const top = topMountAt(real)
  if (top !== undefined) {
    throw new CfsError('ERR_CFS_MOUNTPOINT_BUSY', `${mountpoint} is already a mount point (${top.fsType} from ${top.source})`,
      { hint: `unmount it first (cfs umount ${mountpoint})` })
  }
  return real
}

const stateFileOf = (metaDir: string): string => `${metaDir}.json`

function loopBackingFile (device: string): string | undefined {
  try {
    return fs.readFileSync(`/sys/block/${path.basename(device)}/loop/backing_file`, 'latin1').trim()
  } catch { return undefined }
}

/**
 * Mounts the image of a manifest read-only on `mountpoint` with erofs + overlayfs and returns what was mounted.
 * The image comes from the cache or is written into it first. Throws ERR_CFS_PERMISSION when not root and
 * ERR_CFS_KERNEL_UNSUPPORTED when the kernel lacks erofs or overlay (both hint at the FUSE backend);
 * ERR_CFS_FILE_NOT_FOUND, ERR_CFS_USAGE or ERR_CFS_MOUNTPOINT_BUSY for a missing, non-directory or already
 * mounted mountpoint; ERR_CFS_USAGE for paths overlay options cannot carry; ERR_CFS_MOUNT_FAILED with mount(8)'s
 * message; ERR_CFS_STORE_LOCKED when a `cfs gc` of the store does not finish within 10 minutes (mounting holds a
 * build lease until the image is attached). On failure nothing stays mounted or attached.
 */
export async function mountKernel (opts: MountKernelOptions): Promise<KernelMount> {
  checkKernelSupport()
  const storeDir = path.resolve(opts.storeDir)
  const objectsDir = path.join(storeDir, OBJECTS_DIR)
  try {
    if (!fs.statSync(objectsDir).isDirectory()) throw new Error('not a directory')
  } catch (err) {
    throw new CfsError('ERR_CFS_FILE_NOT_FOUND', `no cfs store at ${storeDir} (${objectsDir} is not a directory)`, { cause: err })
  }
  const runDir = path.resolve(opts.runDir ?? DEFAULT_RUN_DIR)
  checkOptionPath(objectsDir, 'object store')
  checkOptionPath(runDir, 'run directory')
  const mountpoint = checkMountpoint(opts.mountpoint)

  // A build lease keeps `cfs gc` out until the loop device holds the image (gc never removes an attached image).
  // A store where no lease can be written (read-only, no leases/) cannot be collected either: mount without one.
  const lease = await (await Store.open(storeDir)).acquireBuildLease().catch((err: unknown) => {
    if (err instanceof CfsError && err.code === 'ERR_CFS_STORE_LOCKED') throw err
    return undefined
  })
  try {
    return await mountWithImage(opts, storeDir, objectsDir, runDir, mountpoint)
  } finally { await lease?.release() }
}

async function mountWithImage (opts: MountKernelOptions, storeDir: string, objectsDir: string, runDir: string, mountpoint: string): Promise<KernelMount> {
  const verity = opts.verity === true
  let image
  if (opts.manifestPath !== undefined) image = ensureImage({ manifestPath: opts.manifestPath }, opts.cacheDir ?? path.join(storeDir, EROFS_CACHE_DIR))
  else if (opts.manifest !== undefined) image = ensureImage({ manifest: opts.manifest }, opts.cacheDir ?? path.join(storeDir, EROFS_CACHE_DIR))
  else throw new CfsError('ERR_CFS_USAGE', 'mountKernel needs manifestPath or manifest')

  try { fs.mkdirSync(runDir, { recursive: true, mode: 0o700 }) } catch (err) { throw fromSystemError(err, 'cannot create run directory', runDir) }
  await sweepStale(runDir)
  const metaDir = path.join(runDir, META_PREFIX + crypto.randomBytes(8).toString('hex'))
  fs.mkdirSync(metaDir, { mode: 0o700 })
  let erofsMounted = false
  let overlayMounted = false
  try {
    // spec §6.2 step 3: noacl unless the header says the image has ACL xattrs
    await runTool('mount', ['-t', 'erofs', '-o', image.hasAcl ? 'ro,loop' : 'ro,loop,noacl', image.path, metaDir],
      `cannot mount EROFS image ${image.path}`)
    erofsMounted = true
    const loopDevice = topMountAt(metaDir)?.source ?? ''
    const options = ['ro', 'metacopy=on', 'redirect_dir=on', ...(verity ? ['verity=require'] : []), `lowerdir=${metaDir}::${objectsDir}`]
    await runTool('mount', ['-t', 'overlay', COMPOSEFS_SOURCE, '-o', options.join(','), mountpoint], `cannot mount overlay on ${mountpoint}`)
    overlayMounted = true
    // written only once the overlay exists, so a concurrent sweepStale never mistakes a mount in progress for stale
    const state: MountState = { mountpoint, image: image.path, loopDevice, metaDir }
    fs.writeFileSync(stateFileOf(metaDir), JSON.stringify(state) + '\n', { mode: 0o600 })
    // the overlay holds its own reference to the EROFS superblock; detaching hides the helper mount
    await runTool('umount', ['-l', metaDir], `cannot detach EROFS mount ${metaDir}`)
    erofsMounted = false
    try { fs.rmdirSync(metaDir) } catch { /* an empty directory left in runDir is harmless */ }
    return { mountpoint, image: image.path, imageReused: image.reused, loopDevice, objectsDir, verity }
  } catch (err) {
    if (overlayMounted) await runTool('umount', [mountpoint], 'cleanup').catch(() => {})
    if (erofsMounted) await runTool('umount', [metaDir], 'cleanup').catch(() => {})
    if (topMountAt(metaDir) === undefined) {
      fs.rmSync(stateFileOf(metaDir), { force: true })
      try { fs.rmdirSync(metaDir) } catch { /* already gone */ }
    }
    throw err
  }
}

/**
 * Unmounts a composefs overlay made by `mountKernel` (or by mount.composefs) and whatever it left: the private
 * EROFS mount and directory, the state file, and the loop device if autoclear did not release it. Throws
 * ERR_CFS_NOT_MOUNTED when `mountpoint` is not a composefs mount, ERR_CFS_MOUNTPOINT_BUSY when files are still
 * open on it (unless `lazy`), ERR_CFS_MOUNT_FAILED for other umount(8) failures. With `lazy` (umount -l) the
 * mount leaves the namespace at once and the kernel releases the EROFS layer and loop device when the last open
 * file on it is closed.
 */
export async function unmountKernel (mountpoint: string, opts: { lazy?: boolean } = {}): Promise<void> {
  let real: string
  try { real = fs.realpathSync(mountpoint) } catch (err) {
    throw new CfsError('ERR_CFS_NOT_MOUNTED', `${mountpoint} does not exist, so nothing is mounted there`, { cause: err })
  }
  const top = topMountAt(real)
  if (top === undefined || top.fsType !== 'overlay' || top.source !== COMPOSEFS_SOURCE) {
    throw new CfsError('ERR_CFS_NOT_MOUNTED', top === undefined
      ? `nothing is mounted on ${mountpoint}`
      : `${mountpoint} is a ${top.fsType} mount from ${top.source}, not a composefs mount`)
  }
  const metaDir = (optionValue(top.superOptions, 'lowerdir') ?? '').split('::')[0] ?? ''
  try {
    await runTool('umount', opts.lazy === true ? ['-l', real] : [real], `cannot unmount ${mountpoint}`)
  } catch (err) {
    if (err instanceof CfsError && /busy/i.test(err.message)) {
      throw new CfsError('ERR_CFS_MOUNTPOINT_BUSY', err.message, { hint: 'close files and shells using the mount, then retry', cause: err })
    }
    throw err
  }
  if (path.basename(metaDir).startsWith(META_PREFIX)) await cleanUpMeta(metaDir, { releaseLoop: opts.lazy !== true })
}

/** The private EROFS directories named by the overlays mounted now (the first `lowerdir=` entry). */
function liveMetaDirs (): Set<string> {
  const live = new Set<string>()
  for (const e of readMountTable()) {
    if (e.fsType === 'overlay') live.add((optionValue(e.superOptions, 'lowerdir') ?? '').split('::')[0] ?? '')
  }
  return live
}

/** True when another live mount recorded in the same run directory uses the loop device of `state`. */
function loopUsedByOtherMount (state: MountState): boolean {
  const runDir = path.dirname(state.metaDir)
  const live = liveMetaDirs()
  for (const name of fs.readdirSync(runDir)) {
    const metaDir = path.join(runDir, name.slice(0, -'.json'.length))
    if (!name.startsWith(META_PREFIX) || !name.endsWith('.json') || metaDir === state.metaDir || !live.has(metaDir)) continue
    try {
      if ((JSON.parse(fs.readFileSync(path.join(runDir, name), 'utf8')) as MountState).loopDevice === state.loopDevice) return true
    } catch { /* unreadable state: not evidence of sharing */ }
  }
  return false
}

/** Cleans up after mounts that were unmounted without `unmountKernel` (a plain umount, or a crash). */
async function sweepStale (runDir: string): Promise<void> {
  const live = liveMetaDirs()
  for (const name of fs.readdirSync(runDir)) {
    if (!name.startsWith(META_PREFIX) || !name.endsWith('.json')) continue
    const metaDir = path.join(runDir, name.slice(0, -'.json'.length))
    if (!live.has(metaDir)) await cleanUpMeta(metaDir).catch(() => {})
  }
}

/** Removes what one mount left besides the overlay: its EROFS helper mount, directory, state file, loop device. */
async function cleanUpMeta (metaDir: string, opts: { releaseLoop: boolean } = { releaseLoop: true }): Promise<void> {
  let state: MountState | undefined
  try { state = JSON.parse(fs.readFileSync(stateFileOf(metaDir), 'utf8')) as MountState } catch { state = undefined }
  if (topMountAt(metaDir)?.fsType === 'erofs') await runTool('umount', [metaDir], `cannot unmount ${metaDir}`)
  try { fs.rmdirSync(metaDir) } catch { /* already removed after the lazy detach */ }
  // util-linux reuses a loop device already attached read-only to the same image, so mounts of one image share it
  if (opts.releaseLoop && state !== undefined && state.loopDevice !== '' && !loopUsedByOtherMount(state)) {
    // autoclear detaches the device when the EROFS superblock goes; give it a moment, then detach it ourselves.
    // LOOP_CLR_FD on a device still open elsewhere only sets autoclear, so this never pulls it from under a user.
    const deadline = Date.now() + LOOP_RELEASE_WAIT_MS
    while (loopBackingFile(state.loopDevice) === state.image && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 20))
    if (loopBackingFile(state.loopDevice) === state.image) await runTool('losetup', ['-d', state.loopDevice], `cannot detach ${state.loopDevice}`).catch(() => {})
  }
  fs.rmSync(stateFileOf(metaDir), { force: true })
}
