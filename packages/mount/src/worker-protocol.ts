/** Messages between `mountImage` and its serving thread. */
export interface WorkerData {
  fd: number
  manifestPath: string
  objectsDir: string
  verify: boolean
}

export type WorkerMessage =
  | { type: 'loaded' }
  | { type: 'init' }
  | { type: 'error', code: string | undefined, message: string, hint: string | undefined }
