import { checkFuseAvailable, findMount, readMountTable } from '@cfs/fuse'

console.log(findMount('/')?.fstype)                                            // what / is mounted as, e.g. ext4
console.log(readMountTable().filter(m => m.fstype.startsWith('fuse.')).map(m => m.target))   // FUSE mounts now
try {
  checkFuseAvailable()                                                         // root and an openable /dev/fuse
  console.log('FUSE is usable: openFuseDevice, serveFuse on a worker, then mountFuse')
} catch (err) { console.log(String(err)) }                                     // ERR_CFS_FUSE_UNAVAILABLE or ERR_CFS_PERMISSION
