/**
 * Writes the hostile and broken inputs under fixtures/hostile/ deterministically (fixed mtimes and contents; tar
 * bytes from @cfs/tar's writer, patched by hand where a header must be wrong; gzip from node:zlib, zstd from the
 * zstd CLI). Run from the repository root:
 *
 *   pnpm exec tsx scripts/make-hostile-fixtures.ts
 *
 * What each input must give is asserted in packages/cli/test/e2e/hostile.test.ts and listed in docs/SECURITY.md.
 */
import { execFileSync } from 'node:child_process'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import * as zlib from 'node:zlib'
import { encodeEntry, encodeTar, headerChecksum, type TarEntryInput } from '../packages/tar/src/index.js'
import { BLOCK_SIZE, CHECKSUM_OFFSET, SIZE_OFFSET } from '../packages/tar/src/header.js'
import { archiveOf } from './archive-of.js'

const OUT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', 'fixtures', 'hostile')
const T = 1700000000

const file = (p: string, content: string, extra: Partial<TarEntryInput> = {}): TarEntryInput =>
  ({ path: p, type: 'file', mode: 0o644, mtimeSec: T, content: Buffer.from(content), ...extra })
const dir = (p: string, extra: Partial<TarEntryInput> = {}): TarEntryInput => ({ path: p, type: 'dir', mode: 0o755, mtimeSec: T, ...extra })
const symlink = (p: string, target: string): TarEntryInput => ({ path: p, type: 'symlink', mode: 0o777, mtimeSec: T, linkname: target })
const hardlink = (p: string, target: string): TarEntryInput => ({ path: p, type: 'hardlink', mode: 0o644, mtimeSec: T, linkname: target })
/** an entry whose path goes in a PAX record, so it may hold any byte (a ustar name cannot hold NUL) */
const paxPath = (e: TarEntryInput, p: string): TarEntryInput => ({ ...e, pax: [['path', Buffer.from(p, 'latin1')]] })

function gzip (data: Buffer): Buffer { return zlib.gzipSync(data, { level: 9 }) }
function zstd (data: Buffer): Buffer {
  return execFileSync('zstd', ['-19', '-q', '-c', '--no-check'], { input: data, maxBuffer: 1 << 30 })
}
const sha = (b: Buffer): string => crypto.createHash('sha256').update(b).digest('hex')

/** Overwrites `bytes` at `off` in the header block starting at `block`, then fixes the checksum unless told not to. */
function patchHeader (tar: Buffer, block: number, off: number, bytes: Buffer, fixChecksum = true): Buffer {
  const out = Buffer.from(tar)
  bytes.copy(out, block + off)
  if (fixChecksum) {
    const h = out.subarray(block, block + BLOCK_SIZE)
    h.write(headerChecksum(h).toString(8).padStart(6, '0') + '\0 ', CHECKSUM_OFFSET, 8, 'latin1')
  }
  return out
}

// ---- OCI archives -------------------------------------------------------------------------------------------

interface Blob { digest: string, bytes: Buffer, mediaType: string }
function blob (bytes: Buffer, mediaType: string): Blob { return { digest: `sha256:${sha(bytes)}`, bytes, mediaType } }
function json (v: unknown): Buffer { return Buffer.from(JSON.stringify(v)) }
function descriptor (b: Blob): Record<string, unknown> { return { mediaType: b.mediaType, digest: b.digest, size: b.bytes.length } }

function ociImage (layers: Buffer[]): { manifest: Blob, blobs: Blob[] } {
  const layerBlobs = layers.map(tar => blob(tar, 'application/vnd.oci.image.layer.v1.tar'))
  const cfg = blob(json({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: layers.map(t => `sha256:${sha(t)}`) } }),
    'application/vnd.oci.image.config.v1+json')
  const manifest = blob(json({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: descriptor(cfg), layers: layerBlobs.map(descriptor) }),
    'application/vnd.oci.image.manifest.v1+json')
  return { manifest, blobs: [cfg, ...layerBlobs, manifest] }
}

