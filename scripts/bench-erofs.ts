/**
 * EROFS writer speed: time of writeErofs (tree → image bytes, in memory) against entry count on synthetic trees
 * shaped like a container root: directories of 64 entries, external files with digests and payloads, small
 * inline files, symlinks, an SELinux label on everything and a few user xattrs.
 * Run: pnpm exec tsc -b && pnpm exec tsx scripts/bench-erofs.ts [maxEntries]
 */
import { createHash } from 'node:crypto'
import * as os from 'node:os'
import { writeErofs } from '../packages/erofs/dist/index.js'
import { finalizeTree, makeInode, objectPathOf, S_IFDIR, S_IFLNK, S_IFREG, type Manifest, type Node } from '../packages/manifest/dist/index.js'

const FANOUT = 64

function syntheticTree (entries: number): Manifest {
  const label = Buffer.from('system_u:object_r:usr_t:s0\0')
  const t = { mtimeSec: 1700000000, xattrs: [{ key: 'security.selinux', value: label }] }
  const root: Node = { name: '', inode: makeInode(S_IFDIR | 0o755, t), children: [] }
  const dirs: Node[] = [root]
  let made = 1
  for (let d = 0; made < entries; d++) {
    const parent = dirs[d]!
    for (let i = 0; i < FANOUT && made < entries; i++, made++) {
      const name = `entry-${made.toString(36)}`
      let node: Node
      if (i % 16 === 0) {
        node = { name, inode: makeInode(S_IFDIR | 0o755, t), children: [] }
        dirs.push(node)
      } else if (i % 4 === 1) {
        node = { name, inode: makeInode(S_IFLNK | 0o777, { ...t, size: 12, target: '../lib/x.so' }) }
      } else if (i % 4 === 2) {
        const inline = Buffer.from(`config ${made}\n`)
        node = { name, inode: makeInode(S_IFREG | 0o644, { ...t, size: inline.length, inline }) }
      } else {
        const digest = createHash('sha256').update(name).digest()
        node = {
          name,
          inode: makeInode(S_IFREG | 0o755, {
            ...t, size: 1000 + made * 7, digest, payload: objectPathOf(digest),
            xattrs: i % 8 === 3 ? [...t.xattrs, { key: 'user.mime', value: Buffer.from('application/x-elf') }] : t.xattrs,
          }),
        }
      }
      parent.children!.push(node)
    }
  }
  return finalizeTree({ root })
}

const max = Number(process.argv[2] ?? 65536)
console.log(`node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, load ${os.loadavg().map(l => l.toFixed(1)).join(' ')}`)
console.log('| entries | image bytes | wall best of 5 (ms) | wall median (ms) | CPU best of 5 (ms) |')
console.log('|---:|---:|---:|---:|---:|')
for (let n = 1024; n <= max; n *= 4) {
  const tree = syntheticTree(n)
  const times: number[] = []
  const cpu: number[] = []
  let size = 0
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now()
    const c0 = process.cpuUsage()
    size = writeErofs(tree).length
    const c = process.cpuUsage(c0)
    times.push(performance.now() - t0)
    cpu.push((c.user + c.system) / 1000)
  }
  times.sort((a, b) => a - b)
  cpu.sort((a, b) => a - b)
  console.log(`| ${n} | ${size} | ${times[0]!.toFixed(0)} | ${times[2]!.toFixed(0)} | ${cpu[0]!.toFixed(0)} |`)
  if (n * 4 > max && n !== max) { n = max / 4 }
}
