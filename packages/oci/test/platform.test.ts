import { formatPlatform, hostPlatform, parsePlatform, platformMatches } from '../src/platform.js'

describe('platforms', () => {
  it('parses os/arch[/variant] and formats it back', () => {
    expect(parsePlatform('linux/arm/v7')).toEqual({ os: 'linux', architecture: 'arm', variant: 'v7' })
    expect(formatPlatform(parsePlatform('linux/amd64'))).toBe('linux/amd64')
  })

  it.each(['linux', 'linux/', '/amd64', 'a/b/c/d'])('rejects %j as a usage error', (text) => {
    expect(() => parsePlatform(text)).toThrow(expect.objectContaining({ code: 'ERR_CFS_USAGE' }))
  })

  it('matches variants only when asked, with arm64 implying v8', () => {
    expect(platformMatches(parsePlatform('linux/arm64'), { os: 'linux', architecture: 'arm64', variant: 'v8' })).toBe(true)
    expect(platformMatches(parsePlatform('linux/arm64/v8'), { os: 'linux', architecture: 'arm64' })).toBe(true)
    expect(platformMatches(parsePlatform('linux/arm/v7'), { os: 'linux', architecture: 'arm', variant: 'v6' })).toBe(false)
    expect(platformMatches(parsePlatform('linux/amd64'), { os: 'windows', architecture: 'amd64' })).toBe(false)
  })

  it('names the host in OCI terms', () => {
    expect(hostPlatform().os).toBe(process.platform)
    if (process.arch === 'x64') expect(hostPlatform().architecture).toBe('amd64')
  })
})
