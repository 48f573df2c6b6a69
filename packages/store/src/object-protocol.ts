/**
 * Messages between ObjectWriter and its workers (object-worker.ts). A message carries many objects at once in one
 * transferred buffer and describes them with flat number arrays: cloning one array of numbers costs far less than
 * cloning an object, and moving a buffer, per stored object.
 */

/** this piece starts an object / ends it (both: the whole object is in this piece) */
export const FIRST = 1
export const LAST = 2
/**
 * set on every piece of an object whose fs-verity digest the main thread computes: the 32 digest bytes lie in `buf`
 * just before the content of the LAST piece
 */
export const HASHED = 4
export const DIGEST_SIZE = 32
/** numbers per piece in `WorkerBatch.pieces`: object id, byte offset in `buf`, length, FIRST | LAST | HASHED */
export const PIECE_FIELDS = 4
/** Main thread → worker: pieces of objects, their bytes laid end to end in `buf`. */
export interface WorkerBatch { buf: ArrayBuffer, pieces: number[] }

/** `status` of a reply: a piece stored and more to come, an object finished (new or already stored), a failure */
export const PARTIAL = 0
export const CREATED = 1
export const EXISTED = 2
export const FAILED = 3
/** numbers per reply in `WorkerReplies.replies`: object id, bytes freed, object size, status */
export const REPLY_FIELDS = 4
/**
 * Worker → main thread. `digests` holds the 32-byte digest of each CREATED or EXISTED reply, in order; `errors`
 * one entry per FAILED reply, in order.
 */
export interface WorkerReplies { replies: number[], digests: ArrayBuffer, errors: Array<{ message: string, code?: string }> }

/** the reply to an 'abort' request, once every unfinished object is removed */
export const ABORTED = 'aborted'
