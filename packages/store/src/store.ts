import * as crypto from 'node:crypto'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { CfsError, fromSystemError } from '@cfs/errors'
import { FsVerityHasher, sha256, digestHex, type Digest } from '@cfs/digest'
import { crashPoint } from './crash-point.js'
import { acquireBuildLease, acquireGcLock, type Held } from './lease.js'
import { IMAGES_DIR, IMAGE_SUFFIX, LEASES_DIR, OBJECTS_DIR, TMP_DIR, objectRelPath } from './layout.js'

export interface WrittenObject {
  /** 32-byte fs-verity digest of the content */
  digest: Buffer
  size: number
  /** false when an object with this digest was already in the store */
  created: boolean
}

function hexOf (digest: Uint8Array | string): string {
  if (typeof digest === 'string') return digest.startsWith('sha256:') ? digest.slice(7) : digest
  return Buffer.from(digest.buffer, digest.byteOffset, digest.byteLength).toString('hex')
}

/** A content-addressed object store rooted at a directory (layout in layout.ts). */
export class Store {
  readonly objectsDir: string
  readonly imagesDir: string
  readonly tmpDir: string
  readonly leasesDir: string

  private constructor (readonly root: string) {
    this.objectsDir = path.join(root, OBJECTS_DIR)
    this.imagesDir = path.join(root, IMAGES_DIR)
    this.tmpDir = path.join(root, TMP_DIR)
    this.leasesDir = path.join(root, LEASES_DIR)
  }

  /**
   * Opens the store at `root`. With `create`, missing directories are made; without it a missing store is
   * ERR_CFS_FILE_NOT_FOUND.
   */
  static async open (root: string, opts: { create?: boolean } = {}): Promise<Store> {
    const store = new Store(path.resolve(root))
    if (opts.create === true) {
      try {
        for (const dir of [store.objectsDir, store.imagesDir, store.tmpDir, store.leasesDir]) {
          await fs.mkdir(dir, { recursive: true })
        }
      } catch (err) { throw fromSystemError(err, 'cannot create store', store.root) }
    } else {
      try {
        const st = await fs.stat(store.objectsDir)
        if (!st.isDirectory()) throw new CfsError('ERR_CFS_FILE_NOT_FOUND', `not a cfs store: ${store.root}`)
      } catch (err) {
        if (err instanceof CfsError) throw err
        throw new CfsError('ERR_CFS_FILE_NOT_FOUND', `no cfs store at ${store.root}`,
          { hint: 'build an image into it first, or pass --store DIR', cause: err })
      }
    }
    return store
  }

  /** Absolute path of an object (which may or may not exist). */
  objectPath (digest: Uint8Array | string): string {
    return path.join(this.objectsDir, objectRelPath(hexOf(digest)))
  }

  async hasObject (digest: Uint8Array | string): Promise<boolean> {
    try { await fs.access(this.objectPath(digest)); return true } catch { return false }
  }

  /** A unique path in tmp/ for a file being written; rename it into place when complete. */
  tempPath (tag = 'obj'): string {
    return path.join(this.tmpDir, `${tag}.${process.pid}.${crypto.randomBytes(6).toString('hex')}`)
  }

  /**
   * Stores content and returns its digest. The bytes are hashed while written to a temp file, fsync'ed, then
   * renamed to `objects/ab/cdef…`; if that object already exists the temp file is dropped. A crash leaves only
   * a stray temp file, never a partial object under its final name.
   */
  async writeObject (content: Uint8Array | AsyncIterable<Uint8Array>): Promise<WrittenObject> {
    const tmp = this.tempPath()
    const hasher = new FsVerityHasher()
    let fh: fs.FileHandle | undefined
    try {
      fh = await fs.open(tmp, 'wx', 0o644)
      if (content instanceof Uint8Array) {
        hasher.update(content)
        await fh.writeFile(content)
      } else {
        for await (const chunk of content) {
          hasher.update(chunk)
          await fh.writeFile(chunk) // unlike write(), loops over short writes
        }
      }
      await fh.sync()
      await fh.close()
      fh = undefined
      const digest = hasher.digest()
      const created = await this.publish(tmp, digest)
      return { digest, size: hasher.size, created }
    } catch (err) {
      await fh?.close().catch(() => {})
      await fs.rm(tmp, { force: true }).catch(() => {})
      throw fromSystemError(err, 'cannot write object in store', this.root)
    }
  }

  /** Moves a complete, durable temp file to its object name; returns false (and drops it) if already present. */
  async publish (tmp: string, digest: Uint8Array): Promise<boolean> {
    const final = this.objectPath(digest)
    if (await exists(final)) { await fs.rm(tmp, { force: true }); return false }
    await fs.mkdir(path.dirname(final), { recursive: true })
    await fs.rename(tmp, final)
    return true
  }

  /**
   * Registers a manifest as a kept image (a gc root) under `images/<sha256>.cfsm`, atomically. Returns its digest.
   */
  async putImage (manifestBytes: Uint8Array): Promise<Digest> {
    const digest = sha256(manifestBytes)
    const final = path.join(this.imagesDir, digestHex(digest) + IMAGE_SUFFIX)
    if (await exists(final)) return digest
    await writeFileAtomic(final, manifestBytes, this.tempPath('image'))
    return digest
  }

  /** Digests of every registered image. */
  async listImages (): Promise<Digest[]> {
    let names: string[]
    try { names = await fs.readdir(this.imagesDir) } catch { return [] }
    return names.filter(n => n.endsWith(IMAGE_SUFFIX) && n.length === 64 + IMAGE_SUFFIX.length)
      .map(n => `sha256:${n.slice(0, 64)}` as Digest).sort()
  }

  /** Hold this while building into the store: gc waits for it (see lease.ts). */
  async acquireBuildLease (): Promise<Held> { return await acquireBuildLease(this.root, this.leasesDir) }

  /** Exclusive lock for gc: waits for running builds, blocks new ones. */
  async acquireGcLock (): Promise<Held> { return await acquireGcLock(this.root, this.leasesDir) }

  imagePath (digest: Digest): string { return path.join(this.imagesDir, digestHex(digest) + IMAGE_SUFFIX) }
}

async function exists (p: string): Promise<boolean> {
  try { await fs.access(p); return true } catch { return false }
}

/**
 * Writes `data` to `final` so that `final` is either absent or complete: write a temp file, fsync it, rename it,
 * then fsync the directory. `tmp` must be on the same filesystem.
 */
export async function writeFileAtomic (final: string, data: Uint8Array, tmp = `${final}.tmp.${process.pid}.${crypto.randomBytes(4).toString('hex')}`): Promise<void> {
  let fh: fs.FileHandle | undefined
  try {
    fh = await fs.open(tmp, 'wx', 0o644)
    await fh.writeFile(data)
    await fh.sync()
    await fh.close()
    fh = undefined
    crashPoint('before-rename')
    await fs.rename(tmp, final)
    const dir = await fs.open(path.dirname(final), 'r')
    try { await dir.sync() } finally { await dir.close() }
  } catch (err) {
    await fh?.close().catch(() => {})
    await fs.rm(tmp, { force: true }).catch(() => {})
    throw fromSystemError(err, 'cannot write', final)
  }
}
