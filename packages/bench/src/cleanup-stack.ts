/**
 * Undo actions registered as resources are made (mounts, directories), run newest first. Everything a bench run
 * makes is registered the moment it exists, so a failure or an interrupt anywhere leaves nothing behind.
 */
export class CleanupStack {
  private readonly undo: Array<{ what: string, run: () => Promise<void> }> = []

  /** Registers an undo action; returns a function that runs it now and forgets it. */
  push (what: string, run: () => Promise<void>): () => Promise<void> {
    const entry = { what, run }
    this.undo.push(entry)
    return async () => {
      const i = this.undo.lastIndexOf(entry)
      if (i >= 0) this.undo.splice(i, 1)
      await run()
    }
  }

  /** Runs every action newest first, continuing past failures; returns the failures as messages. */
  async runAll (): Promise<string[]> {
    const failures: string[] = []
    while (this.undo.length > 0) {
      const { what, run } = this.undo.pop()!
      try { await run() } catch (err) { failures.push(`${what}: ${(err as Error).message}`) }
    }
    return failures
  }
}
