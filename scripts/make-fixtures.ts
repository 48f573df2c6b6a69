/**
 * Writes the image fixtures under fixtures/images/ deterministically (fixed mtimes, owners and contents; the tar
 * bytes come from @cfs/tar's writer, gzip from node:zlib, zstd from the zstd CLI). Run from the repository root:
 *
 *   pnpm exec tsx scripts/make-fixtures.ts
 *
 * Each image gets `<name>.expected.json`: the flattened tree an image build must give, written from the
 * specifications below (what each layer says, and by hand what later layers remove), not from cfs's own output.
 */
import { execFileSync } from 'node:child_process'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import * as zlib from 'node:zlib'
import { encodeTar, type TarEntryInput } from '../packages/tar/src/index.js'
import { archiveOf } from './archive-of.js'

const OUT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', 'fixtures', 'images')
const T = 1700000000

/** One path of an image as a layer states it; `path` has no leading or trailing '/'. */
interface Spec {
  path: string
  type: 'file' | 'dir' | 'symlink' | 'hardlink' | 'chardev' | 'blockdev' | 'fifo'
  mode?: number
  uid?: number
  gid?: number
  mtimeSec?: number
  mtimeNsec?: number
  content?: Buffer
  linkname?: string
  devmajor?: number
  devminor?: number
  xattrs?: Array<{ key: string, value: Buffer }>
  longNames?: 'pax' | 'gnu'
  /** how the path is spelled in the tar (default: as is, directories with a trailing '/') */
  tarPath?: string
}

function bytes (n: number, seed: number): Buffer {
  const b = Buffer.alloc(n)
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 7 + (i >> 8)) & 0xff
  return b
}

const CAP = Buffer.from('0100000200200000000000000000000000000000', 'hex') // security.capability v2, cap_net_bind_service
const LONG_DIR = 'long/' + 'd'.repeat(90)
const LONG_FILE = `${LONG_DIR}/${'f'.repeat(60)}`
const GNU_FILE = `long/${'g'.repeat(130)}`
const LONG_TARGET = '../' + 't'.repeat(140)

