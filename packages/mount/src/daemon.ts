/**
 * Entry script of a background mount (started by `mountImageInBackground`): mounts, writes one JSON line with
 * the outcome to fd 3, closes it, and serves until unmounted or signalled.
 */
import * as fs from 'node:fs'
import { CfsError } from '@cfs/errors'
import { serveImage } from './serve-image.js'
import type { MountImageOptions } from './mount-image.js'
import type { DaemonReport } from './mount-in-background.js'

const report = (r: DaemonReport): void => {
  try { fs.writeSync(3, JSON.stringify(r) + '\n'); fs.closeSync(3) } catch {}
}

try {
  await serveImage(JSON.parse(process.argv[2] ?? '{}') as MountImageOptions, (mounted) => {
    report({ ok: true, pid: process.pid, mountpoint: mounted.mountpoint })
  })
} catch (err) {
  const e = err as { message?: string, hint?: string }
  report({ ok: false, code: err instanceof CfsError ? err.code : undefined, message: e.message ?? String(err), hint: e.hint })
  process.exitCode = 1
}
