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
  ['composefs-random/r5000.dump.gz', 'sha256:9137f644649a0fc33a8666a234e8f23600f70fda1c0b2a22d1d82ab6fdc2d80e'],
  ['composefs-random/r5001.dump.gz', 'sha256:46807da20aa8fb90c956837fe02851931b9a58b90a66aa0681b03d699762a353'],
  ['composefs-random/r5002.dump.gz', 'sha256:ce51d124d2f49fa5c1b276dc5a0266189ee3b5b0c1cfb7874ca045b95e8411bf'],
  ['composefs-random/r5003.dump.gz', 'sha256:802a425aa9bb4081a3127dbb80dcf8e5f69c557554d41737e7553593d1eafaaa'],
  ['composefs-random/r5004.dump.gz', 'sha256:29d67fbe7374c581ccc67cf18212cab29a9faa723b4a6852ef539c46422d16fd'],
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
