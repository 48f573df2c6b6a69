/**
 * Pull-based tar reader. A `ByteReader` holds the current source chunk and hands out views of it; nothing is read
 * from the source until the consumer asks, so memory stays at one source chunk (plus one header block when a
 * header straddles two chunks). GNU long names ('L', 'K') and PAX records ('x', 'g') are folded into the header of
 * the entry they describe.
 */
import { CfsError } from '@cfs/errors'
import { BLOCK_SIZE, decodeHeader, type RawHeader } from './header.js'
import { decodePax } from './pax.js'

export type TarEntryType = 'file' | 'hardlink' | 'symlink' | 'chardev' | 'blockdev' | 'dir' | 'fifo'

export interface TarXattr {
  /** byte string */
  key: string
  value: Buffer
}

/** One entry with PAX and GNU extensions applied. Strings are byte strings. */
export interface TarHeader {
  path: string
  type: TarEntryType
  /** permission bits with setuid/setgid/sticky (mode & 0o7777) */
  mode: number
  uid: number
  gid: number
  /** body length in bytes (0 for everything but regular files) */
  size: number
  mtimeSec: number
  mtimeNsec: number
  /** symlink target or hardlink source path */
  linkname: string
  uname: string
  gname: string
  devmajor: number
  devminor: number
  /** SCHILY.xattr.* (and LIBARCHIVE.xattr.*) records, in archive order */
  xattrs: TarXattr[]
  /** byte offset of this entry's (first) header in the archive */
  offset: number
}

/** An entry's content: iterate it, or take it at once when the reader already holds all of it. */
export interface TarBody extends AsyncIterable<Uint8Array> {
  /**
   * The whole (unread) content as one view when the reader already holds it, consuming it; otherwise undefined
   * and nothing is consumed. Saves the async iteration for the many small files of a layer.
   */
  takeBuffered (): Uint8Array | undefined
}

export interface TarEntry {
  header: TarHeader
  /** the content; read it before asking for the next entry, or it is skipped */
  body: TarBody
}

export interface TarLimits {
  /** largest PAX or GNU long-name record accepted (default 1 MiB) */
  maxMetaSize?: number
}

export const DEFAULT_MAX_META_SIZE = 1 << 20
const EMPTY = new Uint8Array(0)

const TYPES: Record<string, TarEntryType> = {
  0: 'file', '\0': 'file', 7: 'file', 1: 'hardlink', 2: 'symlink', 3: 'chardev', 4: 'blockdev', 5: 'dir', 6: 'fifo',
}

/** A source that can jump forward without producing the bytes (a file read with positional reads). */
export interface SeekableSource extends AsyncIterable<Uint8Array> {
  /** the next chunk the iterator yields starts `n` bytes later than it would have */
  skip (n: number): void
}

/** Sequential reader over an async byte source that can hand out exact-size blocks, views and skips. */
export class ByteReader {
  private readonly it: AsyncIterator<Uint8Array>
  private readonly seekable: SeekableSource | undefined
  private chunk: Uint8Array = EMPTY
  private pos = 0
  private done = false
  /** bytes consumed so far */
  offset = 0

  constructor (source: AsyncIterable<Uint8Array>) {
    this.it = source[Symbol.asyncIterator]()
    this.seekable = typeof (source as Partial<SeekableSource>).skip === 'function' ? source as SeekableSource : undefined
  }

  private async fill (): Promise<boolean> {
    while (this.pos >= this.chunk.length) {
      if (this.done) return false
      const r = await this.it.next()
      if (r.done === true) { this.done = true; return false }
      this.chunk = r.value
      this.pos = 0
    }
    return true
  }

  /** Exactly `n` bytes (a view when they lie in one chunk), or null at a clean end of the source. */
  async readExact (n: number): Promise<Uint8Array | null> {
    if (!await this.fill()) return null
    if (this.chunk.length - this.pos >= n) {
      const v = this.chunk.subarray(this.pos, this.pos + n)
      this.pos += n
      this.offset += n
      return v
    }
    const out = new Uint8Array(n)
    let got = 0
    while (got < n) {
      if (!await this.fill()) throw truncated(this.offset)
      const take = Math.min(n - got, this.chunk.length - this.pos)
      out.set(this.chunk.subarray(this.pos, this.pos + take), got)
      this.pos += take
      this.offset += take
      got += take
    }
    return out
  }

