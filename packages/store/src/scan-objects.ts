/**
 * Walks `objects/` and sorts what it finds into objects (a regular file at `ab/<62 hex>`) and strays (anything
 * else: other names, directories or symlinks where objects belong). Used by fsck and gc.
 */
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import type { Digest } from '@cfs/digest'
import { fromSystemError } from '@cfs/errors'

const FANOUT = /^[0-9a-f]{2}$/
const REST = /^[0-9a-f]{62}$/

export interface ObjectFile {
  digest: Digest
  /** absolute path */
  path: string
  size: number
}

export interface StrayFile {
  /** absolute path */
  path: string
  why: string
}

export interface ObjectScan { objects: ObjectFile[], strays: StrayFile[] }

/** Lists every object and every stray under `objectsDir`, objects sorted by digest. */
export async function scanObjects (objectsDir: string): Promise<ObjectScan> {
  const objects: ObjectFile[] = []
  const strays: StrayFile[] = []
  let top
  try { top = await fs.readdir(objectsDir, { withFileTypes: true }) } catch (err) { throw fromSystemError(err, 'cannot list', objectsDir) }
  for (const d of top) {
    const dir = path.join(objectsDir, d.name)
    if (!FANOUT.test(d.name) || !d.isDirectory()) { strays.push({ path: dir, why: 'not an object fan-out directory' }); continue }
    let names
    try { names = await fs.readdir(dir, { withFileTypes: true }) } catch (err) { throw fromSystemError(err, 'cannot list', dir) }
    for (const e of names) {
      const file = path.join(dir, e.name)
      if (!REST.test(e.name)) { strays.push({ path: file, why: 'not an object name' }); continue }
      if (!e.isFile()) { strays.push({ path: file, why: 'not a regular file' }); continue }
      let size = 0
      try { size = (await fs.stat(file)).size } catch { continue } // removed meanwhile
      objects.push({ digest: `sha256:${d.name}${e.name}`, path: file, size })
    }
  }
  objects.sort((a, b) => a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0)
  return { objects, strays }
}
