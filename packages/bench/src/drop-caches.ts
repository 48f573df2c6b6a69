import * as fs from 'node:fs'
import { runChecked } from './run-process.js'

const DROP_CACHES = '/proc/sys/vm/drop_caches'

/** Why caches cannot be dropped here, or undefined when they can (root with a writable drop_caches). */
export function dropCachesUnavailable (): string | undefined {
  if (process.getuid !== undefined && process.getuid() !== 0) return 'dropping caches needs root: cold figures are the first ls -lR after a fresh mount, with warm page and dentry caches'
  try { fs.accessSync(DROP_CACHES, fs.constants.W_OK) } catch { return `${DROP_CACHES} is not writable (a container?): cold figures are the first ls -lR after a fresh mount` }
  return undefined
}

/** `sync; echo 3 > /proc/sys/vm/drop_caches`: writes dirty pages, then drops the page cache, dentries and inodes. */
export async function dropCaches (signal?: AbortSignal): Promise<void> {
  await runChecked('sync', [], 'cannot sync', signal !== undefined ? { signal } : {})
  fs.writeFileSync(DROP_CACHES, '3')
}
