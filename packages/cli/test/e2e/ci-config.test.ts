/**
 * action.yml, the GitLab template and docs/ci.md describe one step, ci/pipeline.sh: they must parse, declare
 * what the script reads, run that script, and (docs) hold its exact text. The runs themselves are in
 * ci-pipeline.test.ts.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseYamlSubset, type YamlValue } from './yaml-subset.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..')
const read = (rel: string): string => fs.readFileSync(path.join(ROOT, rel), 'utf8')
const SCRIPT = read('ci/pipeline.sh')
const asMap = (v: YamlValue | undefined): Record<string, YamlValue> => {
  if (v === null || v === undefined || typeof v !== 'object' || Array.isArray(v)) throw new Error(`not a mapping: ${JSON.stringify(v)}`)
  return v
}

/** The settings ci/pipeline.sh documents in its header (`#   CFS_X   …`) and the ones its code reads. */
const documented = [...SCRIPT.matchAll(/^# {3}(CFS_[A-Z_]+) /gm)].map(m => m[1]!).sort()
const readByScript = [...new Set([...SCRIPT.replace(/^#.*$/gm, '').matchAll(/\$\{(CFS_[A-Z_]+)/g)].map(m => m[1]!))].sort()

/** Fenced blocks of a markdown file with their info string. */
function blocks (md: string): Array<{ lang: string, body: string }> {
  return [...md.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map(m => ({ lang: m[1]!, body: m[2]! }))
}

describe('ci/pipeline.sh', () => {
  it('documents every setting it reads', () => {
    expect(documented).toEqual(['CFS_BIN', 'CFS_BUILD_ARGS', 'CFS_EXPECT', 'CFS_IMAGE', 'CFS_OUT_DIR', 'CFS_STORE'].sort())
    // CFS_STORE is read by cfs itself
    expect(readByScript).toEqual(documented.filter(n => n !== 'CFS_STORE'))
  })
})

describe('action.yml', () => {
  const action = asMap(parseYamlSubset(read('action.yml')))
  const inputs = asMap(action.inputs)
  const steps = (asMap(action.runs).steps as YamlValue[]).map(asMap)

  it('is a composite action with the documented inputs and outputs', () => {
    expect(asMap(action.runs).using).toBe('composite')
    expect(typeof action.name).toBe('string')
    expect(typeof action.description).toBe('string')
    expect(Object.keys(inputs)).toEqual(['image', 'store', 'expect', 'out-dir', 'build-args', 'node-version'])
    expect(asMap(inputs.image).required).toBe(true)
    for (const [name, spec] of Object.entries(inputs)) {
      expect({ name, description: typeof asMap(spec).description }).toEqual({ name, description: 'string' })
      if (name !== 'image') expect({ name, default: typeof asMap(spec).default }).toEqual({ name, default: 'string' })
    }
    expect(asMap(action.outputs)).toEqual({
      digest: { description: expect.any(String), value: '${{ steps.pipeline.outputs.digest }}' },
      manifest: { description: expect.any(String), value: '${{ steps.pipeline.outputs.manifest }}' },
    })
  })

  it('sets up Node.js, installs cfs and runs ci/pipeline.sh with every input passed on', () => {
    expect(steps[0]).toMatchObject({ uses: expect.stringMatching(/^actions\/setup-node@v\d+$/), with: { 'node-version': '${{ inputs.node-version }}' } })
    for (const s of steps.filter(s => 'run' in s)) expect(s.shell).toBe('bash')
    expect(String(steps[1]!.run)).toContain('pnpm install --frozen-lockfile')
    const pipeline = steps.find(s => s.id === 'pipeline')!
    expect(pipeline.run).toBe('bash "$GITHUB_ACTION_PATH/ci/pipeline.sh"')
    const env = asMap(pipeline.env)
    expect(Object.keys(env).sort()).toEqual(documented)
    // each input reaches the script (or the setup step), and nothing undeclared is referenced
    const used = [...JSON.stringify(action).matchAll(/\$\{\{ inputs\.([\w-]+) \}\}/g)].map(m => m[1]!)
    expect([...new Set(used)].sort()).toEqual(Object.keys(inputs).sort())
  })
})

describe('ci/gitlab/cfs.gitlab-ci.yml', () => {
  const template = asMap(asMap(parseYamlSubset(read('ci/gitlab/cfs.gitlab-ci.yml')))['.cfs'])

  it('runs ci/pipeline.sh and reports what it publishes', () => {
    expect(template.script).toContain('bash "$CFS_HOME/ci/pipeline.sh"')
    const vars = Object.keys(asMap(template.variables))
    expect(vars.filter(v => !documented.includes(v)).sort()).toEqual(['CFS_HOME', 'CFS_REF', 'CFS_REPO'])
    // the dotenv report and artifact are where the script writes with its default CFS_OUT_DIR
    expect(SCRIPT).toContain('out=${CFS_OUT_DIR:-cfs-out}')
    expect(SCRIPT).toContain('echo "CFS_DIGEST=$digest" >"$out/cfs.env"')
    expect(asMap(template.artifacts)).toMatchObject({ when: 'always', paths: ['cfs-out/'], reports: { dotenv: 'cfs-out/cfs.env' } })
  })
})

describe('docs/ci.md', () => {
  const md = read('docs/ci.md')
  const all = blocks(md)

  it('holds the exact text of ci/pipeline.sh', () => {
    expect(all.filter(b => b.lang === 'bash').map(b => b.body)).toEqual([SCRIPT])
  })

  it('has example pipelines that parse and use the action and the template as they are declared', () => {
    const yaml = all.filter(b => b.lang === 'yaml').map(b => asMap(parseYamlSubset(b.body)))
    expect(yaml).toHaveLength(2)
    const inputs = Object.keys(asMap(asMap(parseYamlSubset(read('action.yml'))).inputs))
    const uses = Object.values(asMap(yaml[0]!.jobs)).flatMap(j => (asMap(j).steps as YamlValue[]).map(asMap)).filter(s => /\/cfs@/.test(String(s.uses)))
    expect(uses).toHaveLength(1)
    for (const name of Object.keys(asMap(uses[0]!.with))) expect(inputs).toContain(name)
    expect(asMap(uses[0]!.with).image).toBeDefined()
    expect(JSON.stringify(yaml[0])).toMatch(/steps\.cfs\.outputs\.digest/)

    const gitlab = yaml[1]!
    expect(JSON.stringify(gitlab.include)).toContain('/ci/gitlab/cfs.gitlab-ci.yml')
    const jobs = Object.values(gitlab).filter(j => j !== null && typeof j === 'object' && !Array.isArray(j)).map(j => asMap(j))
    expect(jobs.filter(j => j.extends === '.cfs')).toHaveLength(1)
    expect(JSON.stringify(gitlab)).toMatch(/docker save .* -o image\.tar/)
  })

  it('gives the exit codes of each step', () => {
    const rows = [...md.matchAll(/^\| (build|verify|publish|\(script\)) \| (\d) \|/gm)].map(m => `${m[1]} ${m[2]}`)
    expect(rows).toEqual(['build 0', 'build 2', 'build 3', 'build 4', 'build 5', 'build 6', 'verify 0', 'verify 3', 'verify 4', 'verify 6', 'publish 5', '(script) 2'])
  })
})

describe('parseYamlSubset', () => {
  it('reads mappings, sequences of mappings, quoted scalars and literal blocks', () => {
    expect(parseYamlSubset('a:\n  - b: 1\n    c: \'x\'\'y\'\n  - "q\\n"\nd: |\n  one\n   two\n\ne: true # note\n'))
      .toEqual({ a: [{ b: 1, c: "x'y" }, 'q\n'], d: 'one\n two\n', e: true })
  })

  it('refuses what it does not implement instead of guessing', () => {
    for (const bad of ['a: [1, 2]\n', 'a: &x 1\n', 'a: *x\n', 'a: >\n  folded\n', 'a: 1\na: 2\n', 'a:\n\tb: 1\n', 'a: b: c\n', 'a: !tag x\n']) {
      expect(() => parseYamlSubset(bad)).toThrow(/yaml line/)
    }
  })
})
