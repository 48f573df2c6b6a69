import { unmountImage } from '@cfs/mount'
import type { CommandSpec } from '../command.js'

export const umountCommand: CommandSpec = {
  command: 'umount <mountpoint>',
  describe: 'unmount an image mounted with cfs mount (also when its server died)',
  builder: (y) => y.positional('mountpoint', { type: 'string', describe: 'where the image is mounted' }),
  examples: [
    ['cfs umount /mnt/image', 'unmount; the background server then exits'],
  ],
  handler: async (args) => {
    const r = unmountImage(String(args.mountpoint))
    return { text: `unmounted ${r.mountpoint}${r.lazy ? ' (lazily: it was in use; the server exits when the last user leaves)' : ''}`, json: r }
  },
}
