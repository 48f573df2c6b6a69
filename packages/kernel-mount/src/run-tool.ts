import { execFile } from 'node:child_process'
import { CfsError } from '@cfs/errors'

export interface ToolResult { stdout: string, stderr: string }

/** stderr of a failed command as one line (mount(8) spreads its message over two lines). */
export function oneLine (text: string): string {
  return text.replace(/\s+/g, ' ').trim()
}

/**
 * Runs a system tool (mount, umount, losetup) without a shell. A non-zero exit becomes ERR_CFS_MOUNT_FAILED
 * carrying the tool's stderr on one line (ERR_CFS_PERMISSION when that says the caller may not mount); a missing
 * tool becomes ERR_CFS_KERNEL_UNSUPPORTED.
 */
export async function runTool (tool: string, args: string[], doing: string): Promise<ToolResult> {
  return await new Promise((resolve, reject) => {
    execFile(tool, args, { encoding: 'latin1' }, (err, stdout, stderr) => {
      if (err === null) { resolve({ stdout, stderr }); return }
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        reject(new CfsError('ERR_CFS_KERNEL_UNSUPPORTED', `${doing}: ${tool} is not installed`,
          { hint: 'install util-linux, or use the FUSE backend (cfs mount --backend fuse)', cause: err }))
        return
      }
      const why = oneLine(stderr) || `${tool} exited with ${String(err.code ?? err.signal)}`
      if (/permission denied|not permitted|must be superuser/i.test(why)) {
        reject(new CfsError('ERR_CFS_PERMISSION', `${doing}: ${why}`,
          { hint: 'mounting needs root with CAP_SYS_ADMIN; or use the FUSE backend (cfs mount --backend fuse)', cause: err }))
        return
      }
      const e = new CfsError('ERR_CFS_MOUNT_FAILED', `${doing}: ${why}`, { cause: err }) as CfsError & { stderr?: string }
      e.stderr = stderr
      reject(e)
    })
  })
}
