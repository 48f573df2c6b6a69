import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { benchImages, formatTable, renderHtml } from '@cfs/bench'

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-example-'))
const rootfs = path.join(tmp, 'rootfs')                                      // or an image: 'image.tar'
fs.mkdirSync(path.join(rootfs, 'etc'), { recursive: true })
fs.writeFileSync(path.join(rootfs, 'etc/motd'), 'welcome to the example image\n'.repeat(10))
try {
  const report = await benchImages({ inputs: [rootfs], runs: 1, only: ['symlinks'], tmpDir: tmp })
  const farm = report.strategies[0]!
  console.log(farm.strategy, farm.results.length, farm.results[0]!.coldLs.median >= 0)   // symlinks 1 true
  fs.writeFileSync(path.join(tmp, 'bench.html'), renderHtml(report))          // bar charts, no network
  console.log(formatTable(report).includes('symlink farm'))                  // true: what `cfs bench` prints
} finally {
  fs.rmSync(tmp, { recursive: true, force: true })
}
