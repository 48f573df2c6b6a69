#!/usr/bin/env node
import { CfsError, ExitCode } from '@cfs/errors'
import { run, processIo, formatError } from '../dist/index.js'

// A closed pipe (`cfs dump … | head`) is the reader's choice, not an error. Any other stdout failure (ENOSPC,
// EIO) is the system refusing: one line (JSON with --json) and the I/O exit code, not a crash.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(ExitCode.OK)
  const json = process.argv.includes('--json')
  process.stderr.write(formatError(new CfsError('ERR_CFS_IO', `cannot write to stdout: ${err.message}`), json))
  process.exit(ExitCode.IO)
})

process.exitCode = await run(process.argv.slice(2), processIo())
