import { finalizeTree, makeInode, S_IFDIR, S_IFREG, type Manifest, type Node } from '@cfs/manifest'
import { diffManifests } from '@cfs/diff'
import { renderDiffReport, renderImageReport, summarizeImage } from '@cfs/report'

const file = (name: string, size: number, digestByte: number): Node =>
  ({ name, inode: makeInode(S_IFREG | 0o644, { size, digest: Buffer.alloc(32, digestByte) }) })
const dir = (name: string, ...children: Node[]): Node => ({ name, inode: makeInode(S_IFDIR | 0o755), children })
const image = (...children: Node[]): Manifest => finalizeTree({ root: dir('', ...children) })

const a = image(dir('usr', file('big', 5000, 1), file('copy', 5000, 1)), file('small', 100, 2))  // or decodeManifest(bytes)
const b = image(dir('usr', file('big', 7000, 3)), file('small', 100, 2))
const summary = summarizeImage(a)
console.log(summary.files, summary.pathBytes, summary.objectBytes)   // 3 10100 5100: two paths share one object
const page = renderImageReport({ manifest: a, digest: 'sha256:' + '0'.repeat(64), summary })
const diffPage = renderDiffReport({ changes: diffManifests(a, b).changes, a: 'a.cfsm', b: 'b.cfsm' })
console.log(page.startsWith('<!doctype html>'), /https?:\/\//.test(page + diffPage))   // true false: one self-contained page each
