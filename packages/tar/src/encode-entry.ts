/**
 * A small tar writer: enough to make exact test fixtures and to re-emit layers. Each entry becomes ustar header
 * blocks; anything ustar cannot hold (long or non-ASCII-safe names, big ids, nanosecond mtimes, xattrs) goes into a
 * PAX record, or into GNU 'L'/'K' records when `longNames: 'gnu'` is asked for.
 */
import { BLOCK_SIZE, CHECKSUM_OFFSET, DEVMAJOR_OFFSET, DEVMINOR_OFFSET, GID_OFFSET, GNAME_OFFSET, LINKNAME_OFFSET,
  MAGIC_OFFSET, MODE_OFFSET, MTIME_OFFSET, SIZE_OFFSET, TYPEFLAG_OFFSET, UID_OFFSET, UNAME_OFFSET, VERSION_OFFSET,
  headerChecksum } from './header.js'
import { encodePax } from './pax.js'
import type { TarEntryType } from './read-entries.js'

export interface TarEntryInput {
  /** byte string */
  path: string
  type: TarEntryType
  mode?: number
  uid?: number
  gid?: number
  mtimeSec?: number
  mtimeNsec?: number
  linkname?: string
  uname?: string
  gname?: string
  devmajor?: number
  devminor?: number
  xattrs?: Array<{ key: string, value: Uint8Array }>
  content?: Uint8Array
  /** how to store a path or linkname longer than 100 bytes: PAX (default) or GNU 'L'/'K' records */
  longNames?: 'pax' | 'gnu'
  /** extra PAX records, written as given */
  pax?: Array<[string, Uint8Array | string]>
}

const TYPEFLAG: Record<TarEntryType, string> = {
  file: '0', hardlink: '1', symlink: '2', chardev: '3', blockdev: '4', dir: '5', fifo: '6',
}

function writeString (block: Buffer, off: number, len: number, s: string): void {
  block.write(s.slice(0, len), off, len, 'latin1')
}

function writeOctal (block: Buffer, off: number, len: number, n: number): void {
  block.write(n.toString(8).padStart(len - 1, '0') + '\0', off, len, 'latin1')
}

function fitsOctal (n: number, len: number): boolean { return n >= 0 && n < 8 ** (len - 1) }

function pad (n: number): Buffer { return Buffer.alloc((BLOCK_SIZE - (n % BLOCK_SIZE)) % BLOCK_SIZE) }

function rawHeader (name: string, typeflag: string, size: number, f: TarEntryInput): Buffer {
  const block = Buffer.alloc(BLOCK_SIZE)
  writeString(block, 0, 100, name)
  writeOctal(block, MODE_OFFSET, 8, (f.mode ?? 0o644) & 0o7777)
  writeOctal(block, UID_OFFSET, 8, fitsOctal(f.uid ?? 0, 8) ? f.uid ?? 0 : 0)
  writeOctal(block, GID_OFFSET, 8, fitsOctal(f.gid ?? 0, 8) ? f.gid ?? 0 : 0)
  writeOctal(block, SIZE_OFFSET, 12, size)
  const mt = f.mtimeSec ?? 0
  writeOctal(block, MTIME_OFFSET, 12, fitsOctal(mt, 12) ? mt : 0)
  block.write(typeflag, TYPEFLAG_OFFSET, 1, 'latin1')
  writeString(block, LINKNAME_OFFSET, 100, f.linkname ?? '')
  block.write('ustar\0', MAGIC_OFFSET, 6, 'latin1')
  block.write('00', VERSION_OFFSET, 2, 'latin1')
  writeString(block, UNAME_OFFSET, 32, f.uname ?? '')
  writeString(block, GNAME_OFFSET, 32, f.gname ?? '')
  writeOctal(block, DEVMAJOR_OFFSET, 8, f.devmajor ?? 0)
  writeOctal(block, DEVMINOR_OFFSET, 8, f.devminor ?? 0)
  block.write(headerChecksum(block).toString(8).padStart(6, '0') + '\0 ', CHECKSUM_OFFSET, 8, 'latin1')
  return block
}

/** The header block(s), content and padding of one entry. */
export function encodeEntry (f: TarEntryInput): Buffer {
  const parts: Buffer[] = []
  const content = f.content ?? new Uint8Array(0)
  const records: Array<[string, Uint8Array | string]> = [...(f.pax ?? [])]
  let name = f.path
  let linkname = f.linkname ?? ''
  const gnu = f.longNames === 'gnu'
  const meta = (typeflag: string, data: Buffer): void => {
    parts.push(rawHeader('././@LongLink', typeflag, data.length, { path: '', type: 'file' }), data, pad(data.length))
  }
  if (name.length > 100) {
    if (gnu) meta('L', Buffer.from(name + '\0', 'latin1')); else records.push(['path', name])
    name = name.slice(0, 100)
  }
  if (linkname.length > 100) {
    if (gnu) meta('K', Buffer.from(linkname + '\0', 'latin1')); else records.push(['linkpath', linkname])
    linkname = linkname.slice(0, 100)
  }
  if (!fitsOctal(f.uid ?? 0, 8)) records.push(['uid', String(f.uid)])
  if (!fitsOctal(f.gid ?? 0, 8)) records.push(['gid', String(f.gid)])
  const mt = f.mtimeSec ?? 0
  if ((f.mtimeNsec ?? 0) !== 0 || !fitsOctal(mt, 12)) {
    const ns = f.mtimeNsec ?? 0
    const t = mt < 0 && ns > 0 ? `-${-mt - 1}.${String(1e9 - ns).padStart(9, '0')}` : `${mt}.${String(ns).padStart(9, '0')}`
    records.push(['mtime', t])
  }
  for (const x of f.xattrs ?? []) records.push([`SCHILY.xattr.${x.key}`, x.value])
  if (records.length > 0) {
    const data = encodePax(records)
    parts.push(rawHeader(`PaxHeaders/${name.slice(0, 80)}`, 'x', data.length, { path: '', type: 'file' }), data, pad(data.length))
  }
  parts.push(rawHeader(name, TYPEFLAG[f.type], f.type === 'file' ? content.length : 0, { ...f, linkname }))
  if (f.type === 'file') parts.push(Buffer.from(content), pad(content.length))
  return Buffer.concat(parts)
}

/** A whole archive: the entries, then the two zero blocks that end it. */
export function encodeTar (entries: Iterable<TarEntryInput>): Buffer {
  const parts: Buffer[] = []
  for (const e of entries) parts.push(encodeEntry(e))
  parts.push(Buffer.alloc(2 * BLOCK_SIZE))
  return Buffer.concat(parts)
}