  /** Exactly `n` bytes as a view when the current chunk holds them (consumed), else undefined (nothing consumed). */
  takeBuffered (n: number): Uint8Array | undefined {
    if (this.chunk.length - this.pos < n) return undefined
    const v = this.chunk.subarray(this.pos, this.pos + n)
    this.pos += n
    this.offset += n
    return v
  }

  /** Skips `n` bytes if the current chunk holds them and returns true; else false, nothing skipped. */
  skipBuffered (n: number): boolean {
    if (this.chunk.length - this.pos < n) return false
    this.pos += n
    this.offset += n
    return true
  }

  /** Up to `max` bytes as a view of the current chunk; throws ERR_CFS_TAR_TRUNCATED at the end of the source. */
  async readSome (max: number): Promise<Uint8Array> {
    if (!await this.fill()) throw truncated(this.offset)
    const take = Math.min(max, this.chunk.length - this.pos)
    const v = this.chunk.subarray(this.pos, this.pos + take)
    this.pos += take
    this.offset += take
    return v
  }

  async skip (n: number): Promise<void> {
    if (this.seekable !== undefined && n > 0) {
      const here = Math.min(n, this.chunk.length - this.pos)
      this.pos += here
      this.offset += here
      if (n > here) { this.seekable.skip(n - here); this.offset += n - here }
      return
    }
    while (n > 0) n -= (await this.readSome(n)).length
  }

  /** Skips up to `n` bytes, stopping quietly at the end of the source. */
  async skipUpTo (n: number): Promise<void> {
    while (n > 0 && await this.fill()) {
      const take = Math.min(n, this.chunk.length - this.pos)
      this.pos += take
      this.offset += take
      n -= take
    }
  }

  /** Reads and discards everything left in the source; returns the byte count. */
  async drain (): Promise<number> {
    let n = 0
    while (await this.fill()) {
      n += this.chunk.length - this.pos
      this.offset += this.chunk.length - this.pos
      this.pos = this.chunk.length
    }
    return n
  }

  /** Releases the source (runs its cleanup, e.g. closes a file). */
  async close (): Promise<void> { if (!this.done) { this.done = true; await this.it.return?.() } }
}

function truncated (offset: number): CfsError {
  return new CfsError('ERR_CFS_TAR_TRUNCATED', `tar archive ends inside an entry at byte ${offset}`)
}

function padding (size: number): number { return (BLOCK_SIZE - (size % BLOCK_SIZE)) % BLOCK_SIZE }

/** Integer and nanoseconds of a PAX time ("1700000000.123456789", "-1.5"). */
export function parsePaxTime (text: string): { sec: number, nsec: number } | undefined {
  const m = /^(-?)(\d+)(?:\.(\d*))?$/.exec(text)
  if (m === null) return undefined
  const neg = m[1] === '-'
  let sec = Number(m[2])
  let nsec = Number(((m[3] ?? '') + '000000000').slice(0, 9))
  if (neg) {
    sec = -sec
    if (nsec > 0) { sec -= 1; nsec = 1_000_000_000 - nsec }
  }
  return { sec, nsec }
}

/**
 * Yields the entries of a tar archive in order. `source` may be a ByteReader, so the caller can see offsets and
 * drain what follows the archive. The next header is read only when the caller asks for it; unread
 * bytes of the previous body are skipped. Body chunks are views of the source's chunks, valid until the source
 * reuses them (Node streams never do). The archive ends at a zero block or at a clean end of the source between
 * entries; bytes after the end marker are left unread.
 *
 * A source that ends right after the last body, without padding or end blocks (as umoci writes them), is accepted.
 * Throws ERR_CFS_TAR_TRUNCATED if the source ends inside a header or body, ERR_CFS_TAR_BAD_CHECKSUM (naming the
 * byte offset), ERR_CFS_TAR_BAD_HEADER for malformed fields or unsupported entry kinds (sparse, multi-volume), and
 * ERR_CFS_TAR_LIMIT when a PAX or long-name record exceeds `limits.maxMetaSize`.
 */
