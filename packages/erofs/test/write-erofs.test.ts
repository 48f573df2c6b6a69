import { createHash } from 'node:crypto'
import { erofsImageDigest, writeErofs } from '../src/index.js'
import { ex1, ex2 } from './examples.js'

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')

describe('writeErofs on the spec examples', () => {
  it('writes ex1 byte-identical to mkcomposefs, with and without version options', () => {
    for (const opts of [{}, { minVersion: 0, maxVersion: 0 }]) {
      const image = writeErofs(ex1(), opts)
      expect(image.length).toBe(16384)
      expect(sha256(image)).toBe('c9200a1e1496986ade4ad1d9c633fb2339ff8dd617f344dd3df5c66ee7d44775')
      expect(erofsImageDigest(image)).toBe('c886928e7bd1966bf83d3852360a1e50fcbd8d9ecd12884f81e3b6e49d85c064')
    }
  })

  it('writes ex2 as version 1 by default because it has a whiteout', () => {
    const { manifest } = ex2()
    const image = writeErofs(manifest)
    expect(image.length).toBe(24576)
    expect(Buffer.from(image).readUInt32LE(12)).toBe(1)
    expect(sha256(image)).toBe('98ca8df09d797b338bacc051286458f4543b2fe34ccb71a3975988aa361d594f')
    expect(erofsImageDigest(image)).toBe('dcf755909bcfc7489813f43451710c2202e0c7c07e51384b4328857e900081de')
  })

  it('writes ex2 as version 0 when the maximum version is 0', () => {
    const image = writeErofs(ex2().manifest, { minVersion: 0, maxVersion: 0 })
    expect(image.length).toBe(24576)
    expect(sha256(image)).toBe('eeec54af7b10a575ffb123323575301ed533f5ca358a3240130ea98215d23f91')
    expect(erofsImageDigest(image)).toBe('da06a3e5ecf6c5e18ba56603a1d67c9e77a9f2ba4757cdc68f02ab37be447d09')
  })

  it('does not modify the manifest it writes', () => {
    const { manifest } = ex2()
    const before = JSON.stringify(manifest, (_k, v: unknown) => v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v)
    writeErofs(manifest)
    expect(JSON.stringify(manifest, (_k, v: unknown) => v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v)).toBe(before)
  })
})
