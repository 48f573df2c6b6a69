import { diffManifests, summarizeDiff } from '@cfs/diff'
import { S_IFREG, type Manifest } from '@cfs/manifest'
import { displayName } from '../src/escape.js'
import { renderDiffReport } from '../src/render-diff-report.js'
import { summarizeChanges } from '../src/summarize-changes.js'
import { expectSafePage, file, HOSTILE_DIR, HOSTILE_FILE, LATIN1, pageData, sampleImage } from './trees.js'

/** B: the sample with usr/big replaced, usr/tiny gone, a hostile file added, a mode change and a rename. */
function changed (): Manifest {
  const m = sampleImage()
  const usr = m.root.children!.find(c => c.name === 'usr')!
  usr.children = usr.children!.filter(c => c.name !== 'tiny' && c.name !== 'same-as-big')
  usr.children.find(c => c.name === 'big')!.inode = file(120000, 99)
  usr.children.push({ name: 'moved', inode: file(100000, 1) })
  usr.children.sort((a, b) => a.name < b.name ? -1 : 1)
  const hostile = m.root.children!.find(c => c.name === HOSTILE_DIR)!
  hostile.children!.push({ name: HOSTILE_FILE + '2', inode: file(777, 42) })
  m.root.children!.find(c => c.name === LATIN1)!.inode = { ...file(200, 6), mode: S_IFREG | 0o600 }
  return m
}

describe('summarizeChanges', () => {
  it('agrees with @cfs/diff\'s summary on paths and bytes per kind', () => {
    const r = diffManifests(sampleImage(), changed())
    const ours = summarizeChanges(r.changes)
    const theirs = summarizeDiff(r)
    expect(ours.byKind).toEqual(theirs.byKind)
    expect(ours.changedBytes).toBe(theirs.changedBytes)
    expect(ours.tree.bytes).toBe(theirs.changedBytes)
    expect(ours.tree.count).toBe(r.changes.length)
    for (const [a, n] of ours.byAttribute) expect(theirs.byAttribute[a as keyof typeof theirs.byAttribute]).toBe(n)
    expect(ours.largest[0]!.change.path).toBe('/usr/big')
  })
})

describe('renderDiffReport', () => {
  it('draws the changed subtrees with every name escaped', () => {
    const r = diffManifests(sampleImage(), changed())
    expect(r.changes.map(c => c.kind).sort()).toEqual(['added', 'modified', 'modified', 'removed', 'renamed'])
    const html = renderDiffReport({ changes: r.changes, a: 'old<.cfsm', b: 'new".cfsm' })
    expectSafePage(html)
    expect(html).toContain('old&lt;.cfsm → new&quot;.cfsm')
    expect(html).toContain('/x&lt;/script&gt;&lt;img src=x')
    const data = pageData(html)
    expect(data.mode).toBe('diff')
    const find = (node: any, name: string): any => node.n === name ? node : (node.c ?? []).map((c: any) => find(c, name)).find(Boolean)
    expect(find(data.tree, HOSTILE_FILE + '2')).toMatchObject({ k: 'A', b: 777 })
    expect(find(data.tree, displayName(LATIN1))).toMatchObject({ k: 'M', b: 0 })
    expect(find(data.tree, 'moved')).toMatchObject({ k: 'R', b: 0, r: '/usr/same-as-big' })
    expect(find(data.tree, 'usr')).toMatchObject({ x: [0, 1, 1, 1], b: 100000 + 120000 + 10 })
  })

  it('says so when the images are identical', () => {
    const html = renderDiffReport({ changes: [], a: 'a', b: 'b' })
    expectSafePage(html)
    expect(html).toContain('The images are identical.')
  })
})
