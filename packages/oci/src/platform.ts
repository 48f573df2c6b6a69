import { CfsError } from '@cfs/errors'

/** An OCI platform: `os/architecture[/variant]`. */
export interface Platform {
  os: string
  architecture: string
  variant?: string
}

const ARCH_OF_NODE: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' }

/** The platform this process runs on, in OCI terms (linux/amd64 here). */
export function hostPlatform (): Platform {
  return { os: process.platform, architecture: ARCH_OF_NODE[process.arch] ?? process.arch }
}

/** Parses `os/arch[/variant]`; throws ERR_CFS_USAGE. */
export function parsePlatform (text: string): Platform {
  const parts = text.split('/')
  if (parts.length < 2 || parts.length > 3 || parts.some(p => p === '')) {
    throw new CfsError('ERR_CFS_USAGE', `bad platform '${text}'`, { hint: 'write os/arch[/variant], e.g. linux/arm64 or linux/arm/v7' })
  }
  return parts.length === 3 ? { os: parts[0]!, architecture: parts[1]!, variant: parts[2]! } : { os: parts[0]!, architecture: parts[1]! }
}

export function formatPlatform (p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant !== undefined && p.variant !== '' ? '/' + p.variant : ''}`
}

/** Does `candidate` satisfy `wanted`? A variant is compared only when `wanted` names one (arm64's v8 is implied). */
export function platformMatches (wanted: Platform, candidate: Platform): boolean {
  if (wanted.os !== candidate.os || wanted.architecture !== candidate.architecture) return false
  if (wanted.variant === undefined) return true
  const norm = (v: string | undefined): string | undefined => candidate.architecture === 'arm64' && v === undefined ? 'v8' : v
  return norm(wanted.variant) === norm(candidate.variant)
}
