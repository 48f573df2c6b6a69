import * as path from 'node:path'
import type { Argv } from 'yargs'
import { CfsError } from '@cfs/errors'
import { Store, defaultStorePath } from '@cfs/store'
import type { Io } from './io.js'

/** Adds `--store DIR` (default: $CFS_STORE, else $XDG_DATA_HOME/cfs, else ~/.local/share/cfs). */
export function withStoreOption (y: Argv): Argv {
  return y.option('store', { type: 'string', describe: 'object store directory (default $CFS_STORE or ~/.local/share/cfs)' })
}

/** Opens the store named by `--store` or the environment; a missing store is ERR_CFS_FILE_NOT_FOUND. */
export async function openStore (args: Record<string, unknown>, io: Io): Promise<Store> {
  const dir = typeof args.store === 'string' ? path.resolve(io.cwd, args.store) : defaultStorePath(io.env)
  return await Store.open(dir)
}

/** `--jobs N`: threads hashing (this one and N − 1 workers); undefined means one per core. */
export function withJobsOption (y: Argv): Argv {
  return y.option('jobs', { alias: 'j', type: 'number', describe: 'threads hashing objects, this one included (default: one per core)' })
}

export function jobsOf (args: Record<string, unknown>): number | undefined {
  const j = args.jobs
  if (j === undefined) return undefined
  if (typeof j !== 'number' || !Number.isInteger(j) || j < 1) {
    throw new CfsError('ERR_CFS_USAGE', `--jobs must be a whole number ≥ 1, got ${String(j)}`)
  }
  return j
}
