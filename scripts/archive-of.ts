/** Shared by the fixture scripts: a tar archive of whole files, their parent directories first, mtime 0. */
import { encodeTar, type TarEntryInput } from '../packages/tar/src/index.js'

export function archiveOf (files: Array<[string, Buffer]>): Buffer {
  const dirs = new Set<string>()
  const entries: TarEntryInput[] = []
  for (const [name, data] of files) {
    const parts = name.split('/')
    for (let i = 1; i < parts.length; i++) {
      const d = parts.slice(0, i).join('/') + '/'
      if (!dirs.has(d)) { dirs.add(d); entries.push({ path: d, type: 'dir', mode: 0o755, mtimeSec: 0 }) }
    }
    entries.push({ path: name, type: 'file', mode: 0o644, mtimeSec: 0, content: data })
  }
  return encodeTar(entries)
}
