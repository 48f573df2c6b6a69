/**
 * Turns a `cfs diff` argument into a manifest. Each kind of side is a `SideLoader` picked by what the argument is
 * (a directory, or a file's first bytes): a manifest is decoded, an image (tarball, OCI layout, directory) is built
 * with @cfs/build into the store the caller provides.
 */
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { Readable } from 'node:stream'
import { buildImage } from '@cfs/build'
import { CfsError, fromSystemError } from '@cfs/errors'
import { decodeManifest, MANIFEST_MAGIC, type Manifest } from '@cfs/manifest'
import { Store } from '@cfs/store'
import type { Io } from './io.js'

/** What a loader that builds an image needs. */
export interface SideOptions {
  /** the store to build into; called at most once per side and only by loaders that build */
  store?: () => Promise<Store>
}

/** What a loader decides on: the argument's kind and (for a file) its first 512 bytes. */
export interface SideProbe {
  isDirectory: boolean
  head: Uint8Array
  /** the whole content, for a side that can be read only once (a pipe, `<(…)`); a regular file is read by path */
  bytes?: Uint8Array
}

export interface SideLoader {
  /** what the side is, for messages: 'manifest', 'image' */
  kind: string
  /** whether this loader reads the argument */
  accepts: (probe: SideProbe) => boolean
  load: (file: string, probe: SideProbe, opts: SideOptions) => Promise<Manifest>
}

const TAR_MAGIC_OFFSET = 257 // ustar: "ustar" at offset 257 of the first header block
const COMPRESSED = [Buffer.from([0x1f, 0x8b]), Buffer.from([0x28, 0xb5, 0x2f, 0xfd])] // gzip, zstd
const HEAD_SIZE = 512

const manifestLoader: SideLoader = {
  kind: 'manifest',
  accepts: p => !p.isDirectory && Buffer.from(p.head.subarray(0, 4)).equals(MANIFEST_MAGIC),
  load: async (file, probe) => {
    try {
      return decodeManifest(probe.bytes ?? await fs.readFile(file))
    } catch (err) {
      if (err instanceof CfsError) throw err
      throw fromSystemError(err, 'reading', file)
    }
  },
}

/** A ustar/GNU tar or a gzip/zstd stream; @cfs/oci then decides which kind of image it is. */
function looksLikeImageFile (head: Uint8Array): boolean {
  const h = Buffer.from(head)
  return COMPRESSED.some(m => h.subarray(0, m.length).equals(m)) ||
    h.subarray(TAR_MAGIC_OFFSET, TAR_MAGIC_OFFSET + 5).toString('latin1') === 'ustar'
}

const imageLoader: SideLoader = {
  kind: 'image',
  accepts: p => p.isDirectory || looksLikeImageFile(p.head),
  load: async (file, probe, opts) => {
    if (opts.store === undefined) throw new Error('an image side needs a store')
    const input = probe.bytes === undefined ? file : Readable.from([probe.bytes])
    return (await buildImage(input, { store: await opts.store() })).manifest
  },
}

/** Loaders tried in order; the first that accepts the argument reads it. */
export const sideLoaders: SideLoader[] = [manifestLoader, imageLoader]

async function probe (file: string, arg: string): Promise<SideProbe> {
  let fh
  try {
    fh = await fs.open(file, 'r')
    const st = await fh.stat()
    if (st.isDirectory()) return { isDirectory: true, head: new Uint8Array(0) }
    if (!st.isFile()) {
      const bytes = await fh.readFile()
      return { isDirectory: false, head: bytes.subarray(0, HEAD_SIZE), bytes }
    }
    const buf = Buffer.alloc(HEAD_SIZE)
    const { bytesRead } = await fh.read(buf, 0, HEAD_SIZE, 0)
    return { isDirectory: false, head: buf.subarray(0, bytesRead) }
  } catch (err) {
    throw fromSystemError(err, 'reading', arg)
  } finally { await fh?.close() }
}

/**
 * The manifest of one side: the first loader that accepts the argument reads it. Throws ERR_CFS_FILE_NOT_FOUND
 * for a missing path, ERR_CFS_MANIFEST_CORRUPT for something that is neither a manifest nor an image, and what
 * decoding or `buildImage` throws.
 */
export async function loadSide (arg: string, io: Io, opts: SideOptions = {}, loaders: readonly SideLoader[] = sideLoaders): Promise<Manifest> {
  const file = path.resolve(io.cwd, arg)
  const p = await probe(file, arg)
  const loader = loaders.find(l => l.accepts(p))
  if (loader !== undefined) return await loader.load(file, p, opts)
  throw new CfsError('ERR_CFS_MANIFEST_CORRUPT', `${arg} is neither a cfs manifest (bad magic) nor an image`, {
    hint: 'pass files written by cfs build, image tarballs, OCI layouts or directories',
  })
}

/** The store image sides are built into: `--store`/default, or with `noStore` a temporary one that `close` removes. */
export interface SideStore {
  open: () => Promise<Store>
  /** removes the temporary store, if one was made */
  close: () => Promise<void>
}

export function sideStore (opts: { storeDir: string, noStore: boolean, env: NodeJS.ProcessEnv }): SideStore {
  let opened: Promise<Store> | undefined
  let tmp: string | undefined
  const make = async (): Promise<Store> => {
    if (!opts.noStore) return await Store.open(opts.storeDir, { create: true })
    const base = opts.env.TMPDIR !== undefined && opts.env.TMPDIR !== '' ? opts.env.TMPDIR : os.tmpdir()
    try { tmp = await fs.mkdtemp(path.join(base, 'cfs-diff-')) } catch (err) { throw fromSystemError(err, 'creating a temporary store in', base) }
    return await Store.open(tmp, { create: true })
  }
  return {
    open: async () => await (opened ??= make()),
    close: async () => {
      await opened?.catch(() => undefined)
      if (tmp !== undefined) await fs.rm(tmp, { recursive: true, force: true })
    },
  }
}
