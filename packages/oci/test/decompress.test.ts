import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as zlib from 'node:zlib'
import { fixturePath } from '@cfs/fixtures'
import { decompress, detectCompression, RATIO_FLOOR } from '../src/decompress.js'

async function * chunks (data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size)
}

async function collect (src: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const c of src) parts.push(Buffer.from(c))
  return Buffer.concat(parts)
}

const plain = Buffer.from(Array.from({ length: 300000 }, (_, i) => (i * 7) % 251))
const gz = zlib.gzipSync(plain)
const zst = execFileSync('zstd', ['-q', '-c'], { input: plain })

describe('decompress', () => {
  it('detects compression by magic bytes', () => {
    expect(detectCompression(gz)).toBe('gzip')
    expect(detectCompression(zst)).toBe('zstd')
    expect(detectCompression(plain)).toBe('none')
  })

  it.each([1, 3, 4096, 1 << 20])('passes plain, gzip and zstd bytes through fed in %i-byte chunks', async (size) => {
    for (const data of [plain, gz, zst]) expect((await collect(decompress(chunks(data, size), 't'))).equals(plain)).toBe(true)
  })

  it('handles an empty stream', async () => {
    expect(await collect(decompress(chunks(Buffer.alloc(0), 1), 't'))).toHaveLength(0)
  })

  it.each([['gzip', gz], ['zstd', zst]])('throws ERR_CFS_DECOMPRESS on truncated %s', async (_name, data) => {
    await expect(collect(decompress(chunks(data.subarray(0, data.length - 10), 999), 'layer x'))).rejects.toMatchObject({ code: 'ERR_CFS_DECOMPRESS' })
  })

  it('throws ERR_CFS_DECOMPRESS on corrupt gzip', async () => {
    const bad = Buffer.from(gz)
    bad.fill(0x55, 20, 60)
    await expect(collect(decompress(chunks(bad, 999), 'layer x'))).rejects.toMatchObject({ code: 'ERR_CFS_DECOMPRESS' })
  })

  describe('limits', () => {
    const size = RATIO_FLOOR + (1 << 20)
    const zeros = zlib.gzipSync(Buffer.alloc(size), { level: 1 }) // about 220:1
    const count = async (src: AsyncIterable<Uint8Array>): Promise<number> => { let n = 0; for await (const c of src) n += c.length; return n }

    it('stops a stream past the ratio once the output passes RATIO_FLOOR, with ERR_CFS_DECOMPRESS_LIMIT', async () => {
      await expect(count(decompress(chunks(zeros, 1 << 20), 'layer x', { maxRatio: 200 }))).rejects.toMatchObject({ code: 'ERR_CFS_DECOMPRESS_LIMIT' })
      expect(await count(decompress(chunks(zeros, 1 << 20), 'layer x', { maxRatio: 300 }))).toBe(size)
      await expect(count(decompress(chunks(zeros, 1 << 20), 'layer x'))).rejects.toMatchObject({ code: 'ERR_CFS_DECOMPRESS_LIMIT' }) // default 100
      expect(await count(decompress(chunks(zeros, 1 << 20), 'layer x', { maxRatio: 0, maxSize: size }))).toBe(size)
    })

    it('hands zstd output over in small steps, so a bomb given in one chunk is stopped before it is decoded', async () => {
      const bomb = fs.readFileSync(fixturePath('hostile/bomb.tar.zst')) // 256 MiB of zeros in about 8 KiB
      let heldAtFirstChunk = -1
      const consume = async (): Promise<void> => {
        for await (const _ of decompress(chunks(bomb, bomb.length), 'layer x', { maxSize: 1 << 20 })) {
          if (heldAtFirstChunk < 0) heldAtFirstChunk = process.memoryUsage().arrayBuffers
        }
      }
      const before = process.memoryUsage().arrayBuffers
      await expect(consume()).rejects.toMatchObject({ code: 'ERR_CFS_DECOMPRESS_LIMIT' })
      expect(heldAtFirstChunk - before).toBeLessThan(64 << 20)
    })

    it('does not apply the ratio below RATIO_FLOOR', async () => {
      const small = zlib.gzipSync(Buffer.alloc(1 << 20))
      expect(await collect(decompress(chunks(small, 999), 'layer x', { maxRatio: 2 }))).toHaveLength(1 << 20)
    })

    it.each([['plain', plain], ['gzip', gz], ['zstd', zst]])('stops %s output past maxSize', async (_name, data) => {
      await expect(collect(decompress(chunks(data, 4096), 'layer x', { maxSize: 100000 }))).rejects.toMatchObject({ code: 'ERR_CFS_DECOMPRESS_LIMIT' })
      expect(await collect(decompress(chunks(data, 4096), 'layer x', { maxSize: plain.length }))).toHaveLength(plain.length)
    })
  })
})

