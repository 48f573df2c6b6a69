import { isKernelMount, unmountKernel } from '@cfs/kernel-mount'
import { unmountImage } from '@cfs/mount'
import type { CommandSpec } from '../command.js'

/** Version of the `cfs umount --json` document (docs/cli.md). */
export const UMOUNT_SCHEMA = 'cfs.umount/1'

export const umountCommand: CommandSpec = {
  command: 'umount <mountpoint>',
  describe: 'unmount an image mounted with cfs mount, either backend (also when a FUSE server died)',
  builder: (y) => y.positional('mountpoint', { type: 'string', describe: 'where the image is mounted' }),
  examples: [
    ['cfs umount /mnt/image', 'unmount; a FUSE server then exits, a kernel mount releases its loop device'],
  ],
  handler: async (args) => {
    const mountpoint = String(args.mountpoint)
    if (isKernelMount(mountpoint)) {
      await unmountKernel(mountpoint)
      return { text: `unmounted ${mountpoint}`, json: { schema: UMOUNT_SCHEMA, mountpoint, backend: 'kernel', lazy: false } }
    }
    const r = unmountImage(mountpoint)
    return { text: `unmounted ${r.mountpoint}${r.lazy ? ' (lazily: it was in use; the server exits when the last user leaves)' : ''}`, json: { schema: UMOUNT_SCHEMA, backend: 'fuse', ...r } }
  },
}
