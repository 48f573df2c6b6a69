import * as fs from 'node:fs'
import * as path from 'node:path'

/**
 * Allocated bytes (st_blocks × 512) of files not yet in `seen` (keyed by device and inode, so hardlinks and files
 * shared between strategies' views count once). Directories are walked; symlinks are not followed.
 */
export function diskUsage (root: string | Buffer, seen: Set<string> = new Set()): number {
  let total = 0
  const visit = (p: Buffer): void => {
    const st = fs.lstatSync(p, { bigint: true })
    const key = `${st.dev}:${st.ino}`
    if (!seen.has(key)) { seen.add(key); total += Number(st.blocks) * 512 }
    if (st.isDirectory()) {
      for (const name of fs.readdirSync(p, { encoding: 'buffer' })) visit(Buffer.concat([p, SLASH, name]))
    }
  }
  visit(typeof root === 'string' ? Buffer.from(path.resolve(root)) : root)
  return total
}

const SLASH = Buffer.from('/')
