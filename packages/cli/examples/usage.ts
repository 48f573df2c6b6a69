import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { PassThrough } from 'node:stream'
import { run, type Io } from '@cfs/cli'

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-'))
fs.mkdirSync(path.join(dir, 'rootfs/etc'), { recursive: true })
fs.writeFileSync(path.join(dir, 'rootfs/etc/motd'), 'hello from cfs\n'.repeat(10))

let stdout = ''
const io: Io = { stdout: new PassThrough(), stderr: new PassThrough(), stdin: process.stdin, cwd: dir, env: { ...process.env, CFS_STORE: path.join(dir, 'store') } }
io.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
const code = await run(['build', 'rootfs', '-o', 'image.cfsm', '--json'], io)   // exactly what `cfs build … --json` does
const { digest } = JSON.parse(stdout) as { digest: string }
console.log(code, digest)                                                      // 0 sha256:…
console.log(await run(['verify', 'image.cfsm', '--expect', digest], io))       // 0; 6 for another digest
fs.rmSync(dir, { recursive: true, force: true })