function ociFiles (index: unknown, blobs: Blob[]): Array<[string, Buffer]> {
  return [['oci-layout', json({ imageLayoutVersion: '1.0.0' })], ...blobs.map((b): [string, Buffer] => [`blobs/sha256/${b.digest.slice(7)}`, b.bytes]),
    ['index.json', Buffer.isBuffer(index) ? index : json(index)]]
}

const indexOf = (m: Blob): unknown => ({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [descriptor(m)] })

function main (): void {
  fs.mkdirSync(OUT, { recursive: true })
  for (const name of fs.readdirSync(OUT)) if (name !== 'README.md') fs.rmSync(path.join(OUT, name), { recursive: true })
  const write = (name: string, data: Buffer): void => { fs.writeFileSync(path.join(OUT, name), data) }
  const tar = (name: string, entries: TarEntryInput[]): Buffer => { const t = encodeTar(entries); write(name, t); return t }

  // ---- paths ----
  tar('dotdot.tar', [file('ok', 'fine'), file('../sentinel/pwned', 'evil')])
  tar('dotdot-inner.tar', [file('ok', 'fine'), file('a/b/../../../sentinel/pwned', 'evil')])
  tar('absolute.tar', [file('/etc/cfs-pwned', 'absolute'), dir('/abs/'), file('//abs//./x', 'slashes')])
  tar('name-nul.tar', [file('ok', 'fine'), paxPath(file('x', 'nul'), 'a\0b')])
  tar('name-too-long.tar', [file('ok', 'fine'), file('d/' + 'n'.repeat(256), 'long name')])
  tar('name-255.tar', [file('d/' + 'n'.repeat(255), 'longest name')])
  const deep = Array.from({ length: 21 }, (_, i) => String(i).padStart(2, '0') + 'x'.repeat(198)).join('/')
  tar('path-too-long.tar', [file('ok', 'fine'), file(deep, 'deep')]) // 21 × 201 - 1 = 4220 bytes
  tar('root-as-file.tar', [file('./', 'not a directory')])

  // ---- links ----
  tar('hardlink-dotdot.tar', [file('ok', 'fine'), hardlink('h', '../../etc/passwd')])
  tar('hardlink-outside.tar', [file('ok', 'fine'), hardlink('h', '/etc/shadow')])
  tar('hardlink-absolute.tar', [dir('etc'), file('etc/passwd', 'image passwd'), hardlink('h', '/etc/passwd')])
  tar('hardlink-to-dir.tar', [dir('d'), hardlink('h', 'd')])
  tar('symlink-parent-escape-hardlink.tar', [symlink('a', '/etc'), hardlink('h', 'a/passwd')]) // the image has no /etc/passwd
  tar('symlink-targets.tar', [symlink('abs', '/etc/passwd'), symlink('up', '../../../../etc/shadow'), symlink('self', 'self')])
  tar('symlink-parent.tar', [
    dir('etc'), file('etc/passwd', 'image passwd'),
    symlink('a', '/etc'), file('a/passwd', 'written through a'), // lands on the image's /etc/passwd
    symlink('b', '../../../../sentinel'), file('b/pwned', 'clamped'), // '..' stops at the image root: /sentinel/pwned
    symlink('c', '/tmp'), hardlink('c/h', 'a/passwd'), // a hardlink through symlinked parents, both sides inside
  ])
  tar('symlink-loop.tar', [symlink('l1', 'l2'), symlink('l2', 'l1'), file('l1/x', 'loop')])
  tar('symlink-self-loop.tar', [symlink('s', 's'), file('s/x', 'loop')])
  // short entry paths that symlinked parents take 2100 directories deep (past what a 4096-byte path can name)
  tar('symlink-deep.tar', [symlink('l', Array<string>(2000).fill('d').join('/')), symlink('l/m', Array<string>(100).fill('e').join('/')), file('l/m/x', 'deep')])

  // ---- layer semantics ----
  tar('duplicates.tar', [
    file('f', 'first'), file('f', 'second'),
    dir('d', { mode: 0o700 }), file('d/kept', 'kept'), dir('d', { mode: 0o750 }),
  ])
  tar('file-dir-file.tar', [file('x', 'file'), dir('x'), file('x/child', 'child'), file('x', 'file again'), dir('y'), file('y/c', 'c'), file('y', 'y is a file'), dir('y')])
  tar('whiteout-missing.tar', [file('ok', 'fine'), file('.wh.nothing', ''), file('d/.wh.nothing', ''), file('.wh.ok/.wh.x', '')])
  tar('whiteout-root.tar', [dir('etc'), file('etc/passwd', 'kept'), file('.wh..', ''), file('.wh...', ''), file('.wh.', ''), file('etc/.wh..', ''), file('.wh..wh..opq', ''), file('/.wh..wh..opq', '')])

  // the same across layers of one image: a file becomes a directory and a file again, root whiteouts are ignored
  const layers = ociImage([
    encodeTar([dir('etc'), file('etc/passwd', 'one'), file('x', 'x1'), file('keep', 'keep')]),
    encodeTar([file('.wh..', ''), file('.wh...', ''), file('.wh.', ''), file('etc/.wh..', ''), dir('x'), file('x/child', 'child')]),
    encodeTar([file('x', 'x3')]),
  ])
  write('layers.oci.tar', archiveOf(ociFiles(indexOf(layers.manifest), layers.blobs)))

  // ---- tar framing ----
  const small = encodeTar([file('a', 'x'.repeat(1000)), file('b', 'bbb')])
  write('truncated-body.tar', small.subarray(0, BLOCK_SIZE + 700))
  write('truncated-header.tar', small.subarray(0, BLOCK_SIZE + 1024 + 200))
  write('bad-checksum.tar', patchHeader(small, 0, 0, Buffer.from('A'), false))
  const one = encodeTar([file('f', 'content')])
  const size = (field: Buffer): Buffer => patchHeader(one, 0, SIZE_OFFSET, field)
  write('size-negative.tar', size(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00]))) // base-256 -256
  write('size-huge.tar', size(Buffer.from([0x80, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]))) // base-256 2^56
  write('size-not-octal.tar', size(Buffer.from('0000000009a\0', 'latin1')))
  write('size-8g.tar', size(Buffer.from('77777777777\0', 'latin1'))) // 8 GiB - 1 announced, 512 bytes there
  write('pax-size-huge.tar', encodeTar([file('f', 'x', { pax: [['size', '99999999999999999999']] })]))
  write('pax-size-negative.tar', encodeTar([file('f', 'x', { pax: [['size', '-5']] })]))
  write('type-sparse.tar', patchHeader(one, 0, 156, Buffer.from('S')))
  write('empty.tar', Buffer.alloc(0))
  // a PAX record past the 1 MiB limit, gzip'd to keep the fixture small
  write('pax-too-big.tar.gz', gzip(encodeTar([file('f', 'x', { pax: [['comment', 'c'.repeat((1 << 20) + 1)]] })])))
  tar('xattr-key-too-long.tar', [file('f', 'x', { xattrs: [{ key: 'user.' + 'k'.repeat(300), value: Buffer.from('v') }] })])
  write('uid-negative.tar', patchHeader(one, 0, 108, Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe])))

  // ---- compression ----
  const layer = encodeTar([dir('etc'), file('etc/os-release', 'ID=hostile\n'.repeat(50)), file('big', crypto.createHash('sha512').update('seed').digest('hex').repeat(64))])
  const gz = gzip(layer)
  write('truncated.tar.gz', gz.subarray(0, Math.floor(gz.length / 2)))
  const gzBad = Buffer.from(gz); gzBad[gzBad.length - 6] = gzBad[gzBad.length - 6]! ^ 0xff // inside the CRC32 trailer
  write('corrupt-crc.tar.gz', gzBad)
  const gzData = Buffer.from(gz); for (let i = 20; i < 60; i++) gzData[i] = 0xff // the deflate stream itself
  write('corrupt-data.tar.gz', gzData)
  const zs = zstd(layer)
  write('truncated.tar.zst', zs.subarray(0, Math.floor(zs.length / 2)))
  const zsBad = Buffer.from(zs); for (let i = 12; i < 40; i++) zsBad[i] = 0xff
  write('corrupt.tar.zst', zsBad)
  // bombs: one file of zeros, 64 MiB behind ~64 KiB of gzip, 256 MiB behind a few KiB of zstd
  const bomb = (n: number): Buffer => Buffer.concat([encodeEntry({ path: 'zeros', type: 'file', mode: 0o644, mtimeSec: T, content: Buffer.alloc(n) }), Buffer.alloc(2 * BLOCK_SIZE)])
  write('bomb.tar.gz', gzip(bomb(64 << 20)))
  write('bomb.tar.zst', zstd(bomb(256 << 20)))
  // an archive is spooled to the store's tmp/ before it is read: the spool is bounded too
  write('bomb-archive.tar.gz', gzip(archiveOf([['manifest.json', json([])], ['blobs/zeros', Buffer.alloc(64 << 20)]])))

  // ---- archives ----
  const good = encodeTar([file('hello', 'hello')])
  const img = ociImage([good])
  const layerBlob = img.blobs[1]!
  const flipped = Buffer.from(good); flipped[good.length - 1] = 1 // in the end blocks: the tar still reads, the digest differs
  write('blob-digest-mismatch.tar', archiveOf(ociFiles(indexOf(img.manifest), img.blobs).map(([n, b]): [string, Buffer] =>
    n === `blobs/sha256/${layerBlob.digest.slice(7)}` ? [n, flipped] : [n, b])))
  write('index-json-malformed.tar', archiveOf(ociFiles(Buffer.from('{"schemaVersion": 2, "manifests": ['), img.blobs)))
  write('index-json-wrong-shape.tar', archiveOf(ociFiles({ schemaVersion: 2, manifests: 'nope' }, img.blobs)))
  write('index-missing-blob.tar', archiveOf(ociFiles(indexOf(img.manifest), img.blobs.filter(b => b !== img.manifest))))
  write('index-digest-traversal.tar', archiveOf(ociFiles({ schemaVersion: 2, manifests: [{ ...descriptor(img.manifest), digest: 'sha256:../../../../etc/passwd' }] }, img.blobs)))
  const cfg = json({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [`sha256:${sha(good)}`] } })
  const cfgName = `${sha(cfg)}.json`
  const docker = (manifest: Buffer, withLayer = true): Buffer => archiveOf([
    [cfgName, cfg], ...(withLayer ? [['l1/layer.tar', good] as [string, Buffer]] : []), ['manifest.json', manifest]])
  write('manifest-json-malformed.tar', docker(Buffer.from('[{"Config": ')))
  write('manifest-json-wrong-shape.tar', docker(json({ Config: 5 })))
  write('manifest-missing-blob.tar', docker(json([{ Config: cfgName, Layers: ['l1/layer.tar'] }]), false))
  write('manifest-traversal.tar', docker(json([{ Config: cfgName, Layers: ['../../../../etc/passwd'] }])))
  // an OCI layout directory whose index names a blob by a digest that would walk out of blobs/
  const layoutDir = path.join(OUT, 'layout-traversal')
  for (const [n, b] of ociFiles({ schemaVersion: 2, manifests: [{ ...descriptor(img.manifest), digest: 'sha256:../../../sentinel/x' }] }, img.blobs)) {
    fs.mkdirSync(path.join(layoutDir, path.dirname(n)), { recursive: true })
    fs.writeFileSync(path.join(layoutDir, n), b)
  }
  console.log(`wrote ${fs.readdirSync(OUT).length} fixtures to ${OUT}`)
}

main()
