import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { openImage, readLayer } from '@cfs/oci'
import { encodeTar } from '@cfs/tar'

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-'))
const file = path.join(dir, 'layer.tar')                                    // or a docker save / podman save archive
fs.writeFileSync(file, encodeTar([{ path: 'etc/motd', type: 'file', content: Buffer.from('hello\n') }]))

const image = await openImage(file, { tmpDir: dir })                        // the format is read from the bytes
try {
  console.log(image.format, image.layers.length)                           // layer-tar 1
  for (const layer of image.layers) {
    for await (const { header } of readLayer(layer)) console.log(layer.index, header.path)   // 0 etc/motd
  }
} finally { await image.close() }
fs.rmSync(dir, { recursive: true, force: true })
