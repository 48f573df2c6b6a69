/** The process surface a command may touch, so tests can run commands in-process with captured output. */
export interface Io {
  stdout: NodeJS.WritableStream & { isTTY?: boolean }
  /** `columns`: the terminal's width, when it is one */
  stderr: NodeJS.WritableStream & { isTTY?: boolean, columns?: number }
  stdin: NodeJS.ReadableStream
  env: NodeJS.ProcessEnv
  cwd: string
}

export function processIo (): Io {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, cwd: process.cwd() }
}
