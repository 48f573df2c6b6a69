/**
 * Finds out what an input is from its bytes and lists the layers of the image it holds:
 *
 *   docker-archive  tar with manifest.json ([{Config, Layers}]), as `docker save` writes
 *   oci-archive     tar with oci-layout and index.json and blobs/<alg>/<hex>
 *   oci-layout      the same as a directory
 *   layer-tar       any other tar, maybe gzip or zstd compressed: one layer
 *   directory       a plain directory tree (read by @cfs/build, not here)
 *
 * Archives need random access (manifest.json may come last), so a compressed archive or one read from a stream
 * is first spooled to a temp file. A plain layer on a stream is read as it arrives.
 */
import { createReadStream } from 'node:fs'
import * as fs from 'node:fs/promises'
import * as crypto from 'node:crypto'
import * as path from 'node:path'
import { CfsError, fromSystemError } from '@cfs/errors'
import { decodeHeader, BLOCK_SIZE } from '@cfs/tar'
import { DirBlobStore, TarBlobStore, type BlobStore } from './blob-store.js'
import { decompress, detectCompression, type DecompressLimits } from './decompress.js'
import { formatPlatform, hostPlatform, platformMatches, type Platform } from './platform.js'
import { indexTarFile, memberKey } from './tar-index.js'

export type ImageFormat = 'docker-archive' | 'oci-archive' | 'oci-layout' | 'layer-tar' | 'directory'

export interface Layer {
  /** 0 is the bottom layer */
  index: number
  /** names the layer in messages: its digest, or its path in the archive */
  name: string
  /** digest of the blob as stored (maybe compressed); checked while it is read */
  digest?: string
  /** digest of the uncompressed tar (the config's rootfs.diff_ids); checked while it is read */
  diffId?: string
  /** stored size, when the image says */
  size?: number
  /** the stored bytes (compressed or not); a layer read from a stream can be opened once */
  open: () => AsyncIterable<Uint8Array>
}

export interface Image {
  format: ImageFormat
  /** the platform chosen from the image, when it says */
  platform?: string
  layers: Layer[]
  /** removes any spool file */
  close: () => Promise<void>
}

export interface OpenImageOptions {
  /** a platform asked for explicitly; otherwise the host's is preferred when the image has several */
  platform?: Platform
  /** where to spool streams and compressed archives (the store's tmp/) */
  tmpDir?: string
  /** bounds on decompressing a compressed archive or stream before it is spooled (see decompress) */
  limits?: DecompressLimits
}

const MEDIA_INDEX = new Set(['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json'])
const MAX_INDEX_DEPTH = 4
/** ustar: magic at byte 257 */
const MAGIC_OFFSET = 257
/** Names that only archives start with: a stream beginning with one is spooled rather than read as a layer. */
const ARCHIVE_START = /^(manifest\.json|index\.json|oci-layout|repositories|blobs|blobs\/.*|[0-9a-f]{64}(\.json|\.tar|\/.*)?)$/
/** Names an archive may hold: anything at the top, `<id>/{layer.tar,json,VERSION}`, and blobs/**. A scan stops at
 *  the first other name, so a layer tar is not read through to tell it from an archive. */
const ARCHIVE_MEMBER = /^([^/]+|[^/]+\/(layer\.tar|json|VERSION)|blobs\/.*)$/

/** Could a path be a member of a docker-archive or oci-archive? */
export function isArchiveMember (key: string): boolean { return key === '' || ARCHIVE_MEMBER.test(key) }

/** What a path on disk holds, decided from its bytes. Throws ERR_CFS_FILE_NOT_FOUND, ERR_CFS_IMAGE_UNKNOWN_FORMAT. */
export async function detectFormat (input: string): Promise<ImageFormat> {
  let st
  try { st = await fs.stat(input) } catch (err) { throw fromSystemError(err, 'cannot read', input) }
  if (st.isDirectory()) {
    try { await fs.access(path.join(input, 'oci-layout')); return 'oci-layout' } catch { return 'directory' }
  }
  const head = await readHead(input, 4)
  if (detectCompression(head) !== 'none') return 'layer-tar'
  const { index, complete } = await indexOrExplain(input)
  return complete ? archiveFormat(index) ?? 'layer-tar' : 'layer-tar'
}

