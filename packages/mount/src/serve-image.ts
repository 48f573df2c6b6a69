import { mountImage, type MountedImage, type MountImageOptions } from './mount-image.js'

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP']

/** Keeps serving until the image is unmounted; SIGINT, SIGTERM and SIGHUP unmount it (lazily if busy) first. */
export async function holdMount (mounted: MountedImage): Promise<void> {
  const onSignal = (): void => { mounted.unmount().catch(() => {}) }
  for (const s of SIGNALS) process.on(s, onSignal)
  try {
    await mounted.closed
  } finally {
    for (const s of SIGNALS) process.off(s, onSignal)
  }
}

/**
 * Mounts and serves until unmounted, like `mountImage` + `holdMount`, but a signal that arrives while mounting is
 * not lost: the image is unmounted as soon as it is up. `onMounted` runs once the mount is ready.
 * One listener covers both phases: removing the last listener restores the default action (death by signal),
 * so swapping listeners would open a window in which a Ctrl-C kills the server and leaves its mount behind.
 */
export async function serveImage (opts: MountImageOptions, onMounted: (m: MountedImage) => void = () => {}): Promise<MountedImage> {
  let stopped = false
  let mounted: MountedImage | undefined
  const onSignal = (): void => {
    stopped = true
    mounted?.unmount().catch(() => {})
  }
  for (const s of SIGNALS) process.on(s, onSignal)
  try {
    mounted = await mountImage(opts)
    onMounted(mounted)
    if (stopped) await mounted.unmount()
    await mounted.closed
    return mounted
  } finally {
    for (const s of SIGNALS) process.off(s, onSignal)
  }
}