/** The base layer: every kind of entry and every header feature. Names start with './' as `tar -C dir .` writes. */
const BASE: Spec[] = [
  { path: '', type: 'dir', mode: 0o755, mtimeSec: T, tarPath: './' },
  { path: 'etc', type: 'dir', mode: 0o755, mtimeSec: T },
  { path: 'etc/passwd', type: 'file', mode: 0o644, mtimeSec: T, content: Buffer.from('root:x:0:0:root:/root:/bin/sh\n') },
  { path: 'etc/big', type: 'file', mode: 0o640, uid: 0, gid: 42, mtimeSec: T, content: bytes(5000, 1) },
  { path: 'etc/empty', type: 'file', mode: 0o600, mtimeSec: T, content: Buffer.alloc(0) },
  { path: 'etc/exactly64', type: 'file', mode: 0o644, mtimeSec: T, content: bytes(64, 2) },
  { path: 'etc/exactly65', type: 'file', mode: 0o644, mtimeSec: T, content: bytes(65, 3) },
  { path: 'bin', type: 'dir', mode: 0o755, mtimeSec: T },
  { path: 'bin/tool', type: 'file', mode: 0o4755, mtimeSec: T, content: bytes(200, 4), xattrs: [{ key: 'security.capability', value: CAP }] },
  { path: 'bin/link', type: 'hardlink', linkname: 'bin/tool', tarPath: './bin/link' },
  { path: 'usr', type: 'dir', mode: 0o2775, gid: 50, mtimeSec: T },
  { path: 'usr/share', type: 'dir', mode: 0o755, mtimeSec: T - 1, mtimeNsec: 999999999 },
  { path: 'usr/share/nano', type: 'file', mode: 0o644, mtimeSec: T, mtimeNsec: 123456789, content: bytes(100, 5) },
  { path: 'usr/share/labeled', type: 'file', mode: 0o644, mtimeSec: T, content: Buffer.from('x'), xattrs: [{ key: 'security.selinux', value: Buffer.from('system_u:object_r:etc_t:s0\0') }, { key: 'user.bin', value: Buffer.from([0, 1, 2, 0xff]) }] },
  { path: 'tmp', type: 'dir', mode: 0o1777, mtimeSec: T },
  { path: 'dev', type: 'dir', mode: 0o755, mtimeSec: T },
  { path: 'dev/null', type: 'chardev', mode: 0o666, mtimeSec: T, devmajor: 1, devminor: 3 },
  { path: 'dev/sda', type: 'blockdev', mode: 0o660, gid: 6, mtimeSec: T, devmajor: 8, devminor: 0 },
  { path: 'dev/big', type: 'chardev', mode: 0o600, mtimeSec: T, devmajor: 300, devminor: 70000 },
  { path: 'dev/fifo', type: 'fifo', mode: 0o644, mtimeSec: T },
  { path: 'lnk', type: 'symlink', mode: 0o777, mtimeSec: T, linkname: 'etc/passwd' },
  { path: 'long', type: 'dir', mode: 0o755, mtimeSec: T },
  { path: LONG_DIR, type: 'dir', mode: 0o755, mtimeSec: T },
  { path: LONG_FILE, type: 'file', mode: 0o644, mtimeSec: T, content: bytes(300, 6) },
  { path: GNU_FILE, type: 'file', mode: 0o644, mtimeSec: T, content: bytes(70, 7), longNames: 'gnu' },
  { path: 'long/sym', type: 'symlink', mode: 0o777, mtimeSec: T, linkname: LONG_TARGET, longNames: 'gnu' },
  { path: 'long/paxsym', type: 'symlink', mode: 0o777, mtimeSec: T, linkname: LONG_TARGET + '/pax' },
  { path: 'bytes-\xff\xfe-name', type: 'file', mode: 0o644, mtimeSec: T, content: bytes(80, 8) },
  { path: 'owner', type: 'file', mode: 0o600, uid: 100000, gid: 200000, mtimeSec: T, content: Buffer.from('big ids') },
  { path: 'old', type: 'file', mode: 0o644, mtimeSec: -10, mtimeNsec: 500000000, content: Buffer.from('before 1970') },
  { path: 'abs', type: 'dir', mode: 0o755, mtimeSec: T, tarPath: '/abs/' },
  { path: 'abs/file', type: 'file', mode: 0o644, mtimeSec: T, content: Buffer.from('absolute'), tarPath: '/abs/./file' },
  { path: 'opq', type: 'dir', mode: 0o755, mtimeSec: T },
  { path: 'opq/a', type: 'file', mode: 0o644, mtimeSec: T, content: Buffer.from('a') },
  { path: 'opq/sub', type: 'dir', mode: 0o755, mtimeSec: T },
  { path: 'opq/sub/deep', type: 'file', mode: 0o644, mtimeSec: T, content: Buffer.from('deep') },
  { path: 'gone', type: 'file', mode: 0o644, mtimeSec: T, content: bytes(100, 9) },
  { path: 'replace-me', type: 'file', mode: 0o644, mtimeSec: T, content: Buffer.from('old') },
  { path: 'to-dir', type: 'file', mode: 0o644, mtimeSec: T, content: Buffer.from('was a file') },
  { path: 'to-file', type: 'dir', mode: 0o755, mtimeSec: T },
  { path: 'to-file/child', type: 'file', mode: 0o644, mtimeSec: T, content: Buffer.from('child') },
  { path: 'wh', type: 'dir', mode: 0o755, mtimeSec: T },
  { path: 'wh/keep', type: 'file', mode: 0o644, mtimeSec: T, content: Buffer.from('keep') },
  { path: 'wh/del', type: 'file', mode: 0o644, mtimeSec: T, content: Buffer.from('del') },
  { path: 'implicit/parent/file', type: 'file', mode: 0o644, mtimeSec: T, content: Buffer.from('no parent entries') },
]

