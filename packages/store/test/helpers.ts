import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { spawnSync } from 'node:child_process'
import { Store } from '../src/store.js'

export async function tempStore (): Promise<{ dir: string, store: Store }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-'))
  return { dir, store: await Store.open(path.join(dir, 'store'), { create: true }) }
}

/** A pid that belonged to a process which has exited. */
export function deadPid (): number {
  const r = spawnSync(process.execPath, ['-e', ''])
  if (r.pid === undefined) throw new Error('could not spawn')
  return r.pid
}

/** Test "manifests" for store-level gc: a JSON list of object digests (the store never decodes real manifests). */
export const jsonRefs = (bytes: Buffer): string[] => JSON.parse(bytes.toString('utf8')) as string[]
