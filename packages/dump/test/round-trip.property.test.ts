import fc from 'fast-check'
import { decodeManifest, encodeManifest, numberInodes, walkDepthFirst, type Manifest } from '@cfs/manifest'
import { escapeOptional, escapePath, escapeXattr, unescapeField } from '../src/escape.js'
import { parseDump } from '../src/parse-dump.js'
import { defaultFormatVersion, encodeDump } from '../src/write-dump.js'
import { byteString, randomManifest } from './random-tree.js'

describe('dump round trip on random trees', () => {
  it('decodes every escaped field back to its bytes', () => {
    fc.assert(fc.property(byteString(0, 64), (s) => {
      for (const e of [escapePath(s), escapeXattr(s)]) {
        expect(e).toMatch(/^[\x21-\x7e]*$/)
        expect(unescapeField(e)).toBe(s)
      }
      expect(escapeXattr(s)).not.toContain('=')
      const optional = escapeOptional(s)
      expect(optional === '-' ? undefined : unescapeField(optional)).toBe(s)
    }))
  })

  it('writes a dump that reads back to the same canonical dump, also through the manifest codec', () => {
    fc.assert(fc.property(randomManifest(), (m) => {
      const version = defaultFormatVersion(m)
      const first = encodeDump(m, { version })
      const again = parseDump(first)
      expect(encodeDump(again, { version }).toString('latin1')).toBe(first.toString('latin1'))
      expect(encodeDump(decodeManifest(encodeManifest(m)), { version }).equals(first)).toBe(true)
      // same paths, owners, times and hardlink groups
      const facts = (t: Manifest): string[] => {
        const out: string[] = []
        walkDepthFirst(t, (path, node) => { out.push(`${path} ${node.inode.uid} ${node.inode.gid} ${node.inode.mtimeSec}.${node.inode.mtimeNsec}`) })
        return out
      }
      expect(facts(again)).toEqual(facts(m))
      expect(numberInodes(again).size).toBe(numberInodes(m).size)
    }), { numRuns: 150 })
  })
})
