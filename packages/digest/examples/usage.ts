import { digestFromBytes, FsVerityHasher, fsverityDigest, parseDigest, sha256 } from '@cfs/digest'

const data = Buffer.alloc(10_000, 'x')
const whole = fsverityDigest(data)                                          // 32 bytes: what `fsverity digest` prints
const streamed = new FsVerityHasher().update(data.subarray(0, 4000)).update(data.subarray(4000)).digest()
console.log(whole.equals(streamed), digestFromBytes(whole))               // true sha256:…
console.log(sha256(Buffer.from('hello\n')))                                 // sha256:5891b5b5…
console.log(parseDigest('sha256:' + 'ab'.repeat(32)))                      // throws ERR_CFS_DIGEST_BAD on anything else
