/**
 * The CI step of docs/ci.md, run for real on a docker-archive made by umoci + skopeo (what `docker save` gives):
 * the GitHub action's run step and the GitLab template's script, both executed as their runners would (bash,
 * `${{ }}` and variables filled in), both running ci/pipeline.sh. Checks the published digest against `cfs build`,
 * and each documented exit code of each step. Needs root, umoci, skopeo and getfattr; says why when it skips.
 */
import { execFile } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { makeRichImage, missingImageTools, writeDockerArchive } from '@cfs/fixtures'
import { parseYamlSubset, type YamlValue } from './yaml-subset.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..')
const BIN = path.join(ROOT, 'packages/cli/bin/cfs.js')
const exec = promisify(execFile)
const missing = missingImageTools()
if (missing !== undefined) console.log(`skipping CI pipeline tests: ${missing}`)
const maybe = missing === undefined ? describe : describe.skip
const WRONG = `sha256:${'0'.repeat(64)}`

interface Ran { code: number, stdout: string, stderr: string }

async function bash (script: string, cwd: string, env: Record<string, string>): Promise<Ran> {
  const file = path.join(cwd, '..', `step-${path.basename(cwd)}-${Date.now()}.sh`)
  fs.writeFileSync(file, script)
  try {
    // as GitHub runs `shell: bash` steps (and GitLab its bash jobs): errexit and pipefail
    const { stdout, stderr } = await exec('bash', ['--noprofile', '--norc', '-eo', 'pipefail', file], { cwd, env: { ...process.env, ...env } })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code: number, stdout: string, stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}

async function cfs (cwd: string, ...args: string[]): Promise<Ran> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [BIN, ...args], { cwd })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code: number, stdout: string, stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}

const asMap = (v: YamlValue | undefined): Record<string, YamlValue> => {
  if (v === null || v === undefined || typeof v !== 'object' || Array.isArray(v)) throw new Error(`not a mapping: ${JSON.stringify(v)}`)
  return v
}

/** Fills `${{ name }}` from `values`; an expression it does not know fails the test. */
function expand (text: string, values: Record<string, string>): string {
  return text.replace(/\$\{\{\s*([^}]*?)\s*\}\}/g, (_, expr: string) => {
    const v = values[expr]
    if (v === undefined) throw new Error(`unknown expression ${expr}`)
    return v
  })
}

/** Runs action.yml's `pipeline` step as the runner would: inputs (with their defaults) into its env, then bash. */
async function runAction (workspace: string, inputs: Record<string, string>): Promise<Ran & { outputs: Record<string, string> }> {
  const action = asMap(parseYamlSubset(fs.readFileSync(path.join(ROOT, 'action.yml'), 'utf8')))
  const values: Record<string, string> = { 'github.action_path': ROOT }
  for (const [name, spec] of Object.entries(asMap(action.inputs))) {
    values[`inputs.${name}`] = inputs[name] ?? String(asMap(spec).default ?? '')
  }
  const steps = asMap(action.runs).steps as YamlValue[]
  const step = asMap(steps.find(s => asMap(s).id === 'pipeline'))
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(asMap(step.env))) env[k] = expand(String(v), values)
  const outputFile = path.join(workspace, '..', `github-output-${path.basename(workspace)}`)
  fs.writeFileSync(outputFile, '')
  const ran = await bash(expand(String(step.run), values), workspace, {
    ...env, GITHUB_ACTIONS: 'true', GITHUB_ACTION_PATH: ROOT, GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: path.join(workspace, '..', `summary-${path.basename(workspace)}`),
  })
  const stepOutputs: Record<string, string> = {}
  for (const line of fs.readFileSync(outputFile, 'utf8').split('\n').filter(Boolean)) {
    const at = line.indexOf('=')
    stepOutputs[`steps.pipeline.outputs.${line.slice(0, at)}`] = line.slice(at + 1)
  }
  const outputs: Record<string, string> = {}
  for (const [name, spec] of Object.entries(asMap(action.outputs))) {
    outputs[name] = String(asMap(spec).value).replace(/\$\{\{\s*(steps\.[^}\s]*)\s*\}\}/g, (_, e: string) => stepOutputs[e] ?? '')
  }
  return { ...ran, outputs }
}

