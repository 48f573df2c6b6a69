/**
 * A reader for the small part of YAML that action.yml, ci/gitlab/cfs.gitlab-ci.yml and the examples in docs/ci.md
 * use, so the tests need no YAML dependency: block mappings and sequences, plain and quoted scalars, `|` literal
 * blocks and comments. Everything else (flow collections, anchors, tags, folded blocks, tabs, duplicate keys)
 * is refused rather than guessed at, so a file this accepts means the same to a full YAML 1.2 parser.
 */
export type YamlValue = string | number | boolean | null | YamlValue[] | { [key: string]: YamlValue }

const BLANK = /^\s*(#.*)?$/

export function parseYamlSubset (src: string): YamlValue {
  const lines = src.replace(/\r\n/g, '\n').split('\n')
  let i = 0
  const fail = (msg: string): never => { throw new Error(`yaml line ${i + 1}: ${msg}: ${JSON.stringify(lines[i] ?? '')}`) }
  const skipBlank = (): void => { while (i < lines.length && BLANK.test(lines[i]!)) i++ }
  const indentOf = (line: string): number => {
    const n = /^ */.exec(line)![0].length
    if (line[n] === '\t') fail('tab in indentation')
    return n
  }
  const isItem = (text: string): boolean => text === '-' || text.startsWith('- ')

  function scalar (text: string): YamlValue {
    const s = text.trim()
    if (s.startsWith("'")) {
      const m = /^'((?:[^']|'')*)'\s*(#.*)?$/.exec(s) ?? fail('bad single-quoted scalar')
      return m[1]!.replace(/''/g, "'")
    }
    if (s.startsWith('"')) {
      const m = /^"((?:[^"\\]|\\.)*)"\s*(#.*)?$/.exec(s) ?? fail('bad double-quoted scalar')
      return m[1]!.replace(/\\(.)/g, (_, c: string) => {
        const map: Record<string, string> = { n: '\n', t: '\t', '"': '"', '\\': '\\', '/': '/' }
        return map[c] ?? fail(`unsupported escape \\${c}`)
      })
    }
    if (/^[[{&*!|>%@`]/.test(s)) fail('unsupported YAML construct')
    const plain = s.replace(/\s+#.*$/, '')
    if (/: |:$/.test(plain)) fail('":" in a plain scalar')
    if (plain === '' || plain === '~' || plain === 'null') return null
    if (plain === 'true' || plain === 'false') return plain === 'true'
    if (/^-?(0|[1-9][0-9]*)(\.[0-9]+)?$/.test(plain)) return Number(plain)
    return plain
  }

  function literal (parentIndent: number, chomp: string): string {
    const body: string[] = []
    let blockIndent = -1
    while (i < lines.length) {
      const line = lines[i]!
      if (line.trim() === '') { body.push(''); i++; continue }
      const n = indentOf(line)
      if (n <= parentIndent) break
      if (blockIndent < 0) blockIndent = n
      if (n < blockIndent) fail('literal block line less indented than its first line')
      body.push(line.slice(blockIndent))
      i++
    }
    while (body.length > 0 && body[body.length - 1] === '') body.pop()
    return body.join('\n') + (chomp === '-' || body.length === 0 ? '' : '\n')
  }

  /** The value after `key:` or `- `, at parent indentation `indent`. */
  function value (rest: string, indent: number, inSequence: boolean): YamlValue {
    const r = rest.replace(/^\s*#.*$/, '').trim()
    const block = /^\|([-+]?)$/.exec(r)
    if (block !== null) {
      if (block[1] === '+') fail('keep chomping is not supported')
      return literal(indent, block[1]!)
    }
    if (r !== '') return scalar(r)
    skipBlank()
    if (i >= lines.length) return null
    const n = indentOf(lines[i]!)
    if (n > indent) return node(n)
    if (n === indent && !inSequence && isItem(lines[i]!.slice(n))) return sequence(n)
    return null
  }

  function mapping (indent: number): YamlValue {
    const out: Record<string, YamlValue> = {}
    for (skipBlank(); i < lines.length; skipBlank()) {
      const line = lines[i]!
      const n = indentOf(line)
      if (n < indent) break
      if (n > indent) fail('unexpected indentation')
      if (isItem(line.slice(n))) break
      const m = /^([^\s'"#:[\]{}&*!|>%@`-][^:#]*?|-[^\s:#][^:#]*?):(?:\s+(.*))?$/.exec(line.slice(n)) ?? fail('expected "key: value"')
      const key = m[1]!
      if (Object.prototype.hasOwnProperty.call(out, key)) fail(`duplicate key ${key}`)
      i++
      out[key] = value(m[2] ?? '', indent, false)
    }
    return out
  }

  function sequence (indent: number): YamlValue {
    const out: YamlValue[] = []
    for (skipBlank(); i < lines.length; skipBlank()) {
      const line = lines[i]!
      const n = indentOf(line)
      if (n < indent || !isItem(line.slice(n))) break
      if (n > indent) fail('unexpected indentation')
      const content = line.slice(n + 1).replace(/^ +/, '')
      if (/^[^\s'"#[{][^:#]*?:(\s|$)/.test(content)) {
        // `- key: value` opens a mapping whose keys sit where `key` does
        const at = line.length - content.length
        lines[i] = ' '.repeat(at) + content
        out.push(mapping(at))
      } else {
        i++
        out.push(value(content, indent, true))
      }
    }
    return out
  }

  function node (indent: number): YamlValue {
    skipBlank()
    const line = lines[i]!
    return isItem(line.slice(indentOf(line))) ? sequence(indent) : mapping(indent)
  }

  skipBlank()
  if (i >= lines.length) return null
  if (indentOf(lines[i]!) !== 0) fail('document must start at column 0')
  const doc = node(0)
  skipBlank()
  if (i < lines.length) fail('unexpected content')
  return doc
}
