import { XattrSets, XATTR_SETS_MAX, XATTR_SET_ID_MAX } from '../src/xattr-sets.js'
import type { Xattr } from '../src/model.js'

const set = (...pairs: Array<[string, string]>): Xattr[] => pairs.map(([key, v]) => ({ key, value: Buffer.from(v, 'latin1') }))

describe('XattrSets', () => {
  it('gives one array per id and another for a different set', () => {
    const sets = new XattrSets()
    const a = sets.intern('x', () => set(['user.a', '1']))
    expect(sets.intern('x', () => set(['user.a', '1']))).toBe(a)
    expect(sets.intern('y', () => set(['user.a', '2']))).not.toBe(a)
  })

  it('ids keep apart sets whose bytes run together', () => {
    const tricky = [
      set(['user.a', 'b\u00000\u0000c']),
      set(['user.a', 'b'], ['c', '']),
      set(['user.a', 'b\u00001\u0000c']),
      set(['user.ab', '']),
      set(['user.a', '']),
      set(['user.a', ''], ['user.a', '']),
      set(),
    ]
    const ids = tricky.map(s => XattrSets.idOf(s))
    expect(new Set(ids).size).toBe(tricky.length)
    // the same keys and bytes in other Buffers give the same id
    expect(XattrSets.idOf(set(['user.a', 'b'], ['c', '']))).toBe(ids[1])
  })

  it('does not remember a set too large for an id', () => {
    const sets = new XattrSets()
    const big = set(['user.big', 'x'.repeat(XATTR_SET_ID_MAX)])
    expect(XattrSets.idOf(big)).toBeUndefined()
    const a = sets.intern(XattrSets.idOf(big), () => big)
    expect(a).toBe(big)
    expect(sets.intern(XattrSets.idOf(big), () => set(['user.big', 'x'.repeat(XATTR_SET_ID_MAX)]))).not.toBe(big)
    expect(XattrSets.idOf(set(['user.small', 'x'.repeat(100)]))).toBeDefined()
  })

  it('stops remembering past its bound but still returns each set', () => {
    const sets = new XattrSets()
    for (let i = 0; i < XATTR_SETS_MAX; i++) sets.intern(`k${i}`, () => set(['user.n', String(i)]))
    const late = sets.intern('late', () => set(['user.n', 'late']))
    expect(late[0]!.value).toEqual(Buffer.from('late'))
    expect(sets.intern('late', () => set(['user.n', 'late']))).not.toBe(late)
    expect(sets.intern('k0', () => set(['user.n', 'other']))[0]!.value).toEqual(Buffer.from('0'))
  })
})
