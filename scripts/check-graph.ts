/**
 * Fails when the package graph breaks the layering in docs/ARCHITECTURE.md: an import that points up or
 * sideways, a cycle, or tsconfig `references` that drift from package.json dependencies.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'

const LAYERS: Record<string, number> = {
  errors: 0, digest: 0,
  tar: 1, store: 1, manifest: 1, fuse: 1,
  oci: 2, dump: 2, erofs: 2,
  build: 3, verify: 3, diff: 3, mount: 3, 'kernel-mount': 3, report: 3,
  bench: 4,
  cli: 5,
}
/** packages on one layer that may still depend on each other (documented exceptions) */
const ALLOWED_SAME_LAYER = new Set(['digest->errors', 'dump->erofs'])

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..')
const pkgsDir = path.join(root, 'packages')
const problems: string[] = []
for (const name of fs.readdirSync(pkgsDir).sort()) {
  const pj = path.join(pkgsDir, name, 'package.json')
  if (!fs.existsSync(pj)) continue
  const layer = LAYERS[name]
  if (layer === undefined) { problems.push(`${name}: not in the layer table of scripts/check-graph.ts`); continue }
  const json = JSON.parse(fs.readFileSync(pj, 'utf8')) as { dependencies?: Record<string, string> }
  const deps = Object.keys(json.dependencies ?? {}).filter(d => d.startsWith('@cfs/')).map(d => d.slice(5)).sort()
  for (const dep of deps) {
    const dl = LAYERS[dep]
    if (dl === undefined) { problems.push(`${name} -> ${dep}: unknown package`); continue }
    if (dl > layer || (dl === layer && !ALLOWED_SAME_LAYER.has(`${name}->${dep}`))) {
      problems.push(`${name} (L${layer}) -> ${dep} (L${dl}): imports must point down`)
    }
  }
  const tsc = JSON.parse(fs.readFileSync(path.join(pkgsDir, name, 'tsconfig.json'), 'utf8')) as { references?: Array<{ path: string }> }
  const refs = (tsc.references ?? []).map(r => path.basename(r.path)).sort()
  if (refs.join() !== deps.join()) problems.push(`${name}: tsconfig references [${refs}] differ from dependencies [${deps}]`)
}
const rootRefs = (JSON.parse(fs.readFileSync(path.join(root, 'tsconfig.json'), 'utf8')) as { references: Array<{ path: string }> })
  .references.map(r => r.path)
for (const name of fs.readdirSync(pkgsDir)) {
  if (fs.existsSync(path.join(pkgsDir, name, 'package.json')) && !rootRefs.includes(`packages/${name}`)) {
    problems.push(`root tsconfig.json does not reference packages/${name}`)
  }
}
if (problems.length > 0) {
  console.error('package graph check failed:\n  ' + problems.join('\n  '))
  process.exit(1)
}
console.log('package graph ok')
