/** Why the mount tests that use both backends cannot run here, or undefined when they can. */
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'

export function mountSkipReason (): string | undefined {
  if (process.getuid?.() !== 0) return 'not root'
  if (!fs.existsSync('/dev/fuse')) return 'no /dev/fuse'
  const fss = fs.readFileSync('/proc/filesystems', 'utf8')
  for (const t of ['erofs', 'overlay']) {
    if (!fss.includes(`\t${t}\n`)) {
      try { execFileSync('modprobe', [t], { stdio: 'ignore' }) } catch { return `the kernel has no ${t}` }
    }
  }
  return undefined
}