async function readHead (file: string, n: number): Promise<Buffer> {
  const fh = await fs.open(file, 'r').catch((err: unknown) => { throw fromSystemError(err, 'cannot open', file) })
  try {
    const buf = Buffer.alloc(n)
    const { bytesRead } = await fh.read(buf, 0, n, 0)
    return buf.subarray(0, bytesRead)
  } finally { await fh.close() }
}

async function indexOrExplain (file: string): ReturnType<typeof indexTarFile> {
  try {
    return await indexTarFile(file, isArchiveMember)
  } catch (err) {
    if (err instanceof CfsError && err.code.startsWith('ERR_CFS_TAR_') && (await fs.stat(file)).size > 0) {
      const head = await readHead(file, BLOCK_SIZE)
      if (!looksLikeTar(head)) throw unknownFormat(file, err)
    }
    throw err
  }
}

function looksLikeTar (block: Uint8Array): boolean {
  if (block.length < BLOCK_SIZE) return false
  // a ustar magic makes it a tar even when the header is broken: the reader then says what is wrong with it
  const magic = Buffer.from(block.buffer, block.byteOffset + MAGIC_OFFSET, 6).toString('latin1')
  if (magic === 'ustar\0' || magic === 'ustar ') return true
  try { return decodeHeader(block) !== null } catch { return false }
}

function unknownFormat (what: string, cause?: unknown): CfsError {
  return new CfsError('ERR_CFS_IMAGE_UNKNOWN_FORMAT', `${what} is not an image: expected a docker-archive, oci-archive, OCI layout, layer tar (plain, gzip or zstd) or a directory`, { cause })
}

function archiveFormat (index: Map<string, unknown>): ImageFormat | undefined {
  if (index.has('oci-layout') && index.has('index.json')) return 'oci-archive'
  if (index.has('manifest.json')) return 'docker-archive'
  return undefined
}

/**
 * Opens an image from a path (file or OCI layout directory) or a byte stream (stdin). The caller must call
 * `close()`. Throws ERR_CFS_IMAGE_UNKNOWN_FORMAT, ERR_CFS_IMAGE_BAD, ERR_CFS_PLATFORM_NOT_FOUND,
 * ERR_CFS_BLOB_NOT_FOUND and ERR_CFS_BLOB_DIGEST_MISMATCH (for manifests and configs; layers are checked by
 * readLayer).
 */
export async function openImage (input: string | AsyncIterable<Uint8Array>, opts: OpenImageOptions = {}): Promise<Image> {
  if (typeof input !== 'string') return await openStream(input, opts)
  const format = await detectFormat(input)
  if (format === 'directory') throw new Error('openImage: a plain directory is read by @cfs/build')
  if (format === 'oci-layout') return await resolveOci(new DirBlobStore(input, input), 'oci-layout', opts, async () => {})
  const compressed = detectCompression(await readHead(input, 4)) !== 'none'
  if (compressed) {
    const peek = new Peekable(decompress(createReadStream(input, { highWaterMark: 1 << 20 }), input, opts.limits))
    const first = await firstMemberKey(peek, input)
    if (first !== undefined && ARCHIVE_START.test(first)) {
      return await openSpooled(peek, input, opts)
    }
    await peek.close()
    return singleLayer(input, () => createReadStream(input, { highWaterMark: 1 << 20 }))
  }
  return await openTarFile(input, input, opts, async () => {})
}

async function openTarFile (file: string, where: string, opts: OpenImageOptions, cleanup: () => Promise<void>): Promise<Image> {
  try {
    const { index, complete } = await indexOrExplain(file)
    const format = complete ? archiveFormat(index) : undefined
    if (format === undefined) {
      return singleLayer(where, () => createReadStream(file, { highWaterMark: 1 << 20 }), cleanup)
    }
    const { size } = await fs.stat(file)
    const store = new TarBlobStore(file, index, size, where)
    return format === 'docker-archive' ? await resolveDocker(store, opts, cleanup) : await resolveOci(store, 'oci-archive', opts, cleanup)
  } catch (err) { await cleanup(); throw err }
}

function singleLayer (name: string, open: () => AsyncIterable<Uint8Array>, close: () => Promise<void> = async () => {}): Image {
  return { format: 'layer-tar', layers: [{ index: 0, name, open }], close }
}

