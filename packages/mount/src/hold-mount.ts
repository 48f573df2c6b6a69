import type { MountedImage } from './mount-image.js'

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
