import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { parseGetfattr, readXattrs } from '../src/ingest-directory.js'

describe('getfattr output', () => {
  it('unescapes octal escapes in names back to bytes and decodes hex and base64 values', () => {
    const out = Buffer.from('# file: /r/a\\012b\\134c\xff\nuser.x=0x00ff\nsecurity.selinux=0sYWJj\n\n# file: /r\ntrusted.t=0x31\n\n', 'latin1')
    const map = parseGetfattr(out)
    expect(map.get('/r/a\nb\\c\xff')).toEqual([{ key: 'user.x', value: Buffer.from([0, 0xff]) }, { key: 'security.selinux', value: Buffer.from('abc') }])
    expect(map.get('/r')).toEqual([{ key: 'trusted.t', value: Buffer.from('1') }])
  })

  it('reads xattrs of awkward names from a real tree, without following symlinks', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-'))
    try {
      const odd = Buffer.concat([Buffer.from(tmp + '/'), Buffer.from('new\nline \\ and \xff', 'latin1')])
      fs.writeFileSync(odd, 'x')
      // argv strings are UTF-8 in Node: let bash spell the raw 0xff byte
      execFileSync('bash', ['-c', "setfattr -n user.k -v 0x0102ff $'new\\nline \\\\ and \\xff'"], { cwd: tmp })
      fs.symlinkSync(odd, path.join(tmp, 'link'))
      const map = await readXattrs(tmp)
      expect(map.get(odd.toString('latin1'))).toEqual([{ key: 'user.k', value: Buffer.from([1, 2, 0xff]) }])
      expect(map.get(path.join(tmp, 'link'))).toBeUndefined()
    } finally { fs.rmSync(tmp, { recursive: true, force: true }) }
  })
})