/** The upper layer: whiteouts, opaque directories, replacements and a hardlink into the base layer. */
const UPPER: Spec[] = [
  { path: 'opq', type: 'dir', mode: 0o700, mtimeSec: T + 1 },
  { path: 'opq/.wh..wh..opq', type: 'file', mode: 0o644, mtimeSec: T + 1, content: Buffer.alloc(0) },
  { path: 'opq/new', type: 'file', mode: 0o644, mtimeSec: T + 1, content: Buffer.from('new') },
  { path: '.wh.gone', type: 'file', mode: 0o644, mtimeSec: T + 1, content: Buffer.alloc(0) },
  { path: '.wh.never-existed', type: 'file', mode: 0o644, mtimeSec: T + 1, content: Buffer.alloc(0) },
  { path: 'wh/.wh.del', type: 'file', mode: 0o644, mtimeSec: T + 1, content: Buffer.alloc(0) },
  { path: 'replace-me', type: 'file', mode: 0o600, uid: 7, gid: 8, mtimeSec: T + 1, content: bytes(150, 10) },
  { path: 'to-dir', type: 'dir', mode: 0o750, mtimeSec: T + 1 },
  { path: 'to-dir/x', type: 'file', mode: 0o644, mtimeSec: T + 1, content: Buffer.from('x') },
  { path: 'to-file', type: 'file', mode: 0o644, mtimeSec: T + 1, content: Buffer.from('now a file') },
  { path: 'etc/passwd', type: 'file', mode: 0o600, uid: 1, gid: 2, mtimeSec: T + 1, content: Buffer.from('root:x:0:0::/root:/bin/bash\n') },
  { path: 'b-link', type: 'hardlink', linkname: 'etc/big' },
  { path: 'etc/big-link2', type: 'hardlink', linkname: 'etc/big' },
]
/** What UPPER removes or replaces from BASE, written by hand from the OCI rules. */
const REMOVED_BY_UPPER = new Set(['opq', 'opq/a', 'opq/sub', 'opq/sub/deep', 'gone', 'wh/del', 'replace-me', 'to-dir', 'to-file', 'to-file/child', 'etc/passwd'])

/** The arm64 image of the multi-platform index. */
const ARM: Spec[] = [
  { path: 'arch', type: 'file', mode: 0o644, mtimeSec: T, content: Buffer.from('arm64\n') },
  { path: 'etc', type: 'dir', mode: 0o755, mtimeSec: T },
  { path: 'etc/os-release', type: 'file', mode: 0o644, mtimeSec: T, content: bytes(120, 11) },
]

// ---- layers --------------------------------------------------------------------------------------------------

function tarEntry (s: Spec): TarEntryInput {
  const tarPath = s.tarPath ?? (s.type === 'dir' ? s.path + '/' : s.path)
  return {
    path: tarPath,
    type: s.type,
    mode: s.mode ?? (s.type === 'hardlink' ? 0o644 : 0),
    uid: s.uid ?? 0,
    gid: s.gid ?? 0,
    mtimeSec: s.mtimeSec ?? T,
    mtimeNsec: s.mtimeNsec ?? 0,
    uname: '',
    gname: '',
    ...(s.linkname !== undefined ? { linkname: s.linkname } : {}),
    ...(s.devmajor !== undefined ? { devmajor: s.devmajor, devminor: s.devminor ?? 0 } : {}),
    ...(s.xattrs !== undefined ? { xattrs: s.xattrs } : {}),
    ...(s.content !== undefined ? { content: s.content } : {}),
    ...(s.longNames !== undefined ? { longNames: s.longNames } : {}),
  }
}

function layerTar (specs: Spec[]): Buffer { return encodeTar(specs.map(tarEntry)) }

function gzip (data: Buffer): Buffer { return zlib.gzipSync(data, { level: 9 }) }

function zstd (data: Buffer): Buffer {
  return execFileSync('zstd', ['-q', '-19', '--no-check', '-c'], { input: data, maxBuffer: 1 << 26 })
}

