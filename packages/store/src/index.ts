export { Store, writeFileAtomic } from './store.js'
export type { WrittenObject } from './store.js'
export { defaultStorePath, objectRelPath, OBJECTS_DIR, IMAGES_DIR, TMP_DIR, LEASES_DIR, IMAGE_SUFFIX } from './layout.js'