async function openStream (input: AsyncIterable<Uint8Array>, opts: OpenImageOptions): Promise<Image> {
  const peek = new Peekable(decompress(input, 'standard input', opts.limits))
  const first = await firstMemberKey(peek, 'standard input')
  if (first !== undefined && ARCHIVE_START.test(first)) return await openSpooled(peek, 'standard input', opts)
  let opened = false
  return singleLayer('standard input', () => {
    if (opened) throw new Error('a layer read from a stream can be opened once')
    opened = true
    return peek
  }, async () => { await peek.close() })
}

async function firstMemberKey (peek: Peekable, what: string): Promise<string | undefined> {
  const block = await peek.peek(BLOCK_SIZE)
  if (block.length === 0) return undefined
  if (block.length < BLOCK_SIZE || !looksLikeTar(block)) { await peek.close(); throw unknownFormat(what) }
  let h
  try { h = decodeHeader(block) } catch (err) { await peek.close(); throw err }
  // a PAX or GNU long-name header first: the real name is further on, but archives never need those
  return h === null || h.typeflag === 'x' || h.typeflag === 'g' || h.typeflag === 'L' ? undefined : memberKey(h.name)
}

async function openSpooled (peek: Peekable, where: string, opts: OpenImageOptions): Promise<Image> {
  if (opts.tmpDir === undefined) throw new Error('openImage: tmpDir is needed to spool an archive')
  const file = path.join(opts.tmpDir, `spool.${process.pid}.${crypto.randomBytes(6).toString('hex')}.tar`)
  const cleanup = async (): Promise<void> => { await fs.rm(file, { force: true }) }
  try {
    const fh = await fs.open(file, 'wx', 0o600)
    // writeFile, unlike write, loops over short writes (a filling disk)
    try { for await (const chunk of peek) await fh.writeFile(chunk) } finally { await fh.close() }
  } catch (err) { await cleanup(); throw fromSystemError(err, 'cannot spool the archive to', file) }
  return await openTarFile(file, where, opts, cleanup)
}

/** An async byte stream whose first bytes can be looked at before it is consumed. */
class Peekable implements AsyncIterable<Uint8Array> {
  private readonly it: AsyncIterator<Uint8Array>
  private readonly buffered: Uint8Array[] = []
  private bufferedLen = 0
  private ended = false
  constructor (source: AsyncIterable<Uint8Array>) { this.it = source[Symbol.asyncIterator]() }

  async peek (n: number): Promise<Buffer> {
    while (this.bufferedLen < n && !this.ended) {
      const r = await this.it.next()
      if (r.done === true) { this.ended = true; break }
      this.buffered.push(r.value)
      this.bufferedLen += r.value.length
    }
    const all = Buffer.concat(this.buffered)
    this.buffered.length = 0
    if (all.length > 0) this.buffered.push(all)
    return all.subarray(0, n)
  }

  async close (): Promise<void> { this.ended = true; await this.it.return?.() }

  async * [Symbol.asyncIterator] (): AsyncGenerator<Uint8Array> {
    while (this.buffered.length > 0) yield this.buffered.shift()!
    if (this.ended) return
    for (;;) {
      const r = await this.it.next()
      if (r.done === true) return
      yield r.value
    }
  }
}

// ---- docker-archive -------------------------------------------------------------------------------------------

interface DockerEntry { Config?: unknown, Layers?: unknown }
interface ImageConfig { os?: string, architecture?: string, variant?: string, rootfs?: { diff_ids?: unknown } }

function bad (where: string, what: string): CfsError {
  return new CfsError('ERR_CFS_IMAGE_BAD', `${where}: ${what}`)
}

function parseJson<T> (bytes: Buffer, where: string, name: string): T {
  try { return JSON.parse(bytes.toString('utf8')) as T } catch (err) {
    throw new CfsError('ERR_CFS_IMAGE_BAD', `${where}: ${name} is not valid JSON`, { cause: err })
  }
}

const HEX_NAME = /(?:^|\/)(?:sha256\/)?([0-9a-f]{64})(?:\.json)?$/