const sha = (b: Buffer): string => crypto.createHash('sha256').update(b).digest('hex')

// ---- expected trees ------------------------------------------------------------------------------------------

const TYPE_BITS = { file: 0o100000, dir: 0o040000, symlink: 0o120000, chardev: 0o020000, blockdev: 0o060000, fifo: 0o010000 } as const

/** The flattened form tests compare against (see packages/build/test/flatten.ts). Paths are byte strings. */
interface Flat {
  type: string
  mode: string
  uid: number
  gid: number
  mtime: string
  size: number
  nlink?: number
  rdev?: number
  target?: string
  sha256?: string
  xattrs?: Record<string, string>
}

function flatOf (s: Spec): Flat {
  if (s.type === 'hardlink') throw new Error('flatOf(hardlink)')
  const nsec = s.mtimeNsec ?? 0
  const f: Flat = {
    type: s.type,
    mode: ((TYPE_BITS[s.type] | (s.mode ?? 0)) >>> 0).toString(8),
    uid: s.uid ?? 0,
    gid: s.gid ?? 0,
    mtime: `${s.mtimeSec ?? T}.${String(nsec).padStart(9, '0')}`,
    size: s.type === 'file' ? s.content!.length : s.type === 'symlink' ? s.linkname!.length : 0,
  }
  if (s.type !== 'dir') f.nlink = 1
  if (s.type === 'chardev' || s.type === 'blockdev') {
    const ma = s.devmajor ?? 0
    const mi = s.devminor ?? 0
    f.rdev = ((mi & 0xff) | ((ma & 0xfff) << 8) | ((mi & ~0xff) << 12)) >>> 0
  }
  if (s.type === 'symlink') f.target = s.linkname!
  if (s.type === 'file') f.sha256 = sha(s.content!)
  if (s.xattrs !== undefined) f.xattrs = Object.fromEntries([...s.xattrs].sort((a, b) => a.key < b.key ? -1 : 1).map(x => [x.key, x.value.toString('hex')]))
  return f
}

interface Expected { entries: Record<string, Flat>, hardlinks: string[][] }

/** Applies `specs` in order the simple way: later wins; hardlinks join the group of their target. */
function expectTree (specs: Spec[]): Expected {
  const entries = new Map<string, Flat>()
  const groups = new Map<string, string[]>()
  const implicit = (p: string): void => {
    const parts = p.split('/')
    for (let i = 1; i < parts.length; i++) {
      const dir = '/' + parts.slice(0, i).join('/')
      if (!entries.has(dir)) entries.set(dir, { type: 'dir', mode: '40755', uid: 0, gid: 0, mtime: '0.000000000', size: 0 })
    }
  }
  if (!entries.has('/')) entries.set('/', { type: 'dir', mode: '40755', uid: 0, gid: 0, mtime: '0.000000000', size: 0 })
  for (const s of specs) {
    if (s.path.split('/').some(p => p.startsWith('.wh.'))) continue
    const p = '/' + s.path
    implicit(s.path)
    if (s.type === 'hardlink') {
      const target = '/' + s.linkname!
      const group = groups.get(target) ?? [target]
      group.push(p)
      for (const m of group) groups.set(m, group)
      entries.set(p, entries.get(target)!)
      continue
    }
    entries.set(p === '//' ? '/' : p.replace(/\/$/, '') || '/', flatOf(s))
  }
  const hardlinks = [...new Set(groups.values())].map(g => g.sort())
  for (const g of hardlinks) {
    const shared = { ...entries.get(g[0]!)!, nlink: g.length }
    for (const m of g) entries.set(m, shared)
  }
  const sorted = Object.fromEntries([...entries].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0))
  return { entries: sorted, hardlinks: hardlinks.sort((a, b) => a[0]! < b[0]! ? -1 : 1) }
}

// ---- image formats -------------------------------------------------------------------------------------------

interface Blob { digest: string, bytes: Buffer, mediaType: string }

