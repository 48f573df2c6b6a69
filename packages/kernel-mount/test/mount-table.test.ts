import { isKernelMount, parseMountInfo, topMountAt } from '../src/index.js'
import { optionValue } from '../src/mount-table.js'
import * as os from 'node:os'

const TABLE = [
  '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw',
  '40 22 0:39 / /mnt/with\\040space ro,relatime - overlay composefs ro,lowerdir=/run/cfs/meta-1::/s/objects,redirect_dir=on,metacopy=on',
  '41 40 0:40 / /mnt/with\\040space rw - tmpfs none rw',
  'garbage line',
].join('\n')

describe('parseMountInfo', () => {
  it('unescapes octal paths and splits off the super options after the separator', () => {
    const t = parseMountInfo(TABLE)
    expect(t).toHaveLength(3)
    expect(t[1]).toEqual({
      mountId: 40, mountPoint: '/mnt/with space', fsType: 'overlay', source: 'composefs',
      superOptions: 'ro,lowerdir=/run/cfs/meta-1::/s/objects,redirect_dir=on,metacopy=on',
    })
    expect(t[0]!.fsType).toBe('ext4')
  })

  it('finds the topmost of stacked mounts', () => {
    expect(topMountAt('/mnt/with space', parseMountInfo(TABLE))?.fsType).toBe('tmpfs')
    expect(topMountAt('/mnt', parseMountInfo(TABLE))).toBeUndefined()
  })
})

describe('isKernelMount', () => {
  it('is false for a plain directory and for a path that does not exist', () => {
    expect(isKernelMount(os.tmpdir())).toBe(false)
    expect(isKernelMount('/no/such/dir')).toBe(false)
  })
})

describe('optionValue', () => {
  it('reads one option of a comma-separated list, keeping escaped commas in the value', () => {
    const opts = 'ro,lowerdir=/a\\,b::/c,redirect_dir=on'
    expect(optionValue(opts, 'lowerdir')).toBe('/a,b::/c')
    expect(optionValue(opts, 'redirect_dir')).toBe('on')
    expect(optionValue(opts, 'upperdir')).toBeUndefined()
  })
})
