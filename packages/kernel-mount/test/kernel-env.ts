/** Shared by the kernel tests: why they must skip here, and a sweep that removes every mount and loop device
 *  a test left under its own temp directory. */
import { execFile, execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import { promisify } from 'node:util'
import { checkKernelSupport, readMountTable } from '../src/index.js'

export const exec = promisify(execFile)

export function kernelSkipReason (): string | undefined {
  if (process.getuid?.() !== 0) return 'not root'
  try { checkKernelSupport() } catch (err) { return (err as Error).message }
  return undefined
}

/** `losetup -a` lines whose backing file lies under `dir`. */
export function loopsUnder (dir: string): string[] {
  return execFileSync('losetup', ['-a'], { encoding: 'latin1' }).split('\n').filter(l => l.includes(`(${dir}/`))
}

export function mountsUnder (dir: string): string[] {
  return readMountTable().map(e => e.mountPoint).filter(p => p === dir || p.startsWith(dir + '/'))
}

/** Unmounts everything under `dir` (innermost first) and detaches loop devices backed by files under it. */
export async function sweep (dir: string): Promise<void> {
  for (const mp of mountsUnder(dir).reverse()) await exec('umount', ['-l', mp]).catch(() => {})
  for (const line of loopsUnder(dir)) await exec('losetup', ['-d', line.split(':')[0]!]).catch(() => {})
}

export function cleanDir (dir: string): void {
  if (mountsUnder(dir).length === 0) fs.rmSync(dir, { recursive: true, force: true })
}

/**
 * The end of every kernel suite: asserts the suite left no loop device or mount under `dir`, and removes
 * whatever it did leave (also when the assertion fails), then the directory.
 */
export async function expectCleanAndRemove (dir: string): Promise<void> {
  try {
    expect(loopsUnder(dir)).toEqual([])
    expect(mountsUnder(dir)).toEqual([])
  } finally {
    await sweep(dir)
    cleanDir(dir)
  }
}
