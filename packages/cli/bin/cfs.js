#!/usr/bin/env node
import { ExitCode } from '@cfs/errors'
import { run, processIo } from '../dist/index.js'

// A closed pipe (`cfs dump … | head`) is the reader's choice, not an error. Any other stdout failure (ENOSPC,
// EIO) is the system refusing: one line and the I/O exit code, not a crash.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(ExitCode.OK)
  process.stderr.write(`cfs: cannot write to stdout: ${err.message} [ERR_CFS_IO]\n`)
  process.exit(ExitCode.IO)
})

process.exitCode = await run(process.argv.slice(2), processIo())
