/**
 * Primary and secondary links of hardlinked Inodes (`Node.hardlink`). The primary is where an image writer places
 * the inode; which Node it is matters only for mkcomposefs' exact layout, not for the files a tree holds.
 */
import type { Inode, Manifest, Node } from './model.js'

/** Calls `visit` on every Node in depth-first pre-order (children in their stored order), without recursion. */
function forEachNode (root: Node, visit: (node: Node) => void): void {
  const stack: Node[] = [root]
  while (stack.length > 0) {
    const node = stack.pop()!
    visit(node)
    const children = node.children
    if (children !== undefined) for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!)
  }
}

/**
 * The primary Node of every Inode: the one Node of its group without `hardlink`, or, when the group has none or
 * several such Nodes, the first in depth-first order. Only in the latter case can the primary carry the flag.
 */
export function hardlinkPrimaries (manifest: Manifest): Map<Inode, Node> {
  const primary = new Map<Inode, Node>()
  let flagged = false
  forEachNode(manifest.root, node => {
    if (!primary.has(node.inode)) primary.set(node.inode, node)
    if (node.hardlink === true) flagged = true
  })
  if (!flagged) return primary
  // null: more than one Node of the group is unflagged
  const unflagged = new Map<Inode, Node | null>()
  forEachNode(manifest.root, node => {
    if (node.hardlink !== true) unflagged.set(node.inode, unflagged.has(node.inode) ? null : node)
  })
  for (const [inode, node] of unflagged) if (node !== null) primary.set(inode, node)
  return primary
}

/**
 * Puts the hardlink flags of a tree in canonical form, in place: in each group of Nodes sharing an Inode, the
 * primary (see `hardlinkPrimaries`) is unflagged and every other Node flagged, except that a group whose primary
 * is its first Node in depth-first order carries no flags at all. So a tree whose hardlink order does not matter
 * (`cfs build`) carries none. Expects children in their final order.
 */
export function normalizeHardlinks (manifest: Manifest): Manifest {
  let flagged = false
  forEachNode(manifest.root, node => { if (node.hardlink !== undefined) flagged = true })
  if (!flagged) return manifest
  const primary = hardlinkPrimaries(manifest)
  const seen = new Set<Inode>()
  const firstIsPrimary = new Set<Inode>()
  forEachNode(manifest.root, node => {
    const inode = node.inode
    if (!seen.has(inode)) {
      seen.add(inode)
      if (primary.get(inode) === node) firstIsPrimary.add(inode)
    }
    if (firstIsPrimary.has(inode) || primary.get(inode) === node) delete node.hardlink
    else node.hardlink = true
  })
  return manifest
}
