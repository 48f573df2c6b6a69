import { encodeTar, readEntries } from '@cfs/tar'

const archive = encodeTar([
  { path: 'etc/', type: 'dir', mode: 0o755 },
  { path: 'etc/motd', type: 'file', mode: 0o644, content: Buffer.from('hello\n') },
  { path: 'motd', type: 'symlink', linkname: 'etc/motd' },
])
async function * chunks (): AsyncGenerator<Uint8Array> { for (let i = 0; i < archive.length; i += 700) yield archive.subarray(i, i + 700) }

for await (const { header, body } of readEntries(chunks())) {               // or readEntries(fs.createReadStream('layer.tar'))
  let text = ''
  if (header.type === 'file') for await (const chunk of body) text += Buffer.from(chunk).toString()
  console.log(header.type, header.path, header.mode.toString(8), JSON.stringify(text))   // dir etc/ 755 "" / file etc/motd 644 "hello\n" / symlink motd 644 ""
}
