import { findMount, readMountTable, unescapeMountField } from '../src/mount-table.js'

describe('mount table', () => {
  it('decodes the octal escapes of mountinfo fields', () => {
    expect(unescapeMountField('/mnt/a\\040b\\011c\\134d')).toBe('/mnt/a b\tc\\d')
  })

  it('finds the root mount and nothing at a plain directory', () => {
    expect(readMountTable().length).toBeGreaterThan(0)
    expect(findMount('/')?.target).toBe('/')
    expect(findMount('/no/such/mount/point')).toBeUndefined()
  })
})
