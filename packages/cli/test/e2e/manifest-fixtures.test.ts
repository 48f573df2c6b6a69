/**
 * The composefs reference dumps, parsed by @cfs/dump and encoded as manifests: exact round trips and pinned
 * manifest digests. A change to these digests is a change to the manifest bytes: bump MANIFEST_VERSION.
 */
import * as fs from 'node:fs'
import { fixturePath } from '@cfs/fixtures'
import { encodeDump, parseDump } from '@cfs/dump'
import { decodeManifest, encodeManifest, manifestDigest, MANIFEST_VERSION } from '@cfs/manifest'

const PINNED: Array<[string, string]> = [
  ['composefs/bigfile-xattr.dump', 'sha256:2c6c2f911f4933bff0accd48d67b359e3c65e2fcac828b83fcae73efa49b6578'],
  ['composefs/bigfile.dump', 'sha256:233522e6e365d2e1a17f3b474345cd6bec1aa7c9d593241ff6a5a66a617fb3a7'],
  ['composefs/longlink.dump', 'sha256:ef6d2f2dc62d9da4ddcabff7d5d6598924ccd596f46bc844f4f6c707482f0ffc'],
  ['composefs/special.dump', 'sha256:2943b006d781eae52df2b03ab88c8d801a053584f589a2cf52c58d19c5704535'],
  ['composefs/config.dump.gz', 'sha256:335fa6a86032ab865c8efe440828a9553288d9ea21e9a50a75e4527217523bd1'],
  ['composefs-random/r5000.dump.gz', 'sha256:12cdf591c200c1351b296c16fde5affd07739b25ad49b03a53469a521dea9123'],
  ['composefs-random/r5001.dump.gz', 'sha256:8cfcae758371ba3552085031c8e1d9b02b9e875df77fdb8e5c87f25d1da502bf'],
  ['composefs-random/r5002.dump.gz', 'sha256:bc4b101015a70a115a76e15d54f742b542b8eab163c1d7518f123afa46b84efa'],
  ['composefs-random/r5003.dump.gz', 'sha256:63f0d4951f20a52d34afbd7fc83dd9f8f992db54e2f6d0952834e89c78061abe'],
  ['composefs-random/r5004.dump.gz', 'sha256:12f5e2a38c3b79c7b229d6118e2ebf89348f1e22e85f3cb3b328f12b2ba1a4af'],
]

describe('manifests of the composefs fixture dumps', () => {
  it.each(PINNED)('%s: same tree after a round trip, same bytes, pinned digest', (rel, digest) => {
    const tree = parseDump(fs.readFileSync(fixturePath(rel)), { source: rel })
    const bytes = encodeManifest(tree)
    const back = decodeManifest(bytes)
    expect(encodeDump(back).equals(encodeDump(tree))).toBe(true)
    expect(Buffer.from(encodeManifest(back)).equals(Buffer.from(bytes))).toBe(true)
    expect(MANIFEST_VERSION).toBe(4)
    expect(manifestDigest(bytes)).toBe(digest)
  })
})