async function resolveDocker (store: BlobStore, opts: OpenImageOptions, close: () => Promise<void>): Promise<Image> {
  const where = store.where
  const entries = parseJson<unknown>(await store.read('manifest.json'), where, 'manifest.json')
  if (!Array.isArray(entries) || entries.length === 0) throw bad(where, 'manifest.json holds no image')
  const loaded: Array<{ entry: DockerEntry, config: ImageConfig, layers: string[] }> = []
  for (const entry of entries as DockerEntry[]) {
    if (typeof entry?.Config !== 'string' || !Array.isArray(entry.Layers) || !entry.Layers.every(l => typeof l === 'string')) {
      throw bad(where, 'manifest.json entry without Config and Layers')
    }
    const bytes = await store.read(entry.Config)
    // the config file is named by its sha256 (`<hex>.json` or `blobs/sha256/<hex>`)
    const m = HEX_NAME.exec(entry.Config)
    if (m !== null) checkDigest(bytes, `sha256:${m[1]!}`, entry.Config, where)
    loaded.push({ entry, config: parseJson<ImageConfig>(bytes, where, entry.Config), layers: entry.Layers as string[] })
  }
  const platformOf = (c: ImageConfig): Platform | undefined => typeof c.os === 'string' && typeof c.architecture === 'string'
    ? { os: c.os, architecture: c.architecture, ...(typeof c.variant === 'string' ? { variant: c.variant } : {}) } : undefined
  const chosen = choose(loaded, x => platformOf(x.config), opts.platform, where)
  const diffIds = chosen.config.rootfs?.diff_ids
  if (diffIds !== undefined && (!Array.isArray(diffIds) || diffIds.length !== chosen.layers.length)) {
    throw bad(where, `the config lists ${Array.isArray(diffIds) ? diffIds.length : 'no'} diff_ids for ${chosen.layers.length} layers`)
  }
  const layers: Layer[] = chosen.layers.map((name, i) => {
    const m = /(?:^|\/)blobs\/sha256\/([0-9a-f]{64})$/.exec(name)
    const diffId = (diffIds as unknown[] | undefined)?.[i]
    return {
      index: i,
      name,
      ...(m !== null ? { digest: `sha256:${m[1]!}` } : {}),
      ...(typeof diffId === 'string' ? { diffId } : {}),
      open: () => store.stream(name),
    }
  })
  const p = platformOf(chosen.config)
  return { format: 'docker-archive', ...(p !== undefined ? { platform: formatPlatform(p) } : {}), layers, close }
}

/** One of several candidates by platform: an explicit platform must match; by default a lone image is taken as
 *  is, and among several the host's wins. */
function choose<T> (items: T[], platformOf: (t: T) => Platform | undefined, wanted: Platform | undefined, where: string): T {
  if (wanted === undefined && items.length === 1) return items[0]!
  const target = wanted ?? hostPlatform()
  const hit = items.find(t => { const p = platformOf(t); return p !== undefined && platformMatches(target, p) })
  if (hit !== undefined) return hit
  const have = items.map(t => { const p = platformOf(t); return p === undefined ? 'unknown' : formatPlatform(p) })
  throw new CfsError('ERR_CFS_PLATFORM_NOT_FOUND', `${where} has no image for ${formatPlatform(target)} (it has ${have.join(', ')})`,
    { hint: 'choose one with --platform os/arch[/variant]' })
}

// ---- OCI layout -----------------------------------------------------------------------------------------------

interface Descriptor { mediaType?: string, digest?: unknown, size?: unknown, platform?: Partial<Platform>, annotations?: Record<string, string> }
interface OciIndex { manifests?: Descriptor[], mediaType?: string }
interface OciManifest { mediaType?: string, config?: Descriptor, layers?: Descriptor[], manifests?: Descriptor[] }

