/**
 * Where the files of an image live: members of a tar file (docker-archive, oci-archive) or files under a directory
 * (OCI image layout). Both answer "read this small JSON file" and "stream this blob".
 */
import { createReadStream } from 'node:fs'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { CfsError, fromSystemError } from '@cfs/errors'
import { memberKey, type TarIndex } from './tar-index.js'

const STREAM_CHUNK = 1 << 20
const MAX_JSON = 16 << 20

export interface BlobStore {
  /** names the image in messages */
  readonly where: string
  has (name: string): boolean | Promise<boolean>
  size (name: string): Promise<number>
  /** whole file; for JSON documents (capped at 16 MiB) */
  read (name: string): Promise<Buffer>
  stream (name: string): AsyncIterable<Uint8Array>
}

function notFound (name: string, where: string): CfsError {
  return new CfsError('ERR_CFS_BLOB_NOT_FOUND', `${name} is missing from ${where}`)
}

export class TarBlobStore implements BlobStore {
  constructor (readonly file: string, private readonly index: TarIndex, private readonly fileSize: number, readonly where: string) {}

  private member (name: string, hops = 0): { offset: number, size: number } {
    const m = this.index.get(memberKey(name))
    if (m === undefined || m.header.type !== 'file') {
      // docker save and skopeo link a layer shared by several ids: `<id>/layer.tar -> ../<hex>.tar` (a symlink,
      // relative to the member) or a hardlink (relative to the archive root)
      if (m !== undefined && hops < 8 && m.header.type === 'hardlink') return this.member(m.header.linkname, hops + 1)
      if (m !== undefined && hops < 8 && m.header.type === 'symlink') {
        return this.member(path.posix.join(path.posix.dirname(memberKey(name)), m.header.linkname), hops + 1)
      }
      throw notFound(name, this.where)
    }
    if (m.offset + m.size > this.fileSize) {
      throw new CfsError('ERR_CFS_TAR_TRUNCATED', `${this.where} ends inside ${name} (byte ${this.fileSize} of ${m.offset + m.size})`)
    }
    return m
  }

  has (name: string): boolean { return this.index.has(memberKey(name)) }
  async size (name: string): Promise<number> { return this.member(name).size }

  async read (name: string): Promise<Buffer> {
    const m = this.member(name)
    if (m.size > MAX_JSON) throw new CfsError('ERR_CFS_IMAGE_BAD', `${name} in ${this.where} is too large (${m.size} bytes)`)
    const fh = await fs.open(this.file, 'r')
    try {
      const buf = Buffer.alloc(m.size)
      await fh.read(buf, 0, m.size, m.offset)
      return buf
    } finally { await fh.close() }
  }

  stream (name: string): AsyncIterable<Uint8Array> {
    const m = this.member(name)
    if (m.size === 0) return (async function * () {})()
    return createReadStream(this.file, { start: m.offset, end: m.offset + m.size - 1, highWaterMark: STREAM_CHUNK })
  }
}

export class DirBlobStore implements BlobStore {
  constructor (readonly dir: string, readonly where: string) {}

  private resolve (name: string): string {
    const rel = memberKey(name)
    if (rel.split('/').includes('..')) throw new CfsError('ERR_CFS_IMAGE_BAD', `blob path ${name} in ${this.where} leaves the image`)
    return path.join(this.dir, rel)
  }

  async has (name: string): Promise<boolean> {
    try { await fs.access(this.resolve(name)); return true } catch { return false }
  }

  async size (name: string): Promise<number> {
    try { return (await fs.stat(this.resolve(name))).size } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw notFound(name, this.where)
      throw fromSystemError(err, 'cannot stat', this.resolve(name))
    }
  }

  async read (name: string): Promise<Buffer> {
    if (await this.size(name) > MAX_JSON) throw new CfsError('ERR_CFS_IMAGE_BAD', `${name} in ${this.where} is too large`)
    try { return await fs.readFile(this.resolve(name)) } catch (err) { throw fromSystemError(err, 'cannot read', this.resolve(name)) }
  }

  stream (name: string): AsyncIterable<Uint8Array> {
    const file = this.resolve(name)
    const where = this.where
    return (async function * () {
      const s = createReadStream(file, { highWaterMark: STREAM_CHUNK })
      try {
        for await (const c of s) yield c as Buffer
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw notFound(name, where)
        throw fromSystemError(err, 'cannot read', file)
      }
    })()
  }
}
