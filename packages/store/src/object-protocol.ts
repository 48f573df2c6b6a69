/**
 * Messages between ObjectWriter and its workers (object-worker.ts). Object content lies in a ring of shared memory
 * per worker (`workerData.ring`), written by the main thread before it posts the message naming it and not
 * reused before the worker's reply. A message names many pieces at once with a flat number array: cloning one
 * array of numbers costs far less than cloning an object per stored object. (A transferred buffer per batch, as
 * before, cost a fresh allocation, its page faults and its garbage collection for every MiB of content.)
 */

/** this piece starts an object / ends it (both: the whole object is in this piece) */
export const FIRST = 1
export const LAST = 2
/**
 * set on every piece of an object whose fs-verity digest the main thread computes: the 32 digest bytes lie in the
 * ring just before the content of the LAST piece
 */
export const HASHED = 4
export const DIGEST_SIZE = 32
/** numbers per piece in `WorkerBatch.pieces`: object id, byte offset in the ring, length, FIRST | LAST | HASHED */
export const PIECE_FIELDS = 4
/** Main thread → worker: pieces of objects in the worker's ring. */
export interface WorkerBatch { pieces: number[] }

/** `status` of a reply: a piece stored and more to come, an object finished (new or already stored), a failure */
export const PARTIAL = 0
export const CREATED = 1
export const EXISTED = 2
export const FAILED = 3
/** numbers per reply in `WorkerReplies.replies`, one reply per piece in the order received: object id, bytes freed, object size, status */
export const REPLY_FIELDS = 4
/**
 * Worker → main thread. `digests` holds the 32-byte digest of each CREATED or EXISTED reply, in order; `errors`
 * one entry per FAILED reply, in order.
 */
export interface WorkerReplies { replies: number[], digests: ArrayBuffer, errors: Array<{ message: string, code?: string }> }

/** the reply to an 'abort' request, once every unfinished object is removed */
export const ABORTED = 'aborted'