export async function * readEntries (source: AsyncIterable<Uint8Array> | ByteReader, limits: TarLimits = {}): AsyncGenerator<TarEntry> {
  // one generator rather than a wrapper that closes the reader around an inner one: with yield*, every entry
  // would pass through both
  const owned = !(source instanceof ByteReader)
  const reader = source instanceof ByteReader ? source : new ByteReader(source)
  const maxMeta = limits.maxMetaSize ?? DEFAULT_MAX_META_SIZE
  let globalPax = new Map<string, Buffer>()
  let pax: Map<string, Buffer> | undefined
  let longName: string | undefined
  let longLink: string | undefined
  let metaStart = -1
  let unread = 0 // body bytes of the previous entry not yet consumed
  let unpadded = 0 // padding after that body

  const readMeta = async (raw: RawHeader, at: number): Promise<Buffer> => {
    if (raw.size > maxMeta) {
      throw new CfsError('ERR_CFS_TAR_LIMIT', `tar ${raw.typeflag === 'x' || raw.typeflag === 'g' ? 'PAX' : 'long-name'} record of ${raw.size} bytes at byte ${at} exceeds the ${maxMeta}-byte limit`)
    }
    const data = raw.size === 0 ? EMPTY : await reader.readExact(raw.size)
    if (data === null) throw truncated(reader.offset)
    await reader.skip(padding(raw.size))
    return Buffer.from(data) // a copy, so the record does not pin the source chunk
  }

  try {
    for (;;) {
      if (unread > 0) { await reader.skip(unread); unread = 0 }
      // some writers (umoci) end the archive right after the last body, without padding or end blocks
      if (unpadded > 0) { if (!reader.skipBuffered(unpadded)) await reader.skipUpTo(unpadded); unpadded = 0 }
      const at = reader.offset
      // most headers lie whole in the current chunk: no await (each costs promises, per entry of a large layer)
      const block = reader.takeBuffered(BLOCK_SIZE) ?? await reader.readExact(BLOCK_SIZE)
      if (block === null) {
        if (metaStart >= 0) throw truncated(reader.offset)
        return
      }
      const raw = decodeHeader(block, at)
      if (raw === null) {
        if (metaStart >= 0) throw new CfsError('ERR_CFS_TAR_BAD_HEADER', `tar extension header at byte ${metaStart} is followed by the end of the archive`)
        return
      }
      if (metaStart < 0) metaStart = at
      switch (raw.typeflag) {
        case 'x': pax = new Map([...(pax ?? []), ...decodePax(await readMeta(raw, at), at + BLOCK_SIZE)]); continue
        case 'g': globalPax = new Map([...globalPax, ...decodePax(await readMeta(raw, at), at + BLOCK_SIZE)]); continue
        case 'L': longName = cString(await readMeta(raw, at)); continue
        case 'K': longLink = cString(await readMeta(raw, at)); continue
        default: break
      }
      const type = TYPES[raw.typeflag]
      if (type === undefined) {
        throw new CfsError('ERR_CFS_TAR_BAD_HEADER', `unsupported tar entry type '${printable(raw.typeflag)}' at byte ${at}`)
      }
      const records = globalPax.size === 0 ? pax : new Map([...globalPax, ...(pax ?? [])])
      const header = buildHeader(raw, type, records, longName, longLink, metaStart, at)
      pax = undefined; longName = undefined; longLink = undefined; metaStart = -1

      // as Go's archive/tar (which wrote most layers): only regular files have a body, whatever the size field says
      const bodySize = type === 'file' ? header.size : 0
      if (type !== 'file') header.size = 0
      const entryBody = new EntryBody(reader, bodySize)
      yield { header, body: entryBody }
      unread = entryBody.remaining
      unpadded = padding(bodySize)
    }
  } finally {
    if (owned) await reader.close()
  }
}

