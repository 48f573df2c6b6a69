import { defaultStorePath } from '@cfs/store'
import { mountImageInBackground, serveImage } from '@cfs/mount'
import type { CommandSpec } from '../command.js'

export const mountCommand: CommandSpec = {
  command: 'mount <manifest> <mountpoint>',
  describe: 'mount an image read-only (FUSE; needs root)',
  builder: (y) => y
    .positional('manifest', { type: 'string', describe: 'manifest file written by cfs build' })
    .positional('mountpoint', { type: 'string', describe: 'an existing empty directory' })
    .option('store', { type: 'string', describe: 'object store (default $CFS_STORE or ~/.local/share/cfs)' })
    .option('foreground', { type: 'boolean', default: false, describe: 'serve from this process until Ctrl-C or cfs umount' })
    .option('verify', { type: 'boolean', default: false, describe: 'check each object\'s fs-verity digest before serving it; a mismatch reads as EIO' })
    .option('backend', { choices: ['fuse'], default: 'fuse', describe: 'how the image is served' }),
  examples: [
    ['cfs mount image.cfsm /mnt/image', 'mount in the background; returns once the mount is ready'],
    ['cfs mount image.cfsm /mnt/image --store /var/lib/cfs --verify', 'check object digests while serving'],
    ['cfs mount image.cfsm /mnt/image --foreground', 'serve until Ctrl-C'],
  ],
  handler: async (args, ctx) => {
    const opts = {
      manifestPath: String(args.manifest),
      mountpoint: String(args.mountpoint),
      storeDir: typeof args.store === 'string' ? args.store : defaultStorePath(ctx.io.env),
      verify: args.verify === true,
    }
    if (args.foreground === true) {
      const mounted = await serveImage(opts, (m) => {
        if (!ctx.json) ctx.io.stderr.write(`cfs: serving ${opts.manifestPath} at ${m.mountpoint}; Ctrl-C or cfs umount to stop\n`)
      })
      return { text: `unmounted ${mounted.mountpoint}`, json: { mountpoint: mounted.mountpoint, pid: process.pid, unmounted: true } }
    }
    const r = await mountImageInBackground(opts)
    return { text: `mounted ${opts.manifestPath} at ${r.mountpoint} (server pid ${r.pid})`, json: { mountpoint: r.mountpoint, pid: r.pid } }
  },
}
