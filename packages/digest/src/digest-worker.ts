/** Worker thread of DigestPool: hashes files of each job it is sent until the job has none left, then replies. */
import { parentPort } from 'node:worker_threads'
import { HashingThread, type BatchError, type BatchJob } from './digest-batch.js'

const port = parentPort
if (port === null) throw new Error('digest-worker must run as a worker thread')

// a worker owns its thread, so blocking reads into one reused buffer cost nothing and allocate nothing
const thread = new HashingThread()

port.on('message', (job: BatchJob) => {
  const errors: BatchError[] = []
  thread.run(job, errors)
  port.postMessage(errors)
})
