import type { CommandSpec } from '../command.js'

/**
 * A command as `--help` lists it, and how to load the rest: a module is imported only when its command runs, so
 * `cfs --help` and one command do not pay for loading every command's dependencies (measured in docs/benchmarks.md).
 * test/commands-index.test.ts checks that `command` and `describe` match the loaded spec.
 */
export interface CommandEntry {
  command: string
  describe: string
  load: () => Promise<CommandSpec>
}

/** Every command `cfs` offers, in the order `--help` lists them. */
export const commands: CommandEntry[] = [
  { command: 'build [input]', describe: 'build an image or directory into the store; print its digest', load: async () => (await import('./build.js')).buildCommand },
  { command: 'verify <manifest>', describe: 'check that the store holds every object of an image, intact', load: async () => (await import('./verify.js')).verifyCommand },
  { command: 'diff <a> <b>', describe: 'show what changed between two images (exit 0 identical, 6 different)', load: async () => (await import('./diff.js')).diffCommand },
  { command: 'mount <manifest> <mountpoint>', describe: "mount an image read-only (FUSE, or the kernel's EROFS + overlayfs; needs root)", load: async () => (await import('./mount.js')).mountCommand },
  { command: 'umount <mountpoint>', describe: 'unmount an image mounted with cfs mount, either backend (also when a FUSE server died)', load: async () => (await import('./umount.js')).umountCommand },
  { command: 'inspect <manifest>', describe: 'summarize an image: digest, format, entries by type, sizes, objects, hardlinks, largest files', load: async () => (await import('./inspect.js')).inspectCommand },
  { command: 'ls <manifest> [path]', describe: 'list entries of an image like ls -l, without mounting it', load: async () => (await import('./ls.js')).lsCommand },
  { command: 'cat <manifest> <path>', describe: "print one file's content from an image (inline, or its object in the store)", load: async () => (await import('./cat.js')).catCommand },
  { command: 'dump <manifest>', describe: 'print the composefs text dump of a manifest, as composefs-info dump prints its image', load: async () => (await import('./dump.js')).dumpCommand },
  { command: 'export-erofs <manifest> <out>', describe: 'write the composefs EROFS image of a manifest (byte-identical to mkcomposefs 1.0.8)', load: async () => (await import('./export-erofs.js')).exportErofsCommand },
  { command: 'images', describe: 'list the images kept in the store (the roots gc keeps)', load: async () => (await import('./images.js')).imagesCommand },
  { command: 'rm <digest..>', describe: 'stop keeping images; cfs gc then frees objects nothing else uses', load: async () => (await import('./rm.js')).rmCommand },
  { command: 'gc', describe: 'remove objects that no kept image references, and cached kernel images of images no longer kept', load: async () => (await import('./gc.js')).gcCommand },
  { command: 'fsck', describe: 'check every object and image in the store against its name; find stray and leftover temp files', load: async () => (await import('./fsck.js')).fsckCommand },
  { command: 'bench <image> [image2]', describe: 'time symlink farm, overlayfs, kernel composefs and FUSE on an image: prepare, mount, cold/warm ls -lR, disk', load: async () => (await import('./bench.js')).benchCommand },
  { command: 'store <action>', describe: 'manage the object store: `seal` enables kernel fs-verity on every object', load: async () => (await import('./store.js')).storeCommand },
  { command: 'completion', describe: 'print a bash completion script for cfs (commands, options and their values)', load: async () => (await import('./completion.js')).completionCommand },
]
