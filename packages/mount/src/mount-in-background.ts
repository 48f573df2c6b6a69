import { spawn } from 'node:child_process'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { CfsError, type CfsErrorCode } from '@cfs/errors'
import { checkMountable, type MountImageOptions } from './mount-image.js'

export type DaemonReport =
  | { ok: true, pid: number, mountpoint: string }
  | { ok: false, code: string | undefined, message: string, hint: string | undefined }

const DAEMON_SCRIPT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'daemon.js')

/**
 * Starts a detached server process (its own session, cwd `/`) that mounts the image, and resolves once the mount
 * is ready, with the server's pid. Throws the same CfsErrors as `mountImage`, reported back by the server.
 */
export async function mountImageInBackground (opts: MountImageOptions): Promise<{ pid: number, mountpoint: string }> {
  const absolute: MountImageOptions = {
    ...opts,
    manifestPath: path.resolve(opts.manifestPath),
    mountpoint: path.resolve(opts.mountpoint),
    storeDir: path.resolve(opts.storeDir),
  }
  await checkMountable(absolute) // the server checks again; this gives the common errors without a process
  const child = spawn(process.execPath, [DAEMON_SCRIPT, JSON.stringify(absolute)],
    { detached: true, cwd: '/', stdio: ['ignore', 'ignore', 'ignore', 'pipe'] })
  const channel = child.stdio[3] as NodeJS.ReadableStream
  let text = ''
  channel.setEncoding('utf8')
  channel.on('data', (s: string) => { text += s })
  const exited = await new Promise<number | null>((resolve, reject) => {
    channel.once('end', () => { resolve(null) })
    child.once('error', (err) => {
      reject(new CfsError('ERR_CFS_MOUNT_FAILED', `cannot start the mount server: ${err.message}`, { cause: err }))
    })
    child.once('exit', (code) => { resolve(code) })
  })
  child.unref()
  let r: DaemonReport
  try {
    r = JSON.parse(text.split('\n')[0] ?? '') as DaemonReport
  } catch (err) {
    throw new CfsError('ERR_CFS_MOUNT_FAILED', `the mount server exited (${String(exited)}) before it was ready`, { cause: err })
  }
  if (!r.ok) {
    if (r.code === undefined) throw new Error(`the mount server failed: ${r.message}`)
    throw new CfsError(r.code as CfsErrorCode, r.message, { hint: r.hint })
  }
  return { pid: r.pid, mountpoint: r.mountpoint }
}
