/** `1234567` → `1.2 MiB (1234567 B)`: readable, and exact for scripts that grep. */
export function formatBytes (n: number): string {
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  let v = n
  let u = -1
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++ }
  return u < 0 ? `${n} B` : `${v.toFixed(1)} ${units[u]} (${n} B)`
}
