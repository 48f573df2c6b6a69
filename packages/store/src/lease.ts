/**
 * Coordination between builds and gc in one store, without flock (Node has none):
 *
 * - A build creates `leases/<pid>.<rand>` first, then looks for `gc.lock`; if it exists (and its owner lives) the
 *   build withdraws its lease, waits, and starts over.
 * - gc creates `gc.lock` (mkdir is atomic) first, then waits while any lease exists (whose owner lives).
 *
 * Each side publishes itself before looking at the other, so at least one of them always sees the other: gc never
 * runs while a build that could reference an unregistered object is in flight. A lease or lock whose pid is dead
 * (a killed process) is stale and is removed by whoever finds it.
 * gc has priority: a build only gets in between gc runs, so gc run back to back, with no pause, would starve builds.
 */
import * as crypto from 'node:crypto'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { CfsError, fromSystemError } from '@cfs/errors'

export const GC_LOCK = 'gc.lock'
const POLL_MS = 50

export interface Held { release (): Promise<void> }

/** Whether a process with this pid exists (EPERM means it does, owned by someone else). */
export function pidAlive (pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false
  try { process.kill(pid, 0); return true } catch (err) { return (err as NodeJS.ErrnoException).code === 'EPERM' }
}

const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

async function gcLockOwner (root: string): Promise<number | undefined> {
  try {
    const text = await fs.readFile(path.join(root, GC_LOCK, 'pid'), 'utf8')
    return Number.parseInt(text, 10)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      // the lock dir may exist without its pid file for an instant while being created
      try { await fs.access(path.join(root, GC_LOCK)); return -1 } catch { return undefined }
    }
    throw err
  }
}

/** Held while a build may write or reuse objects that no registered image references yet. */
export async function acquireBuildLease (root: string, leasesDir: string, timeoutMs = 10 * 60_000): Promise<Held> {
  const file = path.join(leasesDir, `${process.pid}.${crypto.randomBytes(4).toString('hex')}`)
  const deadline = Date.now() + timeoutMs
  let sawNoPid = 0
  for (;;) {
    try { await fs.writeFile(file, String(process.pid), { flag: 'wx' }) } catch (err) { throw fromSystemError(err, 'cannot create build lease in', leasesDir) }
    const owner = await gcLockOwner(root)
    if (owner === undefined) break
    // gc holds (or is taking) the lock and waits for leases to go: withdraw ours while waiting, or both would wait forever
    await fs.rm(file, { force: true })
    if (owner === -1 ? ++sawNoPid > 100 : !pidAlive(owner)) { await fs.rm(path.join(root, GC_LOCK), { recursive: true, force: true }); continue }
    if (Date.now() > deadline) {
      throw new CfsError('ERR_CFS_STORE_LOCKED', `store ${root} is locked by cfs gc (pid ${owner})`, { hint: 'wait for gc to finish' })
    }
    await sleep(POLL_MS)
  }
  return { release: async () => { await fs.rm(file, { force: true }) } }
}

/** Exclusive against every build and other gc runs; waits up to `timeoutMs` for running builds to finish. */
export async function acquireGcLock (root: string, leasesDir: string, timeoutMs = 10 * 60_000): Promise<Held> {
  const lock = path.join(root, GC_LOCK)
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      await fs.mkdir(lock)
      await fs.writeFile(path.join(lock, 'pid'), String(process.pid))
      break
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw fromSystemError(err, 'cannot lock store', root)
      const owner = await gcLockOwner(root)
      if (owner !== undefined && owner !== -1 && !pidAlive(owner)) { await fs.rm(lock, { recursive: true, force: true }); continue }
      if (Date.now() > deadline) throw new CfsError('ERR_CFS_STORE_LOCKED', `store ${root} is locked by another cfs gc`, { hint: 'wait for it to finish' })
      await sleep(POLL_MS)
    }
  }
  const release = async (): Promise<void> => { await fs.rm(lock, { recursive: true, force: true }) }
  try {
    for (;;) {
      let live = 0
      let names: string[] = []
      try { names = await fs.readdir(leasesDir) } catch { names = [] }
      for (const name of names) {
        const pid = Number.parseInt(name, 10)
        if (pidAlive(pid)) live++; else await fs.rm(path.join(leasesDir, name), { force: true })
      }
      if (live === 0) break
      if (Date.now() > deadline) throw new CfsError('ERR_CFS_STORE_LOCKED', `store ${root} has ${live} build(s) in progress`, { hint: 'retry when they finish' })
      await sleep(POLL_MS)
    }
  } catch (err) { await release(); throw err }
  return { release }
}