/** The body of one entry: iterating reads the source in views, at most once. */
class EntryBody implements TarBody {
  constructor (private readonly reader: ByteReader, public remaining: number) {}
  takeBuffered (): Uint8Array | undefined {
    const v = this.reader.takeBuffered(this.remaining)
    if (v !== undefined) this.remaining = 0
    return v
  }

  async * [Symbol.asyncIterator] (): AsyncGenerator<Uint8Array> {
    while (this.remaining > 0) {
      const v = await this.reader.readSome(this.remaining)
      this.remaining -= v.length
      yield v
    }
  }
}

function cString (b: Buffer): string {
  const nul = b.indexOf(0)
  return b.toString('latin1', 0, nul < 0 ? b.length : nul)
}

function printable (c: string): string {
  const code = c.charCodeAt(0)
  return code >= 0x20 && code < 0x7f ? c : `\\x${code.toString(16).padStart(2, '0')}`
}

function buildHeader (raw: RawHeader, type: TarEntryType, pax: Map<string, Buffer> | undefined, longName: string | undefined,
  longLink: string | undefined, offset: number, at: number): TarHeader {
  const header: TarHeader = {
    path: longName ?? raw.name,
    type,
    mode: raw.mode & 0o7777,
    uid: raw.uid,
    gid: raw.gid,
    size: raw.size,
    mtimeSec: raw.mtime,
    mtimeNsec: 0,
    linkname: longLink ?? raw.linkname,
    uname: raw.uname,
    gname: raw.gname,
    devmajor: raw.devmajor,
    devminor: raw.devminor,
    xattrs: [],
    offset,
  }
  if (pax === undefined) return header
  const num = (key: string, v: Buffer): number => {
    const text = v.toString('latin1')
    const n = /^\d+$/.test(text) ? Number(text) : NaN
    if (!Number.isSafeInteger(n)) throw new CfsError('ERR_CFS_TAR_BAD_HEADER', `bad PAX ${key} '${text.slice(0, 40)}' for the entry at byte ${at}`)
    return n
  }
  for (const [key, v] of pax) {
    switch (key) {
      case 'path': header.path = v.toString('latin1'); break
      case 'linkpath': header.linkname = v.toString('latin1'); break
      case 'size': header.size = num(key, v); break
      case 'uid': header.uid = num(key, v); break
      case 'gid': header.gid = num(key, v); break
      case 'uname': header.uname = v.toString('latin1'); break
      case 'gname': header.gname = v.toString('latin1'); break
      case 'SCHILY.devmajor': header.devmajor = num(key, v); break
      case 'SCHILY.devminor': header.devminor = num(key, v); break
      case 'mtime': {
        const t = parsePaxTime(v.toString('latin1'))
        if (t === undefined) throw new CfsError('ERR_CFS_TAR_BAD_HEADER', `bad PAX mtime for the entry at byte ${at}`)
        header.mtimeSec = t.sec
        header.mtimeNsec = t.nsec
        break
      }
      default:
        if (key.startsWith('SCHILY.xattr.')) {
          header.xattrs.push({ key: key.slice(13), value: v })
        } else if (key.startsWith('LIBARCHIVE.xattr.')) {
          // libarchive: the name is URL-encoded, the value base64
          const name = Buffer.from(decodeURIComponentBytes(key.slice(17))).toString('latin1')
          header.xattrs.push({ key: name, value: Buffer.from(v.toString('latin1'), 'base64') })
        } else if (key.startsWith('GNU.sparse.')) {
          throw new CfsError('ERR_CFS_TAR_BAD_HEADER', `sparse tar entries are not supported (entry at byte ${at})`)
        }
    }
  }
  return header
}

function decodeURIComponentBytes (s: string): Buffer {
  const out: number[] = []
  const utf8 = Buffer.from(s, 'latin1')
  for (let i = 0; i < utf8.length; i++) {
    const c = utf8[i]!
    if (c === 0x25 && i + 2 < utf8.length + 0 && /^[0-9a-fA-F]{2}$/.test(utf8.toString('latin1', i + 1, i + 3))) {
      out.push(Number.parseInt(utf8.toString('latin1', i + 1, i + 3), 16))
      i += 2
    } else out.push(c)
  }
  return Buffer.from(out)
}