function blob (bytes: Buffer, mediaType: string): Blob { return { digest: `sha256:${sha(bytes)}`, bytes, mediaType } }
function json (v: unknown): Buffer { return Buffer.from(JSON.stringify(v)) }
function descriptor (b: Blob, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { mediaType: b.mediaType, digest: b.digest, size: b.bytes.length, ...extra }
}

function config (diffIds: string[], arch = 'amd64', variant?: string): Buffer {
  return json({
    architecture: arch,
    ...(variant !== undefined ? { variant } : {}),
    os: 'linux',
    created: '2023-11-14T22:13:20Z',
    config: { Env: ['PATH=/usr/bin:/bin'], Cmd: ['/bin/sh'] },
    rootfs: { type: 'layers', diff_ids: diffIds },
  })
}

const LAYER_MEDIA = { none: 'application/vnd.oci.image.layer.v1.tar', gzip: 'application/vnd.oci.image.layer.v1.tar+gzip', zstd: 'application/vnd.oci.image.layer.v1.tar+zstd' }

/** An OCI image manifest and its blobs for the given (uncompressed tar, compression) layers. */
function ociImage (layers: Array<[Buffer, keyof typeof LAYER_MEDIA]>, arch = 'amd64', variant?: string): { manifest: Blob, blobs: Blob[] } {
  const layerBlobs = layers.map(([tar, c]) => blob(c === 'gzip' ? gzip(tar) : c === 'zstd' ? zstd(tar) : tar, LAYER_MEDIA[c]))
  const cfg = blob(config(layers.map(([tar]) => `sha256:${sha(tar)}`), arch, variant), 'application/vnd.oci.image.config.v1+json')
  const manifest = blob(json({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: descriptor(cfg),
    layers: layerBlobs.map(b => descriptor(b)),
  }), 'application/vnd.oci.image.manifest.v1+json')
  return { manifest, blobs: [cfg, ...layerBlobs, manifest] }
}

/** Files of an OCI layout: oci-layout, blobs/sha256/*, index.json (in that order). */
function ociLayoutFiles (index: Record<string, unknown>, blobs: Blob[]): Array<[string, Buffer]> {
  const files: Array<[string, Buffer]> = [['oci-layout', json({ imageLayoutVersion: '1.0.0' })]]
  const seen = new Set<string>()
  for (const b of blobs) {
    if (seen.has(b.digest)) continue
    seen.add(b.digest)
    files.push([`blobs/sha256/${b.digest.slice(7)}`, b.bytes])
  }
  files.push(['index.json', json(index)])
  return files
}

function writeDirFiles (dir: string, files: Array<[string, Buffer]>): void {
  fs.rmSync(dir, { recursive: true, force: true })
  for (const [name, data] of files) {
    fs.mkdirSync(path.join(dir, path.dirname(name)), { recursive: true })
    fs.writeFileSync(path.join(dir, name), data)
  }
}

function write (name: string, data: Buffer | string): void {
  fs.writeFileSync(path.join(OUT, name), data)
}

function writeExpected (name: string, e: Expected): void {
  write(`${name}.expected.json`, JSON.stringify(e, null, 1) + '\n')
}

