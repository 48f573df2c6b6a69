import { spawn } from 'node:child_process'
import { once } from 'node:events'
import * as fs from 'node:fs'
import { CfsError } from '@cfs/errors'

export interface ProcessResult { code: number | null, signal: NodeJS.Signals | null, stderr: string }

export interface RunOptions {
  cwd?: string
  /** a stream piped into stdin; the promise settles when the process exits */
  stdin?: AsyncIterable<Uint8Array>
  /** aborting kills the process */
  signal?: AbortSignal
}

/** Runs a command with stdout to /dev/null and stderr collected (first 64 KiB). Never throws for an exit code. */
export async function runProcess (cmd: string, args: string[], opts: RunOptions = {}): Promise<ProcessResult> {
  const devNull = fs.openSync('/dev/null', 'w')
  try {
    return await new Promise<ProcessResult>((resolve, reject) => {
      const child = spawn(cmd, args, {
        cwd: opts.cwd,
        stdio: [opts.stdin !== undefined ? 'pipe' : 'ignore', devNull, 'pipe'],
        env: { ...process.env, LC_ALL: 'C' },
        ...(opts.signal !== undefined ? { signal: opts.signal } : {}),
      })
      let stderr = ''
      child.stderr!.setEncoding('latin1')
      child.stderr!.on('data', (s: string) => { if (stderr.length < 65536) stderr += s })
      child.once('error', (err) => {
        if ((err as NodeJS.ErrnoException).code === 'ABORT_ERR') return // 'exit' follows with the signal
        reject(new CfsError('ERR_CFS_IO', `cannot run ${cmd}: ${err.message}`, { cause: err }))
      })
      if (opts.stdin !== undefined) {
        const sink = child.stdin!
        sink.on('error', () => {}) // EPIPE when the process dies early: its exit status says why
        const exited = new Promise<void>(resolve => { child.once('exit', () => { resolve() }) })
        void (async () => {
          try {
            for await (const chunk of opts.stdin!) {
              if (!sink.write(chunk)) await Promise.race([once(sink, 'drain'), exited])
              if (child.exitCode !== null || child.signalCode !== null) break
            }
          } catch (err) {
            child.kill('SIGTERM')
            reject(err)
          } finally { sink.end() }
        })()
      }
      child.once('close', (code, signal) => { resolve({ code, signal, stderr }) })
    })
  } finally { fs.closeSync(devNull) }
}

/** Runs a command; throws ERR_CFS_IO with its stderr when it fails. */
export async function runChecked (cmd: string, args: string[], what: string, opts: RunOptions = {}): Promise<void> {
  const r = await runProcess(cmd, args, opts)
  opts.signal?.throwIfAborted()
  if (r.code !== 0) {
    throw new CfsError('ERR_CFS_IO', `${what}: ${cmd} ${r.signal !== null ? `was killed by ${r.signal}` : `exited with ${String(r.code)}`}: ${r.stderr.trim().split('\n').slice(-3).join('; ')}`)
  }
}

/**
 * Milliseconds taken by `ls -lR dir` with its listing sent to /dev/null: the tool people run, so the figure
 * includes every syscall it makes (getdents, statx, and the xattr reads for the ACL/SELinux mark).
 */
export async function timeLsR (dir: string, signal?: AbortSignal): Promise<number> {
  const t0 = process.hrtime.bigint()
  const r = await runProcess('ls', ['-lR', dir], signal !== undefined ? { signal } : {})
  const ms = Number(process.hrtime.bigint() - t0) / 1e6
  signal?.throwIfAborted()
  if (r.code !== 0) throw new CfsError('ERR_CFS_IO', `ls -lR ${dir} exited with ${String(r.code ?? r.signal)}: ${r.stderr.trim().split('\n').slice(0, 3).join('; ')}`)
  return ms
}

/** Milliseconds taken by `fn`. */
export async function timed<T> (fn: () => Promise<T>): Promise<{ ms: number, value: T }> {
  const t0 = process.hrtime.bigint()
  const value = await fn()
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, value }
}
