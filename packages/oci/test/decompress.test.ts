import { execFileSync } from 'node:child_process'
import * as zlib from 'node:zlib'
import { decompress, detectCompression } from '../src/decompress.js'

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
})
