/**
 * Random access into an uncompressed tar file: one pass over the headers with positional reads (bodies are
 * seeked over, never read), giving each member's body offset and size. docker-archive and oci-archive files need
 * this, since manifest.json or index.json may come after the blobs they name.
 */
import * as fs from 'node:fs/promises'
import { fromSystemError } from '@cfs/errors'
import { ByteReader, readEntries, type SeekableSource, type TarHeader } from '@cfs/tar'

export interface TarMember {
  header: TarHeader
  /** offset of the body in the file */
  offset: number
  size: number
}

/** Members by path (leading './' and '/' removed, no trailing '/'). */
export type TarIndex = Map<string, TarMember>

const READ_SIZE = 16 * 1024

export function memberKey (path: string): string {
  let p = path
  while (p.startsWith('./')) p = p.slice(2)
  while (p.startsWith('/')) p = p.slice(1)
  while (p.endsWith('/')) p = p.slice(0, -1)
  return p
}

/**
 * Indexes the tar file at `file`, reading only headers (and PAX / long-name records). `keep(key)` may stop the
 * scan early by returning false: the index so far is returned with `complete: false`. Throws the @cfs/tar errors
 * for a malformed archive.
 */
export async function indexTarFile (file: string, keep: (key: string) => boolean = () => true): Promise<{ index: TarIndex, complete: boolean }> {
  let fh: fs.FileHandle
  try { fh = await fs.open(file, 'r') } catch (err) { throw fromSystemError(err, 'cannot open', file) }
  const index: TarIndex = new Map()
  try {
    const reader = new ByteReader(new FileSource(fh))
    for await (const { header } of readEntries(reader)) {
      const key = memberKey(header.path)
      if (!keep(key)) return { index, complete: false }
      index.set(key, { header, offset: reader.offset, size: header.size })
    }
  } finally { await fh.close() }
  return { index, complete: true }
}

class FileSource implements SeekableSource {
  private position = 0
  constructor (private readonly fh: fs.FileHandle) {}
  skip (n: number): void { this.position += n }
  async * [Symbol.asyncIterator] (): AsyncGenerator<Uint8Array> {
    for (;;) {
      const buf = Buffer.allocUnsafe(READ_SIZE)
      const { bytesRead } = await this.fh.read(buf, 0, READ_SIZE, this.position)
      if (bytesRead === 0) return
      this.position += bytesRead
      yield buf.subarray(0, bytesRead)
    }
  }
}
