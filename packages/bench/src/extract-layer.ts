/**
 * The overlayfs strategy's preparation, as a container runtime's snapshotter does it: each layer extracted into
 * a directory of its own, whiteouts turned into what overlayfs reads as deletions (a 0/0 character device for
 * `.wh.NAME`, `trusted.overlay.opaque=y` on the directory holding `.wh..wh..opq`). GNU tar does the extraction
 * (owners, modes, devices, xattrs); a hardlink to a file of a lower layer cannot be made across directories, so
 * the file is copied from the layer that has it, as an overlay copy-up would.
 */
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { CfsError } from '@cfs/errors'
import { decompress, type Layer } from '@cfs/oci'
import { runChecked, runProcess } from './run-process.js'

const WHITEOUT = '.wh.'
const OPAQUE = '.wh..wh..opq'
const CROSS_LINK = /^tar: (.*): Cannot hard link to '(.*)': No such file or directory$/

/**
 * Extracts `layer` into the existing empty directory `dir`; `lowerDirs` are the directories of the layers below,
 * topmost first, for hardlinks that point into them. Throws ERR_CFS_IO when tar fails for any other reason.
 */
export async function extractLayer (layer: Layer, dir: string, lowerDirs: string[], signal?: AbortSignal): Promise<void> {
  const r = await runProcess('tar', ['-x', '--xattrs', '--xattrs-include=*', '--numeric-owner', '-p', '--quoting-style=escape', '-f', '-', '-C', dir],
    { stdin: decompress(layer.open(), layer.name), ...(signal !== undefined ? { signal } : {}) })
  signal?.throwIfAborted()
  if (r.code !== 0) {
    const lines = r.stderr.split('\n').filter(l => l !== '' && !/^tar: (Removing leading|Exiting with failure|.*implausibly old time stamp)/.test(l))
    const links: Array<{ name: string, target: string }> = []
    const other: string[] = []
    for (const line of lines) {
      const m = CROSS_LINK.exec(line)
      if (m !== null) links.push({ name: unescapeC(m[1]!), target: unescapeC(m[2]!) }); else other.push(line)
    }
    if (other.length > 0 || r.code !== 2) {
      throw new CfsError('ERR_CFS_IO', `tar could not extract layer ${layer.name}: ${(other.length > 0 ? other : lines).slice(0, 3).join('; ')}`)
    }
    for (const { name, target } of links) await copyFromLower(name, target, dir, lowerDirs, layer.name, signal)
  }
  await convertWhiteouts(dir, signal)
}

async function copyFromLower (name: string, target: string, dir: string, lowerDirs: string[], layerName: string, signal?: AbortSignal): Promise<void> {
  for (const lower of lowerDirs) {
    const src = joinBytes(lower, target)
    try { await fs.lstat(src) } catch { continue }
    const dst = joinBytes(dir, name)
    await fs.mkdir(path.dirname(argOf(dst)), { recursive: true })
    await runChecked('cp', ['--preserve=all', '-d', argOf(src), argOf(dst)], `cannot copy ${target} for hardlink ${name}`,
      signal !== undefined ? { signal } : {})
    return
  }
  throw new CfsError('ERR_CFS_IMAGE_BAD', `layer ${layerName}: ${name} is a hardlink to ${target}, which no layer has`)
}

/** `dir` (a path we chose) joined with a name from a layer (a byte string). */
function joinBytes (dir: string, name: string): Buffer {
  return Buffer.concat([Buffer.from(dir.replace(/\/+$/, '') + '/'), Buffer.from(name.replace(/^\/+/, ''), 'latin1')])
}

/** A path as a command-line argument: argv strings are passed as UTF-8, so bytes that are not UTF-8 cannot be. */
function argOf (p: Buffer): string {
  const s = p.toString('utf8')
  if (!Buffer.from(s, 'utf8').equals(p)) {
    throw new CfsError('ERR_CFS_IMAGE_BAD', `${p.toString('latin1')}: a whiteout or cross-layer hardlink whose name is not UTF-8 cannot be passed to mknod, setfattr or cp`)
  }
  return s
}

/** Reverses GNU tar's --quoting-style=escape: C escapes, octal bytes. Returns a byte string (latin1). */
function unescapeC (s: string): string {
  const SIMPLE: Record<string, string> = { n: '\n', t: '\t', r: '\r', f: '\f', v: '\v', b: '\b', a: '\x07', '\\': '\\', '\'': '\'', '"': '"', '?': '?', ' ': ' ' }
  return s.replace(/\\([0-7]{1,3}|.)/g, (_m, e: string) => /^[0-7]/.test(e) ? String.fromCharCode(parseInt(e, 8)) : SIMPLE[e] ?? e)
}

/** Replaces `.wh.` marker files under `dir` by overlayfs whiteouts and opaque markers. */
async function convertWhiteouts (dir: string, signal?: AbortSignal): Promise<void> {
  const whiteouts: Buffer[] = []
  const opaque: Buffer[] = []
  const walk = async (d: Buffer): Promise<void> => {
    for (const e of await fs.readdir(d, { withFileTypes: true, encoding: 'buffer' })) {
      const name = e.name
      const p = Buffer.concat([d, SLASH, name])
      if (name.subarray(0, WHITEOUT.length).toString('latin1') === WHITEOUT) {
        if (name.toString('latin1') === OPAQUE) opaque.push(d); else whiteouts.push(Buffer.concat([d, SLASH, name.subarray(WHITEOUT.length)]))
        await fs.unlink(p)
      } else if (e.isDirectory()) await walk(p)
    }
  }
  await walk(Buffer.from(dir))
  const opts = signal !== undefined ? { signal } : {}
  for (const w of whiteouts) await runChecked('mknod', [argOf(w), 'c', '0', '0'], 'cannot make a whiteout', opts)
  for (let i = 0; i < opaque.length; i += 200) {
    await runChecked('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', ...opaque.slice(i, i + 200).map(argOf)], 'cannot mark an opaque directory', opts)
  }
}

const SLASH = Buffer.from('/')
