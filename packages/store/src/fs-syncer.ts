/**
 * syncfs(2) on request, from one small shell started once. Node has no binding for syncfs and coreutils'
 * `sync -f DIR` is one call, but spawning it from a build forks a process of several hundred MB: the kernel copies
 * the page tables, and every page the build writes afterwards takes a copy-on-write fault (scripts/bench-build.ts
 * under perf: fork, exit and those faults cost about 4% of a build's CPU with a flush every 64 MiB). The shell is
 * forked while the build is still small and runs `sync -f` itself; it exits when its stdin closes, also when the
 * build dies.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process'
import type { Readable, Writable } from 'node:stream'
import { CfsError } from '@cfs/errors'

// one line in per request, one line out per answer: "ok", or "fail <sync's error message>"
const LOOP = 'while read -r _; do if err=$(sync -f "$1" 2>&1); then echo ok; else printf "fail %s\\n" "$(printf %s "$err" | tr "\\n" " ")"; fi; done'

interface Waiter { resolve: () => void, reject: (err: unknown) => void }

export class FsSyncer {
  private readonly child: ChildProcessByStdio<Writable, Readable, null>
  private readonly waiters: Waiter[] = []
  private pending = ''
  private broken: Error | undefined

  /** the helper shell's pid */
  readonly pid: number | undefined

  /** `dir`: any path on the filesystem to flush */
  constructor (private readonly dir: string) {
    this.child = spawn('sh', ['-c', LOOP, 'sh', dir], { stdio: ['pipe', 'pipe', 'ignore'] })
    this.pid = this.child.pid
    // idle, the helper keeps nothing alive (an ObjectWriter dropped without close() must not hold the process);
    // a flush awaited holds the event loop through stdout until it is answered
    this.child.unref()
    for (const pipe of [this.child.stdin, this.child.stdout] as unknown as Array<{ unref?: () => void }>) pipe.unref?.()
    this.child.stdout.setEncoding('utf8')
    this.child.stdout.on('data', (text: string) => {
      this.pending += text
      for (let nl = this.pending.indexOf('\n'); nl >= 0; nl = this.pending.indexOf('\n')) {
        const line = this.pending.slice(0, nl)
        this.pending = this.pending.slice(nl + 1)
        const w = this.waiters.shift()
        if (this.waiters.length === 0) this.holdLoop(false)
        if (line === 'ok') w?.resolve()
        else w?.reject(this.failure(new Error(line.replace(/^fail /, '').trim())))
      }
    })
    this.child.on('error', (err) => this.breakOff(err))
    // 'close' comes after the last answer on stdout has been read
    this.child.on('close', (code, signal) => this.breakOff(new Error(`sync helper exited (${signal ?? code ?? '?'})`)))
    // writes to a helper that died are answered by breakOff; the pipe's own error adds nothing
    this.child.stdin.on('error', () => {})
  }

  private failure (cause: Error): CfsError {
    return new CfsError('ERR_CFS_IO', `cannot flush the store's filesystem (sync -f ${this.dir}): ${cause.message}`, { cause })
  }

  private breakOff (err: Error): void {
    this.broken ??= err
    for (const w of this.waiters.splice(0)) w.reject(this.failure(err))
  }

  private holdLoop (hold: boolean): void {
    const out = this.child.stdout as unknown as { ref?: () => void, unref?: () => void }
    if (hold) out.ref?.(); else out.unref?.()
  }

  /** Flushes the filesystem; throws ERR_CFS_IO when sync fails or the helper is gone. */
  async sync (): Promise<void> {
    if (this.broken !== undefined) throw this.failure(this.broken)
    await new Promise<void>((resolve, reject) => {
      this.waiters.push({ resolve, reject })
      this.holdLoop(true)
      this.child.stdin.write('\n')
    })
  }

  /** Ends the helper once the flushes asked for are answered. */
  async close (): Promise<void> {
    if (this.broken !== undefined) return
    const exited = new Promise<void>(resolve => this.child.once('close', () => resolve()))
    // awaited, the exit must hold the event loop
    this.child.ref()
    this.holdLoop(true)
    this.child.stdin.end()
    await exited
  }
}
