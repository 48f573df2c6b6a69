import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import type { Digest } from '@cfs/digest'
import { S_IFDIR, S_IFREG, encodeManifest, finalizeTree, makeInode, objectPathOf, type Manifest, type Node } from '@cfs/manifest'
import { Store } from '@cfs/store'

export async function tempStore (): Promise<{ dir: string, store: Store }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-'))
  return { dir, store: await Store.open(path.join(dir, 'store'), { create: true }) }
}

export interface TestImage { manifest: Manifest, bytes: Uint8Array, digest: Digest, objectOf: Map<string, Digest> }

/**
 * Builds a manifest the way `cfs build` does: every file's content written with store.writeObject, its inode
 * given digest and payload, the tree finalized, encoded and registered with putImage. `files` maps paths
 * ('a/b.txt') to content; every file is external.
 */
export async function makeImage (store: Store, files: Record<string, Uint8Array>): Promise<TestImage> {
  const root: Node = { name: '', inode: makeInode(S_IFDIR | 0o755), children: [] }
  const objectOf = new Map<string, Digest>()
  for (const [p, content] of Object.entries(files)) {
    const parts = p.split('/')
    let dir = root
    for (const part of parts.slice(0, -1)) {
      let next = dir.children!.find(c => c.name === part)
      if (next === undefined) { next = { name: part, inode: makeInode(S_IFDIR | 0o755), children: [] }; dir.children!.push(next) }
      dir = next
    }
    const { digest } = await store.writeObject(content)
    dir.children!.push({ name: parts[parts.length - 1]!, inode: makeInode(S_IFREG | 0o644, { size: content.length, digest, payload: objectPathOf(digest) }) })
    objectOf.set('/' + p, `sha256:${digest.toString('hex')}`)
  }
  const manifest = finalizeTree({ root })
  const bytes = encodeManifest(manifest)
  const digest = await store.putImage(bytes)
  return { manifest, bytes, digest, objectOf }
}

export const content = (seed: number, size: number): Buffer => {
  const b = Buffer.alloc(size)
  for (let i = 0; i < size; i++) b[i] = (i * 31 + seed * 7) & 0xff
  return b
}
