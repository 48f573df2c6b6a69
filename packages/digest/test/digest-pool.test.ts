import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { DigestPool } from '../src/digest-pool.js'
import { fsverityDigest } from '../src/fsverity.js'
import { fsverityDigestFileSync } from '../src/fsverity-file.js'

describe('DigestPool', () => {
  let dir: string
  beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-')) })
  afterAll(() => { fs.rmSync(dir, { recursive: true, force: true }) })

  it('digests many files on two workers exactly as fsverityDigest does', async () => {
    const files: Array<[string, Buffer]> = []
    for (let i = 0; i < 40; i++) {
      const data = Buffer.alloc(i * 1531, i)
      const file = path.join(dir, `f${i}`)
      fs.writeFileSync(file, data)
      files.push([file, data])
    }
    const pool = new DigestPool(2)
    try {
      const got = await Promise.all(files.map(async ([f]) => await pool.digestFile(f)))
      got.forEach((r, i) => {
        expect(r.size).toBe(files[i]![1].length)
        expect(r.digest.toString('hex')).toBe(fsverityDigest(files[i]![1]).toString('hex'))
      })
    } finally { await pool.close() }
  })

  it('rejects a missing file with ERR_CFS_FILE_NOT_FOUND and keeps working', async () => {
    const pool = new DigestPool(1)
    try {
      await expect(pool.digestFile(path.join(dir, 'nope'))).rejects.toMatchObject({ code: 'ERR_CFS_FILE_NOT_FOUND' })
      const file = path.join(dir, 'after')
      fs.writeFileSync(file, 'x')
      expect((await pool.digestFile(file)).digest).toEqual(fsverityDigest(Buffer.from('x')))
    } finally { await pool.close() }
  })

  it('checkFile does not hash a file of another size and hashes one of the expected size', async () => {
    const file = path.join(dir, 'sized')
    fs.writeFileSync(file, Buffer.alloc(5000, 3))
    const pool = new DigestPool(1)
    try {
      expect(await pool.checkFile(file, 4999)).toEqual({ size: 5000 })
      expect(await pool.checkFile(file, 5000)).toEqual({ size: 5000, digest: fsverityDigest(Buffer.alloc(5000, 3)) })
    } finally { await pool.close() }
  })

  it('with callerHashes, hashes on the calling thread (alone at jobs 1) with the same results and errors', async () => {
    const files: Array<[string, Buffer]> = []
    for (let i = 0; i < 30; i++) {
      const data = Buffer.alloc(i * 2741, i + 1)
      const file = path.join(dir, `c${i}`)
      fs.writeFileSync(file, data)
      files.push([file, data])
    }
    for (const jobs of [1, 2]) {
      const pool = new DigestPool(jobs, { callerHashes: true })
      try {
        const got = await Promise.all(files.map(async ([f]) => await pool.digestFile(f)))
        got.forEach((r, i) => { expect(r.digest).toEqual(fsverityDigest(files[i]![1])) })
        expect(await pool.checkFile(files[3]![0], 1)).toEqual({ size: files[3]![1].length })
        const missing = path.join(dir, 'nope')
        await expect(pool.digestFile(missing)).rejects.toMatchObject({ code: 'ERR_CFS_FILE_NOT_FOUND', message: `cannot read ${missing}: no such file or directory` })
      } finally { await pool.close() }
    }
  })

  it('digestFiles: one batch on every thread mix gives each file its digest, size, wrong size or error', async () => {
    const files: Array<[string, Buffer]> = []
    // sizes around the block and read-buffer boundaries; enough files that every thread takes some
    for (let i = 0; i < 300; i++) {
      const data = Buffer.alloc([0, 1, 4095, 4096, 4097, 70000, (1 << 20) + 3][i % 7]!, i)
      const file = path.join(dir, `b${i}`)
      fs.writeFileSync(file, data)
      files.push([file, data])
    }
    const paths = [...files.map(([f]) => f), path.join(dir, 'missing'), dir]
    // 5: shorter than expected; 6 (1 MiB + 3) and 8 (1 byte): longer
    const wrong = new Map([[5, 70001], [6, (1 << 20) + 2], [8, 0]])
    const sizes = [...files.map(([, d], i) => wrong.get(i) ?? d.length), 1, 1]
    for (const [jobs, callerHashes] of [[1, true], [2, true], [3, true], [2, false]] as const) {
      const pool = new DigestPool(jobs, { callerHashes })
      const seen: number[] = []
      try {
        const got = await pool.digestFiles(paths, sizes, (n) => { seen.push(n) })
        expect(got.length).toBe(paths.length)
        files.forEach(([, data], i) => {
          expect(got.size(i)).toBe(data.length)
          if (wrong.has(i)) expect(got.digest(i)).toBeUndefined()
          else expect(got.digest(i)?.toString('hex')).toBe(fsverityDigest(data).toString('hex'))
          expect(got.error(i)).toBeUndefined()
        })
        expect(got.error(300)).toMatchObject({ code: 'ERR_CFS_FILE_NOT_FOUND', message: `cannot read ${paths[300]!}: no such file or directory` })
        expect(got.digest(300)).toBeUndefined()
        expect(got.error(301)).toMatchObject({ code: 'ERR_CFS_IO', message: `cannot read ${dir}: is a directory` })
        expect(got.size(301)).toBeNaN()
        expect(seen.at(-1)).toBe(paths.length)
        expect(seen).toEqual([...seen].sort((a, b) => a - b))
        // without expected sizes every readable file is hashed
        const all = await pool.digestFiles([...paths.slice(0, 10), dir])
        expect(all.digest(5)?.toString('hex')).toBe(fsverityDigest(files[5]![1]).toString('hex'))
        expect(all.error(10)).toMatchObject({ code: 'ERR_CFS_IO', message: `cannot read ${dir}: is a directory` })
        expect((await pool.digestFiles([])).length).toBe(0)
      } finally { await pool.close() }
    }
  })

  it('digestFiles: files a worker claimed before it died are hashed by the calling thread', async () => {
    const files = Array.from({ length: 50 }, (_, i) => {
      const file = path.join(dir, `d${i}`)
      fs.writeFileSync(file, Buffer.alloc(200000, i))
      return file
    })
    const pool = new DigestPool(1)
    try {
      const worker = (pool as unknown as { slots: Array<{ worker: { terminate: () => Promise<number> } }> }).slots[0]!.worker
      const running = pool.digestFiles(files)
      await worker.terminate()
      const got = await running
      files.forEach((_f, i) => { expect(got.digest(i)).toEqual(fsverityDigest(Buffer.alloc(200000, i))) })
    } finally { await pool.close() }
  })

  it('fsverityDigestFileSync agrees with fsverityDigest across buffer sizes', () => {
    const data = Buffer.alloc(300000, 7)
    const file = path.join(dir, 'sync')
    fs.writeFileSync(file, data)
    for (const size of [4096, 65536, 1 << 22]) {
      expect(fsverityDigestFileSync(file, Buffer.alloc(size)).digest).toEqual(fsverityDigest(data))
    }
  })
})
