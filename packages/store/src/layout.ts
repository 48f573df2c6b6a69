/**
 * On-disk layout of a store (documented in packages/store/README.md):
 *
 *   <store>/objects/ab/cdef…   object bytes, named by the fs-verity digest of their content (mode 0644)
 *   <store>/images/<hex>.cfsm  manifests registered by `cfs build`, named by the sha256 of their bytes: gc roots
 *   <store>/images/<hex>.layers.json
 *                              per-layer build record of that image (image-layers.ts); optional, informational
 *   <store>/tmp/               temp files being written; anything here after a crash is a stray that fsck sweeps
 *   <store>/leases/            one file per running build, so gc knows what is in flight
 *   <store>/quarantine/        corrupt objects and images moved aside by `cfs fsck --repair`
 *   <store>/erofs-cache/<hex>.v<N>.img
 *                              composefs images of manifests (sha256 hex of the manifest bytes, writer version N),
 *                              written by @cfs/kernel-mount; derived data that gc removes with their image
 *
 * `objects/` is laid out exactly as composefs expects a basedir, so it can serve as overlayfs' data-only layer.
 */
import * as os from 'node:os'
import * as path from 'node:path'

export const OBJECTS_DIR = 'objects'
export const IMAGES_DIR = 'images'
export const TMP_DIR = 'tmp'
export const LEASES_DIR = 'leases'
export const IMAGE_SUFFIX = '.cfsm'
export const IMAGE_LAYERS_SUFFIX = '.layers.json'
export const QUARANTINE_DIR = 'quarantine'
export const EROFS_CACHE_DIR = 'erofs-cache'

/** `$CFS_STORE`, else `$XDG_DATA_HOME/cfs`, else `~/.local/share/cfs`. */
export function defaultStorePath (env: NodeJS.ProcessEnv = process.env): string {
  if (env.CFS_STORE !== undefined && env.CFS_STORE !== '') return path.resolve(env.CFS_STORE)
  if (env.XDG_DATA_HOME !== undefined && env.XDG_DATA_HOME !== '') return path.join(path.resolve(env.XDG_DATA_HOME), 'cfs')
  return path.join(os.homedir(), '.local', 'share', 'cfs')
}

/** `ab/cdef…` for a 64-hex digest. */
export function objectRelPath (hex: string): string { return `${hex.slice(0, 2)}/${hex.slice(2)}` }

/** `<64 hex>.v<version>.img`: the cached composefs image of the manifest whose bytes have sha256 `hex`. */
export function erofsCacheName (hex: string, version: number): string { return `${hex}.v${version}.img` }

/** The manifest digest hex and writer version of a cache file name, or undefined for any other name. */
export function parseErofsCacheName (name: string): { hex: string, version: number } | undefined {
  const m = /^([0-9a-f]{64})\.v(\d+)\.img$/.exec(name)
  return m === null ? undefined : { hex: m[1]!, version: Number(m[2]) }
}

/**
 * The tag and process of a tmp/ entry named `<tag>.<pid>.<rest>` (Store.tempPath, ObjectWriter's `obj.` temp files
 * and `stage.` directories, oci's `spool.` files), or undefined for any other name.
 */
export function parseTempName (name: string): { tag: string, pid: number } | undefined {
  const m = /^([a-z]+)\.(\d+)\.[^/]+$/.exec(name)
  return m === null ? undefined : { tag: m[1]!, pid: Number.parseInt(m[2]!, 10) }
}

/** `.<cache name>.tmp-<pid>-<ms>`: an image being written (atomically renamed to its name when complete). */
export function parseErofsCacheTemp (name: string): { pid: number } | undefined {
  const m = /^\.[0-9a-f]{64}\.v\d+\.img\.tmp-(\d+)-\d+$/.exec(name)
  return m === null ? undefined : { pid: Number(m[1]) }
}
