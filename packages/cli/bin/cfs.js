#!/usr/bin/env node
import { run, processIo } from '../dist/index.js'

// A closed pipe (`cfs dump … | head`) is the reader's choice, not an error.
process.stdout.on('error', (err) => { if (err.code === 'EPIPE') process.exit(0); throw err })

process.exitCode = await run(process.argv.slice(2), processIo())