/** Runs the GitLab template's job as a runner would: variables exported (expanded), before_script, script. */
async function runGitlabJob (projectDir: string, variables: Record<string, string>): Promise<Ran> {
  const template = asMap(asMap(parseYamlSubset(fs.readFileSync(path.join(ROOT, 'ci/gitlab/cfs.gitlab-ci.yml'), 'utf8')))['.cfs'])
  const vars = { ...asMap(template.variables), CFS_HOME: ROOT, ...variables }
  const quote = (s: string): string => `"${s.replace(/["\\`]/g, c => '\\' + c)}"`
  const lines = [
    `export CI_PROJECT_DIR=${quote(projectDir)}`,
    ...Object.entries(vars).map(([k, v]) => `export ${k}=${quote(String(v ?? ''))}`),
    ...(template.before_script as string[]),
    ...(template.script as string[]),
  ]
  return bash(lines.join('\n') + '\n', projectDir, {})
}

let tmp: string
let image: string
let toolBytes: Buffer
beforeAll(() => {
  if (missing !== undefined) return
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-'))
  const ref = makeRichImage(path.join(tmp, 'src-image'))
  image = path.join(tmp, 'image.tar')
  writeDockerArchive(ref, image)                 // what `docker save` / `podman save` write
  toolBytes = fs.readFileSync(path.join(tmp, 'src-image/src/usr/bin/tool'))
}, 60_000)
afterAll(() => { if (tmp !== undefined) fs.rmSync(tmp, { recursive: true, force: true }) })

/** A fresh workspace holding the image as `image.tar`, as a CI job sees its checkout plus artifacts. */
function workspace (name: string): string {
  const ws = path.join(tmp, name)
  fs.mkdirSync(ws)
  fs.copyFileSync(image, path.join(ws, 'image.tar'))
  return ws
}

let reference: string | undefined
/** The digest plain `cfs build --json` gives for the image, in a store of its own. */
async function builtDigest (): Promise<string> {
  if (reference !== undefined) return reference
  const ws = workspace('reference')
  const built = await cfs(ws, 'build', 'image.tar', '-o', 'ref.cfsm', '--store', path.join(ws, 'store'), '--json')
  expect(built.code).toBe(0)
  reference = (JSON.parse(built.stdout) as { digest: string }).digest
  return reference
}

