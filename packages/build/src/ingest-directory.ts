/**
 * A plain directory tree on disk as an image. Names are read as bytes (readdir with encoding 'buffer'), so any
 * name survives. Hardlinks are found by (dev, ino). Node has no xattr API, so xattrs come from one run of
 * `getfattr -h -d -m - -e hex -R -P` (Debian package attr) over the whole tree: one process instead of one per
 * file, hex values so binary survives, and -h/-P so symlinks are neither followed nor dereferenced.
 */
import { execFile } from 'node:child_process'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import picomatch from 'picomatch'
import { CfsError, fromSystemError } from '@cfs/errors'
import { byteString, makeInode, S_IFMT, S_IFREG, S_IFDIR, S_IFLNK, bytesToDisplay, XattrSets, type Inode, type Xattr } from '@cfs/manifest'
import type { ObjectWriter } from '@cfs/store'
import { BuildTree } from './build-tree.js'
import { setContent, type BuildStats } from './content.js'

const WHOLE_READ_MAX = 1 << 20

export interface DirectoryOptions {
  /** globs matched against paths relative to the root ('var/cache/**'); a matched directory is skipped whole */
  exclude?: string[]
}

/** Reads the tree under `root` into `tree` (as layer 0). */
export async function ingestDirectory (root: string, tree: BuildTree, writer: ObjectWriter, stats: BuildStats,
  writes: Array<Promise<void>>, opts: DirectoryOptions = {}, onProgress?: (bytes: number, files: number) => void): Promise<void> {
  const absRoot = path.resolve(root)
  const excluded = (opts.exclude ?? []).length > 0 ? picomatch(opts.exclude!, { dot: true }) : undefined
  const xattrs = await readXattrs(absRoot)
  const byIno = new Map<string, Inode>()
  const rootBuf = Buffer.from(absRoot)
  // iterative walk: stack of [absolute path bytes, relative parts]
  const stack: Array<[Buffer, string[]]> = [[rootBuf, []]]
  while (stack.length > 0) {
    const [abs, parts] = stack.pop()!
    let st
    try { st = parts.length === 0 ? await fs.stat(abs, { bigint: true }) : await fs.lstat(abs, { bigint: true }) } catch (err) { throw fromSystemError(err, 'cannot stat', abs.toString()) }
    const mode = Number(st.mode)
    const kind = mode & S_IFMT
    if (parts.length > 0 && kind !== S_IFDIR && st.nlink > 1n) {
      const key = `${st.dev}:${st.ino}`
      const first = byIno.get(key)
      if (first !== undefined) {
        tree.set(parts, first)
        continue
      }
    }
    const inode = makeInode(mode, {
      uid: Number(st.uid),
      gid: Number(st.gid),
      mtimeSec: Number(st.mtimeNs / 1_000_000_000n),
      mtimeNsec: Number(st.mtimeNs % 1_000_000_000n),
      xattrs: xattrs.get(byteString(abs)) ?? [],
    })
    if (st.mtimeNs < 0n && inode.mtimeNsec !== 0) { inode.mtimeSec -= 1; inode.mtimeNsec += 1_000_000_000 }
    if (kind === S_IFDIR) {
      tree.set(parts, inode)
      let names: Buffer[]
      try { names = await fs.readdir(abs, { encoding: 'buffer' }) } catch (err) { throw fromSystemError(err, 'cannot read directory', abs.toString()) }
      for (const name of names) {
        const childParts = [...parts, byteString(name)]
        if (excluded !== undefined && excluded(childParts.map(bytesToDisplay).join('/'))) continue
        stack.push([Buffer.concat([abs, Buffer.from('/'), name]), childParts])
      }
      continue
    }
    if (kind === S_IFLNK) {
      const target = await fs.readlink(abs, { encoding: 'buffer' })
      inode.target = byteString(target)
      inode.size = target.length
    } else if (kind === S_IFREG) {
      const size = Number(st.size)
      await setContent(inode, size <= WHOLE_READ_MAX ? await readWhole(abs, size) : fileStream(abs), size, writer, stats, writes)
      stats.bytesIn += size
      onProgress?.(size, 1)
    } else {
      inode.rdev = Number(st.rdev)
    }
    if (st.nlink > 1n) byIno.set(`${st.dev}:${st.ino}`, inode)
    tree.set(parts, inode)
  }
}

async function readWhole (abs: Buffer, size: number): Promise<Buffer> {
  try {
    const data = await fs.readFile(abs)
    if (data.length !== size) throw new CfsError('ERR_CFS_IO', `${abs.toString()} changed size while being read`)
    return data
  } catch (err) { throw fromSystemError(err, 'cannot read', abs.toString()) }
}

async function * fileStream (abs: Buffer): AsyncGenerator<Uint8Array> {
  const fh = await fs.open(abs, 'r').catch((err: unknown) => { throw fromSystemError(err, 'cannot open', abs.toString()) })
  try {
    for (;;) {
      const buf = Buffer.allocUnsafe(1 << 20)
      const { bytesRead } = await fh.read(buf, 0, buf.length, null)
      if (bytesRead === 0) return
      yield buf.subarray(0, bytesRead)
    }
  } finally { await fh.close() }
}

/** Every xattr under `root`, keyed by absolute path as a byte string. */
export async function readXattrs (root: string): Promise<Map<string, Xattr[]>> {
  const out = await new Promise<Buffer>((resolve, reject) => {
    execFile('getfattr', ['-h', '-d', '-m', '-', '-e', 'hex', '--absolute-names', '-R', '-P', root],
      { encoding: 'buffer', maxBuffer: 1 << 30, env: { ...process.env, LC_ALL: 'C' } }, (err, stdout) => {
        // getfattr exits 1 when some file could not be read but still prints the rest
        if (err !== null && (err as NodeJS.ErrnoException).code === 'ENOENT') {
          reject(new CfsError('ERR_CFS_IO', 'getfattr is needed to read xattrs from a directory', { hint: 'install the attr package (apt-get install attr)', cause: err }))
        } else if (err !== null && stdout.length === 0 && (err as { code?: unknown }).code !== 1) {
          reject(new CfsError('ERR_CFS_IO', `getfattr failed on ${root}`, { cause: err }))
        } else resolve(stdout)
      })
  })
  return parseGetfattr(out)
}

/** Parses `getfattr -d -e hex --absolute-names` output; names are unescaped (`\ooo` octal) back to bytes. */
export function parseGetfattr (out: Buffer): Map<string, Xattr[]> {
  const map = new Map<string, Xattr[]>()
  let current: Xattr[] | undefined
  for (const line of out.toString('latin1').split('\n')) {
    if (line.startsWith('# file: ')) {
      current = []
      map.set(unescapeOctal(line.slice(8)), current)
    } else if (line !== '' && current !== undefined) {
      const eq = line.indexOf('=')
      const key = unescapeOctal(eq < 0 ? line : line.slice(0, eq))
      const hex = eq < 0 ? '' : line.slice(eq + 1)
      const value = hex.startsWith('0x') ? Buffer.from(hex.slice(2), 'hex') : hex.startsWith('0s') ? Buffer.from(hex.slice(2), 'base64') : Buffer.from(hex.replace(/^"|"$/g, ''), 'latin1')
      current.push({ key, value })
    }
  }
  // files with the same xattrs share one array (see XattrSets)
  const sets = new XattrSets()
  for (const [file, xattrs] of map) map.set(file, sets.intern(XattrSets.idOf(xattrs), () => xattrs))
  return map
}

function unescapeOctal (s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)))
}

