import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { CfsError } from '@cfs/errors'
import { bytesOf, fileKind, isRegular, objectPathOf, type Inode } from '@cfs/manifest'
import { defaultStorePath, OBJECTS_DIR } from '@cfs/store'
import type { CommandContext, CommandSpec } from '../command.js'
import { displayBytes } from '../display-bytes.js'
import { readManifestFile } from '../read-manifest-file.js'
import { withStoreOption } from '../store-option.js'
import { resolvePath } from '../tree-view.js'

const CHUNK = 256 * 1024

/**
 * The object path of an external file, relative to `objects/`. It comes from the manifest, which may be
 * untrusted: it must stay inside the store.
 */
function objectRelPath (payload: string | undefined, digest: Uint8Array | undefined, shown: string): string {
  const rel = payload ?? (digest !== undefined ? objectPathOf(digest) : undefined)
  if (rel === undefined || rel === '') {
    throw new CfsError('ERR_CFS_OBJECT_NOT_FOUND', `${shown} has no backing object (no payload, no digest) in the manifest`)
  }
  const parts = rel.split('/')
  if (rel.startsWith('/') || parts.includes('..') || rel.includes('\0')) {
    throw new CfsError('ERR_CFS_BAD_PATH', `${shown}: payload ${JSON.stringify(displayBytes(rel))} points outside the store`, { hint: 'the manifest is not trustworthy' })
  }
  return rel
}

export const catCommand: CommandSpec = {
  command: 'cat <manifest> <path>',
  describe: "print one file's content from an image (inline, or its object in the store)",
  builder: (y) => withStoreOption(y)
    .positional('manifest', { type: 'string', describe: 'manifest file' })
    .positional('path', { type: 'string', describe: 'file inside the image; symlinks inside the image are followed' }),
  examples: [
    ['cfs cat image.cfsm /etc/os-release', 'print a file, reading its object from the default store'],
    ['cfs cat image.cfsm /usr/bin/ls --store /var/lib/cfs > ls', 'copy a binary out of an image'],
  ],
  handler: async (args, ctx) => {
    const { manifest } = await readManifestFile(String(args.manifest), ctx.io.cwd)
    const text = String(args.path)
    const { node } = resolvePath(manifest, text, true)
    const inode = node.inode
    if (!isRegular(inode)) throw new CfsError('ERR_CFS_BAD_PATH', `${text} is a ${fileKind(inode.mode) ?? 'special file'}, not a regular file`)
    const out = stdoutWriter(ctx.io.stdout)
    try {
      await copyContent(inode, text, args, ctx, out.write)
    } finally { out.finish() }
    return {}
  },
}

/**
 * Writes with backpressure. A reader that goes away (`cfs cat … | head`, EPIPE) ends the copy quietly, as cat(1)
 * does; any other write error is ERR_CFS_IO.
 */
function stdoutWriter (stream: NodeJS.WritableStream): { write: (chunk: Uint8Array) => Promise<boolean>, finish: () => void } {
  let failed: NodeJS.ErrnoException | undefined
  const onError = (err: NodeJS.ErrnoException): void => { failed = err }
  stream.on('error', onError)
  const settle = (): Promise<void> => new Promise(resolve => {
    const done = (): void => { stream.off('drain', done); stream.off('close', done); stream.off('error', done); resolve() }
    stream.on('drain', done); stream.on('close', done); stream.on('error', done)
  })
  return {
    write: async (chunk) => {
      if (failed !== undefined) return false
      if (!stream.write(chunk)) await settle()
      return failed === undefined
    },
    // the listener stays: a late EPIPE from writes still in flight must not crash the process
    finish: () => {
      if (failed !== undefined && failed.code !== 'EPIPE') throw new CfsError('ERR_CFS_IO', `cannot write to stdout: ${failed.message}`, { cause: failed })
    },
  }
}

async function copyContent (inode: Inode, text: string, args: Record<string, unknown>, ctx: CommandContext, write: (chunk: Uint8Array) => Promise<boolean>): Promise<void> {
  if (inode.inline !== undefined) { await write(inode.inline); return }
  if (inode.size === 0) return
  const store = typeof args.store === 'string' ? path.resolve(ctx.io.cwd, args.store) : defaultStorePath(ctx.io.env)
  const rel = objectRelPath(inode.payload, inode.digest, text)
  // a Buffer path keeps non-UTF-8 payload bytes exact
  const file = Buffer.concat([Buffer.from(path.join(store, OBJECTS_DIR) + path.sep), bytesOf(rel)])
  const shown = path.join(store, OBJECTS_DIR, displayBytes(rel))
  let handle: fs.FileHandle
  try {
    handle = await fs.open(file, 'r')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new CfsError('ERR_CFS_OBJECT_NOT_FOUND', `object ${shown} for ${text} is missing`, { hint: 'pass the store it was built into with --store', cause: err })
    }
    throw new CfsError('ERR_CFS_IO', `cannot open object ${shown}: ${(err as Error).message}`, { cause: err })
  }
  try {
    const st = await handle.stat()
    if (!st.isFile() || st.size !== inode.size) {
      throw new CfsError('ERR_CFS_OBJECT_CORRUPT', `object ${shown} holds ${st.size} bytes, the manifest says ${inode.size} for ${text}`, { hint: 'run cfs verify' })
    }
    const buf = Buffer.allocUnsafe(CHUNK)
    for (let pos = 0; pos < inode.size;) {
      const { bytesRead } = await handle.read(buf, 0, CHUNK, pos)
      if (bytesRead === 0) break
      if (!await write(Buffer.from(buf.subarray(0, bytesRead)))) break
      pos += bytesRead
    }
  } finally {
    await handle.close()
  }
}
