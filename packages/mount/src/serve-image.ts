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
 */
export async function serveImage (opts: MountImageOptions, onMounted: (m: MountedImage) => void = () => {}): Promise<MountedImage> {
  let stopped = false
  const early = (): void => { stopped = true }
  for (const s of SIGNALS) process.on(s, early)
  let mounted: MountedImage
  try {
    mounted = await mountImage(opts)
  } finally {
    for (const s of SIGNALS) process.off(s, early)
  }
  onMounted(mounted)
  if (stopped) await mounted.unmount(); else await holdMount(mounted)
  return mounted
}