const DIGEST_RE = /^([a-z0-9]+(?:[+._-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/

function blobPath (digest: unknown, where: string): string {
  const m = typeof digest === 'string' ? DIGEST_RE.exec(digest) : null
  if (m === null) throw bad(where, `bad descriptor digest '${String(digest).slice(0, 80)}'`)
  return `blobs/${m[1]!}/${m[2]!}`
}

function checkDigest (bytes: Uint8Array, digest: string, name: string, where: string): void {
  const [alg, hex] = digest.split(':') as [string, string]
  if (alg !== 'sha256' && alg !== 'sha512') throw bad(where, `unsupported digest algorithm in ${digest}`)
  const actual = crypto.createHash(alg).update(bytes).digest('hex')
  if (actual !== hex) {
    throw new CfsError('ERR_CFS_BLOB_DIGEST_MISMATCH', `${name} in ${where} has digest ${alg}:${actual}, expected ${digest}`)
  }
}

async function readBlob (store: BlobStore, d: Descriptor, where: string): Promise<Buffer> {
  const name = blobPath(d.digest, where)
  const bytes = await store.read(name)
  if (typeof d.size === 'number' && d.size !== bytes.length) {
    throw new CfsError('ERR_CFS_BLOB_DIGEST_MISMATCH', `blob ${String(d.digest)} in ${where} is ${bytes.length} bytes, expected ${d.size}`)
  }
  checkDigest(bytes, d.digest as string, `blob ${String(d.digest)}`, where)
  return bytes
}

async function resolveOci (store: BlobStore, format: 'oci-archive' | 'oci-layout', opts: OpenImageOptions, close: () => Promise<void>): Promise<Image> {
  const where = store.where
  try {
    const layout = parseJson<{ imageLayoutVersion?: unknown }>(await store.read('oci-layout'), where, 'oci-layout')
    if (typeof layout.imageLayoutVersion !== 'string') throw bad(where, 'oci-layout has no imageLayoutVersion')
    const index = parseJson<OciIndex>(await store.read('index.json'), where, 'index.json')
    const candidates: Descriptor[] = []
    await collectManifests(store, index, candidates, 0, where)
    if (candidates.length === 0) throw bad(where, 'index.json lists no image manifest')
    const platformOf = (d: Descriptor): Platform | undefined =>
      typeof d.platform?.os === 'string' && typeof d.platform.architecture === 'string'
        ? { os: d.platform.os, architecture: d.platform.architecture, ...(typeof d.platform.variant === 'string' ? { variant: d.platform.variant } : {}) }
        : undefined
    const chosen = choose(candidates, platformOf, opts.platform, where)
    const manifest = parseJson<OciManifest>(await readBlob(store, chosen, where), where, `manifest ${String(chosen.digest)}`)
    if (manifest.config === undefined || !Array.isArray(manifest.layers)) throw bad(where, `manifest ${String(chosen.digest)} has no config or layers`)
    const config = parseJson<ImageConfig>(await readBlob(store, manifest.config, where), where, `config ${String(manifest.config.digest)}`)
    const diffIds = config.rootfs?.diff_ids
    if (diffIds !== undefined && (!Array.isArray(diffIds) || diffIds.length !== manifest.layers.length)) {
      throw bad(where, `config lists ${Array.isArray(diffIds) ? diffIds.length : 'no'} diff_ids for ${manifest.layers.length} layers`)
    }
    const layers: Layer[] = manifest.layers.map((d, i) => {
      const name = blobPath(d.digest, where)
      const diffId = (diffIds as unknown[] | undefined)?.[i]
      return {
        index: i,
        name: String(d.digest),
        digest: d.digest as string,
        ...(typeof diffId === 'string' ? { diffId } : {}),
        ...(typeof d.size === 'number' ? { size: d.size } : {}),
        open: () => store.stream(name),
      }
    })
    const p = platformOf(chosen) ?? (typeof config.os === 'string' && typeof config.architecture === 'string'
      ? { os: config.os, architecture: config.architecture, ...(typeof config.variant === 'string' ? { variant: config.variant } : {}) } : undefined)
    return { format, ...(p !== undefined ? { platform: formatPlatform(p) } : {}), layers, close }
  } catch (err) { await close(); throw err }
}

async function collectManifests (store: BlobStore, index: OciIndex, out: Descriptor[], depth: number, where: string): Promise<void> {
  if (depth > MAX_INDEX_DEPTH) throw bad(where, 'image indexes nest too deep')
  if (!Array.isArray(index.manifests)) throw bad(where, 'an index without manifests')
  for (const d of index.manifests) {
    // BuildKit's attestation manifests ride along in the index with platform unknown/unknown
    if (d.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest') continue
    if (d.mediaType !== undefined && MEDIA_INDEX.has(d.mediaType)) {
      await collectManifests(store, parseJson<OciIndex>(await readBlob(store, d, where), where, `index ${String(d.digest)}`), out, depth + 1, where)
    } else out.push(d)
  }
}

export { memberKey }