maybe('the CI step (ci/pipeline.sh) on a docker-archive', () => {
  it('GitHub action: builds, verifies and publishes the digest cfs build gives', async () => {
    const ws = workspace('github')
    const ran = await runAction(ws, { image: 'image.tar', store: path.join(ws, '.cfs-store') })
    expect(ran).toMatchObject({ code: 0 })
    const digest = await builtDigest()
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/)
    expect(ran.outputs).toEqual({ digest, manifest: 'cfs-out/image.cfsm' })
    expect(ran.stdout.trim().split('\n').pop()).toBe(digest)
    expect(fs.readFileSync(path.join(ws, 'cfs-out/digest'), 'utf8')).toBe(`${digest}\n`)
    expect(fs.readFileSync(path.join(ws, 'cfs-out/cfs.env'), 'utf8')).toBe(`CFS_DIGEST=${digest}\n`)
    expect(JSON.parse(fs.readFileSync(path.join(ws, 'cfs-out/build.json'), 'utf8'))).toMatchObject({ digest, format: 'docker-archive' })
    expect(JSON.parse(fs.readFileSync(path.join(ws, 'cfs-out/verify.json'), 'utf8'))).toMatchObject({ ok: true, manifest: { digest }, findings: [] })

    // the published manifest verifies against the published digest, and only against it
    const store = ['--store', path.join(ws, '.cfs-store')]
    expect(await cfs(ws, 'verify', 'cfs-out/image.cfsm', '--expect', digest, ...store)).toMatchObject({ code: 0 })
    const wrong = await cfs(ws, 'verify', 'cfs-out/image.cfsm', '--expect', WRONG, ...store)
    expect(wrong.code).toBe(6)
    expect(wrong.stderr).toContain('ERR_CFS_MANIFEST_DIGEST_MISMATCH')
  })

  it('GitHub action: a pinned digest the build reproduces passes; another fails the verify step with exit 6', async () => {
    const digest = await builtDigest()
    const ok = await runAction(workspace('pinned-ok'), { image: 'image.tar', expect: digest, store: path.join(tmp, 'pinned-store') })
    expect(ok).toMatchObject({ code: 0, outputs: { digest } })

    const ws = workspace('pinned-wrong')
    const ran = await runAction(ws, { image: 'image.tar', expect: WRONG, store: path.join(tmp, 'pinned-store') })
    expect(ran.code).toBe(6)
    expect(ran.stderr).toContain('ERR_CFS_MANIFEST_DIGEST_MISMATCH')
    expect(ran.stderr).toContain('cfs-pipeline: verify failed with exit 6 (a mismatch)')
    expect(ran.stdout).toContain('::error title=cfs verify::')
    expect(ran.outputs).toEqual({ digest: '', manifest: '' })
    expect(fs.existsSync(path.join(ws, 'cfs-out/cfs.env'))).toBe(false)
  })

  it('GitLab job: publishes CFS_DIGEST; after an object in the cached store is corrupted, verify fails with exit 6', async () => {
    const digest = await builtDigest()
    const ws = workspace('gitlab')
    const first = await runGitlabJob(ws, {})
    expect(first).toMatchObject({ code: 0 })
    expect(fs.readFileSync(path.join(ws, 'cfs-out/cfs.env'), 'utf8')).toBe(`CFS_DIGEST=${digest}\n`)

    // the cache comes back damaged: the 300 kB /usr/bin/tool object has one byte changed
    const objects = path.join(ws, '.cfs-store/objects')
    const tool = fs.readdirSync(objects, { recursive: true, encoding: 'utf8' }).map(rel => path.join(objects, rel))
      .find(p => fs.statSync(p).isFile() && fs.statSync(p).size === toolBytes.length)
    expect(tool).toBeDefined()
    fs.chmodSync(tool!, 0o644)
    const fd = fs.openSync(tool!, 'r+')
    fs.writeSync(fd, Buffer.from([toolBytes[1000]! ^ 0xff]), 0, 1, 1000)
    fs.closeSync(fd)
    fs.rmSync(path.join(ws, 'cfs-out'), { recursive: true })

    const second = await runGitlabJob(ws, {})
    expect(second.code).toBe(6)
    expect(second.stderr).toContain('ERR_CFS_OBJECT_CORRUPT')
    expect(second.stderr).toContain('cfs-pipeline: verify failed with exit 6 (a mismatch)')
    const report = JSON.parse(fs.readFileSync(path.join(ws, 'cfs-out/verify.json'), 'utf8')) as { ok: boolean, findings: Array<{ problem: string, paths: string[] }> }
    expect(report.ok).toBe(false)
    expect(report.findings).toMatchObject([{ problem: 'corrupt', paths: ['/usr/bin/tool', '/usr/bin/tool-link'] }])
    expect(fs.existsSync(path.join(ws, 'cfs-out/cfs.env'))).toBe(false)
  })

  it('exits with the documented code of the failing build or verify step', async () => {
    const ws = workspace('codes')
    const pipeline = (env: Record<string, string>, ...args: string[]): Promise<Ran> =>
      bash(`bash ${JSON.stringify(path.join(ROOT, 'ci/pipeline.sh'))} ${args.map(a => JSON.stringify(a)).join(' ')}\n`, ws, { CFS_STORE: path.join(ws, 'store'), ...env })

    expect(await pipeline({})).toMatchObject({ code: 2 })
    const cases: Array<[string, Record<string, string>, string, number, string]> = [
      ['missing image', {}, 'nothing.tar', 4, 'ERR_CFS_FILE_NOT_FOUND'],
      ['not an image', {}, 'garbage.bin', 3, 'ERR_CFS_IMAGE_UNKNOWN_FORMAT'],
      ['tampered layer', {}, 'tampered.tar', 6, 'ERR_CFS_BLOB_DIGEST_MISMATCH'],
      ['bad build args', { CFS_BUILD_ARGS: '--platform nonsense' }, 'image.tar', 2, 'ERR_CFS_USAGE'],
      ['malformed pinned digest', { CFS_EXPECT: 'sha256:xyz' }, 'image.tar', 3, 'ERR_CFS_DIGEST_BAD'],
    ]
    fs.writeFileSync(path.join(ws, 'garbage.bin'), Buffer.alloc(4096, 7))
    const tampered = fs.readFileSync(image)
    const at = tampered.indexOf(toolBytes.subarray(0, 64))
    expect(at).toBeGreaterThan(0)                 // docker-archive layers are uncompressed: the bytes are there
    tampered[at + 1000] = tampered[at + 1000]! ^ 0xff
    fs.writeFileSync(path.join(ws, 'tampered.tar'), tampered)
    for (const [what, env, input, code, error] of cases) {
      const ran = await pipeline(env, input)
      const step = code === 3 && error === 'ERR_CFS_DIGEST_BAD' ? 'verify' : 'build'
      expect({ what, code: ran.code, error: ran.stderr.includes(error), step: ran.stderr.includes(`cfs-pipeline: ${step} failed with exit ${code}`) })
        .toEqual({ what, code, error: true, step: true })
      expect(fs.existsSync(path.join(ws, 'cfs-out/cfs.env'))).toBe(false)
    }
  })
})
