import { defaultStorePath } from '@cfs/store'
import { mountKernel } from '@cfs/kernel-mount'
import { mountImageInBackground, serveImage } from '@cfs/mount'
import { CfsError } from '@cfs/errors'
import type { CommandSpec } from '../command.js'

/** Version of the `cfs mount --json` document (docs/cli.md). */
export const MOUNT_SCHEMA = 'cfs.mount/1'

export const mountCommand: CommandSpec = {
  command: 'mount <manifest> <mountpoint>',
  describe: 'mount an image read-only (FUSE, or the kernel\'s EROFS + overlayfs; needs root)',
  builder: (y) => y
    .positional('manifest', { type: 'string', describe: 'manifest file written by cfs build' })
    .positional('mountpoint', { type: 'string', describe: 'an existing empty directory' })
    .option('store', { type: 'string', describe: 'object store (default $CFS_STORE or ~/.local/share/cfs)' })
    .option('foreground', { type: 'boolean', default: false, describe: 'serve from this process until Ctrl-C or cfs umount' })
    .option('verify', { type: 'boolean', default: false, describe: 'fuse: check each object\'s fs-verity digest before serving it; a mismatch reads as EIO' })
    .option('verity', { type: 'boolean', default: false, describe: 'kernel: overlayfs verity=require; objects without fs-verity read as EIO' })
    .option('backend', { choices: ['fuse', 'kernel'], default: 'fuse', describe: 'fuse: a cfs server on /dev/fuse; kernel: a composefs EROFS image loop-mounted under overlayfs' }),
  examples: [
    ['cfs mount image.cfsm /mnt/image', 'mount in the background; returns once the mount is ready'],
    ['cfs mount image.cfsm /mnt/image --store /var/lib/cfs --verify', 'check object digests while serving'],
    ['cfs mount image.cfsm /mnt/image --foreground', 'serve until Ctrl-C'],
    ['cfs mount image.cfsm /mnt/image --backend kernel --verity', 'the production path: EROFS + overlayfs, fs-verity enforced'],
  ],
  handler: async (args, ctx) => {
    if (args.backend === 'kernel') {
      if (args.foreground === true || args.verify === true) {
        throw new CfsError('ERR_CFS_USAGE', '--foreground and --verify belong to the FUSE backend', { hint: 'use --verity with --backend kernel' })
      }
      const m = await mountKernel({
        manifestPath: String(args.manifest),
        mountpoint: String(args.mountpoint),
        storeDir: typeof args.store === 'string' ? args.store : defaultStorePath(ctx.io.env),
        verity: args.verity === true,
      })
      return {
        text: `mounted ${String(args.manifest)} at ${m.mountpoint} (kernel: ${m.loopDevice}, image ${m.imageReused ? 'reused' : 'written'}: ${m.image})`,
        json: { schema: MOUNT_SCHEMA, backend: 'kernel', ...m },
      }
    }
    if (args.verity === true) throw new CfsError('ERR_CFS_USAGE', '--verity belongs to the kernel backend', { hint: 'use --verify with the FUSE backend' })
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
      return { text: `unmounted ${mounted.mountpoint}`, json: { schema: MOUNT_SCHEMA, backend: 'fuse', mountpoint: mounted.mountpoint, pid: process.pid, unmounted: true } }
    }
    const r = await mountImageInBackground(opts)
    return { text: `mounted ${opts.manifestPath} at ${r.mountpoint} (server pid ${r.pid})`, json: { schema: MOUNT_SCHEMA, backend: 'fuse', mountpoint: r.mountpoint, pid: r.pid } }
  },
}
