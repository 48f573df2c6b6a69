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

  it('fsverityDigestFileSync agrees with fsverityDigest across buffer sizes', () => {
    const data = Buffer.alloc(300000, 7)
    const file = path.join(dir, 'sync')
    fs.writeFileSync(file, data)
    for (const size of [4096, 65536, 1 << 22]) {
      expect(fsverityDigestFileSync(file, Buffer.alloc(size)).digest).toEqual(fsverityDigest(data))
    }
  })
})
