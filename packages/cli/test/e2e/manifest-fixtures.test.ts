/**
 * The composefs reference dumps, parsed by @cfs/dump and encoded as manifests: exact round trips and pinned
 * manifest digests. A change to these digests is a change to the manifest bytes: bump MANIFEST_VERSION.
 */
import * as fs from 'node:fs'
import { fixturePath } from '@cfs/fixtures'
import { encodeDump, parseDump } from '@cfs/dump'
import { decodeManifest, encodeManifest, manifestDigest, MANIFEST_VERSION } from '@cfs/manifest'

const PINNED: Array<[string, string]> = [
  ['composefs/bigfile-xattr.dump', 'sha256:cdb195aa55629a2ad16d8be0036f338c25101cfd8df5789140a97ee7ef025f04'],
  ['composefs/bigfile.dump', 'sha256:7b3b98ef2fd23c1bad8e020ae10a630179d771752657e037b778571cf771a634'],
  ['composefs/longlink.dump', 'sha256:1b5b79ddaf0b5c0187e60d5d511421673c295e67aaf7640caf1d8cd726a4bfd0'],
  ['composefs/special.dump', 'sha256:b521257ce99ee968d915657c973dc93f5f033afe23a9cb0eaeafe06111a42f53'],
  ['composefs/config.dump.gz', 'sha256:a295d940645fce704993bb871aeba36469f75dc52b94777b0b2e5a6901c90f9a'],
  ['composefs-random/r5000.dump.gz', 'sha256:3ccf1bc55ac0e359743dbc73b4ce1fc1a02bb9c34a8e228fae73c3f829c38e1c'],
  ['composefs-random/r5001.dump.gz', 'sha256:1750a7da7f7ff935c66e1fda248f102a20b052b9171abec058451f45abd86866'],
  ['composefs-random/r5002.dump.gz', 'sha256:af77f40cc9ee88faee7fa752d6e96156033202d5fc24e68644a6637efcdd5902'],
  ['composefs-random/r5003.dump.gz', 'sha256:afa2d7eee872ae78c4b0684d23a82641b125fad1ce0d7a87273df4aa997deacb'],
  ['composefs-random/r5004.dump.gz', 'sha256:e692e9d04a4e346fc3830ccd2ebd2457b52e99fa530ed2c806c6f57471fcb512'],
]

describe('manifests of the composefs fixture dumps', () => {
  it.each(PINNED)('%s: same tree after a round trip, same bytes, pinned digest', (rel, digest) => {
    const tree = parseDump(fs.readFileSync(fixturePath(rel)), { source: rel })
    const bytes = encodeManifest(tree)
    const back = decodeManifest(bytes)
    expect(encodeDump(back).equals(encodeDump(tree))).toBe(true)
    expect(Buffer.from(encodeManifest(back)).equals(Buffer.from(bytes))).toBe(true)
    expect(MANIFEST_VERSION).toBe(3)
    expect(manifestDigest(bytes)).toBe(digest)
  })
})
