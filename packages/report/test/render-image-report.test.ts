import { S_IFREG, walkDepthFirst, type Inode } from '@cfs/manifest'
import type { ImageLayers } from '@cfs/store'
import { displayName } from '../src/escape.js'
import { renderImageReport } from '../src/render-image-report.js'
import { storeSharing, summarizeImage } from '../src/summarize-image.js'
import { expectSafePage, HOSTILE_FILE, LATIN1, pageData, QUOTES, sampleImage } from './trees.js'

describe('summarizeImage', () => {
  it('counts bytes per path, per inode and per distinct object, like a plain walk of the tree', () => {
    const m = sampleImage({ extra: 30 })
    const s = summarizeImage(m, 5)
    let pathBytes = 0
    const inodes = new Set<Inode>()
    const objects = new Map<string, number>()
    walkDepthFirst(m, (_p, node) => {
      if ((node.inode.mode & 0o170000) !== S_IFREG) return
      pathBytes += node.inode.size
      inodes.add(node.inode)
      if (node.inode.digest !== undefined) objects.set(Buffer.from(node.inode.digest).toString('hex'), node.inode.size)
    })
    const inodeBytes = [...inodes].reduce((n, i) => n + i.size, 0)
    expect(s.pathBytes).toBe(pathBytes)
    expect(s.inodeBytes).toBe(inodeBytes)
    expect(s.tree.bytes).toBe(inodeBytes)
    expect(s.files).toBe(inodes.size)
    expect(s.objects.size).toBe(objects.size)
    expect(s.objectBytes).toBe([...objects.values()].reduce((n, v) => n + v, 0))
    expect(s.largest.map(f => f.size)).toEqual([100000, 100000, 9000, 5000, 300])
    expect(s.largest.find(f => f.size === 9000)?.links).toBe(2)
  })

  it('splits object bytes into those other images share and those only this one has', () => {
    const m = sampleImage()
    const s = summarizeImage(m)
    const other = sampleImage()
    other.root.children = other.root.children!.filter(c => c.name === 'usr')
    const r = storeSharing(s, [other], '/store')
    expect(r.otherImages).toBe(1)
    // usr/big (= same-as-big) and usr/linked are shared; the hostile, quoted and latin1 files are not
    expect(r.shared).toEqual({ count: 2, bytes: 100000 + 9000 })
    expect(r.exclusive).toEqual({ count: 3, bytes: 5000 + 300 + 200 })
    expect(storeSharing(s, [], '/store').shared.count).toBe(0)
  })
})

describe('renderImageReport', () => {
  const layers: ImageLayers = {
    schema: 'cfs.image-layers/1', image: 'sha256:' + '1'.repeat(64) as `sha256:${string}`, format: 'oci-archive', recorded: '2026-01-01T00:00:00.000Z',
    layers: [{ index: 0, name: 'blobs/<b>.tar', storedBytes: 10, tarBytes: 20, files: 3, fileBytes: 300, inlineFiles: 0, inlineBytes: 0, objects: { new: { count: 1, bytes: 100 }, reused: { count: 1, bytes: 100 }, deduped: { count: 1, bytes: 100 } } }],
  }

  it('escapes hostile and non-UTF-8 names in the markup and in the embedded data', () => {
    const m = sampleImage()
    const s = summarizeImage(m)
    const html = renderImageReport({ manifest: m, digest: 'sha256:' + '0'.repeat(64), source: '<i>.cfsm', layers, store: storeSharing(s, [], '/st<ore') })
    expectSafePage(html)
    expect(html).toContain('x&lt;/script&gt;&lt;img src=x onerror=&quot;document.title=&#39;pwned&#39;&quot;&gt;')
    expect(html).toContain('&lt;i&gt;.cfsm')
    expect(html).toContain('blobs/&lt;b&gt;.tar')
    expect(html).toContain('/st&lt;ore')
    expect(html).toContain(`/${displayName(QUOTES).replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/'/g, '&#39;')}`)
    expect(html).toContain('/café\\xff')
    const data = pageData(html)
    const names = (node: any): string[] => [node.n, ...(node.c ?? []).flatMap(names)]
    expect(names(data.tree)).toEqual(expect.arrayContaining([HOSTILE_FILE, 'x<', displayName(LATIN1), QUOTES]))
  })

  it('embeds a tree whose bytes add up at every directory', () => {
    const m = sampleImage({ extra: 500 })
    const html = renderImageReport({ manifest: m, digest: 'sha256:x', tree: { maxNodes: 100, maxChildren: 20 } })
    const data = pageData(html)
    let nodes = 0
    const check = (node: any): void => {
      nodes++
      if (node.c === undefined) return
      expect(node.c.reduce((n: number, c: any) => n + c.b, 0)).toBe(node.b)
      node.c.forEach(check)
    }
    check(data.tree)
    expect(nodes).toBeLessThanOrEqual(100)
    expect(data.tree.b).toBe(summarizeImage(m).inodeBytes)
    expect(html).toContain('No layer record')
    expect(html).toContain('No store was read')
  })

  it('shows each layer\'s new, reused, deduped and inline bytes', () => {
    const m = sampleImage()
    const html = renderImageReport({ manifest: m, digest: 'sha256:x', layers })
    const row = /<tr><td class="num">0<\/td>[\s\S]*?<\/tr>/.exec(html)?.[0] ?? ''
    expect(row).toContain('<td class="num">3</td><td class="num">300 B</td>')
    expect(row).toContain('<td class="num">100 B</td><td class="num">100 B</td><td class="num">100 B</td><td class="num">0 B</td>')
    expect(row).toContain('66.7%')
  })
})