function main (): void {
  fs.mkdirSync(OUT, { recursive: true })
  const base = layerTar(BASE)
  const upper = layerTar(UPPER)
  const arm = layerTar(ARM)
  // REMOVED_BY_UPPER holds base paths; what the upper layer itself puts at those paths comes back with UPPER
  const merged = expectTree([...BASE.filter(s => !REMOVED_BY_UPPER.has(s.path)), ...UPPER])

  // plain layer tars
  write('layer.tar', base)
  writeExpected('layer.tar', expectTree(BASE))
  write('layer.tar.zst', zstd(base))
  writeExpected('layer.tar.zst', expectTree(BASE))
  write('layer.tar.gz', gzip(base))
  writeExpected('layer.tar.gz', expectTree(BASE))

  // docker-archive, the classic `docker save` layout: <id>/layer.tar, <config>.json, manifest.json last
  const cfg = config([`sha256:${sha(base)}`, `sha256:${sha(upper)}`])
  const cfgName = `${sha(cfg)}.json`
  const ids = [sha(Buffer.from('v1-' + sha(base))), sha(Buffer.from('v1-' + sha(upper)))]
  const dockerFiles: Array<[string, Buffer]> = [
    [cfgName, cfg],
    [`${ids[0]!}/VERSION`, Buffer.from('1.0')], [`${ids[0]!}/json`, json({ id: ids[0] })], [`${ids[0]!}/layer.tar`, base],
    [`${ids[1]!}/VERSION`, Buffer.from('1.0')], [`${ids[1]!}/json`, json({ id: ids[1], parent: ids[0] })], [`${ids[1]!}/layer.tar`, upper],
    ['repositories', json({ 'cfs-fixture': { latest: ids[1] } })],
    ['manifest.json', json([{ Config: cfgName, RepoTags: ['cfs-fixture:latest'], Layers: ids.map(id => `${id}/layer.tar`) }])],
  ]
  write('docker-archive.tar', archiveOf(dockerFiles))
  writeExpected('docker-archive.tar', merged)

  // oci-archive and OCI layout directory: base layer gzip, upper layer zstd
  const img = ociImage([[base, 'gzip'], [upper, 'zstd']])
  const index = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [descriptor(img.manifest, { annotations: { 'org.opencontainers.image.ref.name': 'latest' } })] }
  const ociFiles = ociLayoutFiles(index, img.blobs)
  write('oci-archive.tar', archiveOf(ociFiles))
  writeExpected('oci-archive.tar', merged)
  writeDirFiles(path.join(OUT, 'oci-layout'), ociFiles)
  writeExpected('oci-layout', merged)

  // multi-platform: amd64 (base, uncompressed), arm64/v8 (ARM, zstd), and a BuildKit attestation manifest
  const amd = ociImage([[base, 'none']])
  const armImg = ociImage([[arm, 'zstd']], 'arm64', 'v8')
  const att = blob(json({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: descriptor(blob(json({}), 'application/vnd.oci.image.config.v1+json')), layers: [] }), 'application/vnd.oci.image.manifest.v1+json')
  const multiIndex = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [
      descriptor(armImg.manifest, { platform: { architecture: 'arm64', os: 'linux', variant: 'v8' } }),
      descriptor(att, { platform: { architecture: 'unknown', os: 'unknown' }, annotations: { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': amd.manifest.digest } }),
      descriptor(amd.manifest, { platform: { architecture: 'amd64', os: 'linux' } }),
    ],
  }
  write('multi-platform.tar', archiveOf(ociLayoutFiles(multiIndex, [...amd.blobs, ...armImg.blobs, att])))
  writeExpected('multi-platform.tar', expectTree(BASE))
  write('multi-platform.tar.linux-arm64.expected.json', JSON.stringify(expectTree(ARM), null, 1) + '\n')

  // inputs that must fail
  const bad = ociImage([[base, 'none']])
  const badLayer = bad.blobs[1]!
  const corrupt = Buffer.from(badLayer.bytes)
  corrupt[corrupt.length - 100] = 0x01 // inside the second end block: the tar still reads, the digest differs
  const badFiles = ociLayoutFiles({ schemaVersion: 2, manifests: [descriptor(bad.manifest)] }, bad.blobs)
    .map(([n, b]): [string, Buffer] => n === `blobs/sha256/${badLayer.digest.slice(7)}` ? [n, corrupt] : [n, b])
  write('bad-digest.tar', archiveOf(badFiles))
  write('escape.tar', encodeTar([
    { path: 'ok', type: 'file', content: Buffer.from('fine') },
    { path: 'a/../../escaped', type: 'file', content: Buffer.from('evil') },
  ]))
  write('truncated.tar', base.subarray(0, 4096 + 100))
  write('not-an-image.txt', 'this is not an image\n'.repeat(40))
  console.log(`wrote ${fs.readdirSync(OUT).length} fixtures to ${OUT}`)
}

main()
