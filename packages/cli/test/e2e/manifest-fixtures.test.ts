/**
 * The composefs reference dumps, parsed by @cfs/dump and encoded as manifests: exact round trips and pinned
 * manifest digests. A change to these digests is a change to the manifest bytes: bump MANIFEST_VERSION.
 */
import * as fs from 'node:fs'
import { fixturePath } from '@cfs/fixtures'
import { encodeDump, parseDump } from '@cfs/dump'
import { decodeManifest, encodeManifest, manifestDigest, MANIFEST_VERSION } from '@cfs/manifest'

const PINNED: Array<[string, string]> = [
  ['composefs/bigfile-xattr.dump', 'sha256:b6da51b48193562621f1878c8612990ea42df50d6d72f2542bceeca3a01bf944'],
  ['composefs/bigfile.dump', 'sha256:bb24b9e07609e524384453e71981cdae743d4b46b8fc63ff1cc0d08ef2dde952'],
  ['composefs/longlink.dump', 'sha256:d1f74eaa4ca0da9589131754c4ad06af93509082b7252fa14a2f57221dc08b3d'],
  ['composefs/special.dump', 'sha256:dd0c59de806577438a5c12705e7827e3b522434c03e57b52b2a6348e2e83fc0e'],
  ['composefs/config.dump.gz', 'sha256:fb4f8636aec84f651fe5304fd94b77554db9fbfb203fecb7f6b24fef79180644'],
  ['composefs-random/r5000.dump.gz', 'sha256:91e093111e6cc27988f112e6dea70b85ff987fcdbf250c8bb77a18eabb9b707b'],
  ['composefs-random/r5001.dump.gz', 'sha256:4a72edc5074c0ac9b6e9959fbb3b3ea91629f370bc03cc4d6588682ede48a42e'],
  ['composefs-random/r5002.dump.gz', 'sha256:2949d39914db284a2549a0f86a9488f1d1e3749fad991c173f09238a7bfdb327'],
  ['composefs-random/r5003.dump.gz', 'sha256:457da1dfd6165a0e0704e8d4bf53434d90c9b17a9a50872c715d8860ff5d59ed'],
  ['composefs-random/r5004.dump.gz', 'sha256:18614a0c403c6b564039e69b1b6f6cba6de085ab418793154a8c02e5c35f361d'],
]

describe('manifests of the composefs fixture dumps', () => {
  it.each(PINNED)('%s: same tree after a round trip, same bytes, pinned digest', (rel, digest) => {
    const tree = parseDump(fs.readFileSync(fixturePath(rel)), { source: rel })
    const bytes = encodeManifest(tree)
    const back = decodeManifest(bytes)
    expect(encodeDump(back).equals(encodeDump(tree))).toBe(true)
    expect(Buffer.from(encodeManifest(back)).equals(Buffer.from(bytes))).toBe(true)
    expect(MANIFEST_VERSION).toBe(2)
    expect(manifestDigest(bytes)).toBe(digest)
  })
})
