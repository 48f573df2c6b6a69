/**
 * Test-only crash injection. With `CFS_TEST_CRASH_AT=<stage>:<n>` in the environment, the n-th time this thread
 * reaches `crashPoint(stage)` the process dies by SIGKILL, as a crash or `kill -9` would, at an exact step of a
 * build (packages/cli/test/e2e/crash.test.ts). Without the variable it costs one comparison.
 */
const spec = /^([a-z-]+):(\d+)$/.exec(process.env.CFS_TEST_CRASH_AT ?? '')
const stage = spec?.[1]
let left = spec === null ? 0 : Number(spec[2])

export function crashPoint (name: string): void {
  if (name === stage && --left === 0) process.kill(process.pid, 'SIGKILL')
}
