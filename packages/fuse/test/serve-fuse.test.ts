import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { findMount, mountFuse, openFuseDevice, unmountFuse } from '../src/index.js'

const skip = !fs.existsSync('/dev/fuse') ? 'no /dev/fuse' : process.getuid?.() !== 0 ? 'not root' : undefined
if (skip !== undefined) console.log(`skipping serveFuse tests: ${skip}`)
const describeFuse = skip === undefined ? describe : describe.skip
const DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist/index.js')

/** A toy filesystem, written as plain JS for a Worker: / holds `hello` (a file) and `link` (a symlink to it). */
const TOY = `
const { workerData, parentPort } = require('node:worker_threads')
import(workerData.dist).then(({ serveFuse, Errno }) => {
  const content = Buffer.from('hello, fuse\\n')
  const nodes = {
    1: { mode: 0o40755, size: 0, nlink: 2 },
    2: { mode: 0o100644, size: content.length, nlink: 1 },
    3: { mode: 0o120777, size: 5, nlink: 1 },
  }
  const root = { names: ['hello', 'link'], nodes: [2, 3], parent: 1 }
  serveFuse(workerData.fd, {
    getattr (node, a) {
      const n = nodes[node]
      if (n === undefined) return Errno.ENOENT
      Object.assign(a, { ino: node, size: n.size, blocks: 0, mtimeSec: 1e9, mtimeNsec: 42, mode: n.mode, nlink: n.nlink, uid: 7, gid: 8, rdev: 0 })
      return 0
    },
    lookup (parent, name) { return parent !== 1 ? -Errno.ENOTDIR : [0, 2, 3][root.names.indexOf(name) + 1] },
    readdir (node) { return node === 1 ? root : Errno.ENOTDIR },
    readlink (node) { return node === 3 ? Buffer.from('hello') : Errno.EINVAL },
    read (node, buf, off, size, pos) {
      if (node !== 2) return -Errno.EIO
      return content.copy(buf, off, Math.min(pos, content.length), Math.min(pos + size, content.length))
    },
    listxattr (node) { return node === 2 ? 'user.greeting\\0' : '' },
    getxattr (node, name) { return node === 2 && name === 'user.greeting' ? Buffer.from('hi') : Errno.ENODATA },
  }, { onInit: () => parentPort.postMessage('init') })
})
`

describeFuse('serveFuse', () => {
  let dir: string
  let mnt: string
  let worker: Worker
  let fd: number
  let exited: Promise<number>

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-'))
    mnt = path.join(dir, 'mnt')
    fs.mkdirSync(mnt)
    fd = openFuseDevice()
    worker = new Worker(TOY, { eval: true, workerData: { fd, dist: DIST } })
    exited = new Promise(resolve => worker.once('exit', resolve))
    const init = new Promise(resolve => worker.once('message', resolve))
    await mountFuse(fd, mnt, { fsName: 'toy', subtype: 'toy' })
    await init
  })

  afterAll(async () => {
    try {
      if (findMount(mnt) !== undefined) unmountFuse(mnt)
      await exited
    } finally {
      fs.closeSync(fd)
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it('mounts as fuse.<subtype> and serves listings, attributes, contents, symlinks and xattrs', () => {
    expect(findMount(mnt)?.fstype).toBe('fuse.toy')
    expect(fs.readdirSync(mnt)).toEqual(['hello', 'link'])
    const st = fs.statSync(path.join(mnt, 'hello'), { bigint: true })
    expect([Number(st.mode), Number(st.uid), Number(st.gid), Number(st.size), st.mtimeNs]).toEqual([0o100644, 7, 8, 12, 1000000000000000042n])
    expect(fs.readFileSync(path.join(mnt, 'hello'), 'utf8')).toBe('hello, fuse\n')
    expect(fs.readFileSync(path.join(mnt, 'link'), 'utf8')).toBe('hello, fuse\n')
    expect(fs.readlinkSync(path.join(mnt, 'link'))).toBe('hello')
    expect(execFileSync('getfattr', ['--only-values', '-n', 'user.greeting', path.join(mnt, 'hello')], { encoding: 'utf8' })).toBe('hi')
    expect(() => fs.statSync(path.join(mnt, 'nothing'))).toThrow(expect.objectContaining({ code: 'ENOENT' }))
  })

  it('is read-only', () => {
    expect(() => fs.writeFileSync(path.join(mnt, 'hello'), 'x')).toThrow(expect.objectContaining({ code: 'EROFS' }))
    expect(() => fs.mkdirSync(path.join(mnt, 'd'))).toThrow(expect.objectContaining({ code: 'EROFS' }))
  })

  it('stops serving when unmounted', async () => {
    expect(unmountFuse(mnt)).toBe('unmounted')
    expect(await exited).toBe(0)
    expect(findMount(mnt)).toBeUndefined()
  })
})
