/**
 * docs/cli.md against the real `--help`, so the two never drift: every command `cfs --help` lists has a section
 * (`## cfs <command>…`), every option its `--help` shows is named in that section and every option the section
 * names exists, the global options are in "Global options", and every command's help has examples.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { run } from '../src/run.js'
import { captureIo } from './capture-io.js'

const DOC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../docs/cli.md')

async function help (...argv: string[]): Promise<string> {
  const c = captureIo()
  try {
    expect(await run([...argv, '--help'], c.io)).toBe(0)
    await new Promise(resolve => setImmediate(resolve))
    return c.out()
  } finally { c.cleanup() }
}

/** The lines of one block of yargs help (`Commands:`, `Options:`, `Examples:`), up to the next blank line. */
function block (text: string, title: string): string[] {
  const lines = text.split('\n')
  const start = lines.indexOf(`${title}:`)
  if (start < 0) return []
  const end = lines.findIndex((l, i) => i > start && l.trim() === '')
  return lines.slice(start + 1, end < 0 ? undefined : end)
}

const optionsOf = (text: string): string[] => block(text, 'Options').map(l => /^\s+(?:-\w, )*--([\w-]+)/.exec(l)?.[1]).filter((o): o is string => o !== undefined)
/** `--name` mentions in markdown, leaving out `--name=` of other tools and negative numbers */
const mentionsIn = (text: string): Set<string> => new Set([...text.matchAll(/(?<![\w-])--([a-z][\w-]*)/g)].map(m => m[1]!))

/** Markdown `## ` sections: the commands a heading names (`## cfs mount, cfs umount`) get its text. */
function sections (doc: string, names: string[]): { byCommand: Map<string, string>, other: Map<string, string>, headings: string[] } {
  const byCommand = new Map<string, string>()
  const other = new Map<string, string>()
  const headings: string[] = []
  for (const part of doc.split(/^## /m).slice(1)) {
    const heading = part.slice(0, part.indexOf('\n'))
    headings.push(heading)
    const named = [...heading.matchAll(/\bcfs ([a-z][\w-]*)/g)].map(m => m[1]!).filter(n => names.includes(n))
    if (named.length === 0) other.set(heading, part)
    for (const n of named) byCommand.set(n, (byCommand.get(n) ?? '') + part)
  }
  return { byCommand, other, headings }
}

describe('docs/cli.md', () => {
  const doc = fs.readFileSync(DOC, 'utf8')

  it('documents every command, every option of each, and only options that exist', async () => {
    const top = await help()
    const names = block(top, 'Commands').map(l => /^\s+cfs ([\w-]+)/.exec(l)?.[1]).filter((n): n is string => n !== undefined)
    expect(names.length).toBeGreaterThan(10)
    const globals = optionsOf(top)
    expect(globals).toEqual(expect.arrayContaining(['json', 'quiet', 'debug', 'help', 'version']))
    const { byCommand, other } = sections(doc, names)

    const globalSection = other.get('Global options') ?? ''
    expect({ missingGlobals: globals.filter(o => !mentionsIn(globalSection).has(o)) }).toEqual({ missingGlobals: [] })

    const problems: string[] = []
    for (const name of names) {
      const text = byCommand.get(name)
      if (text === undefined) { problems.push(`cfs ${name}: no section`); continue }
      const h = await help(name)
      const own = optionsOf(h).filter(o => !globals.includes(o))
      const mentioned = mentionsIn(text)
      for (const o of own.filter(o => !mentioned.has(o))) problems.push(`cfs ${name}: --${o} is in --help, not in the docs`)
      // an option the section names must be the command's own, a global one, or another command's it points to
      const others = new Set(names.filter(n => n !== name).flatMap(n => [...text.matchAll(new RegExp(`cfs ${n}((?: [\\w./<>…-]+)*? --[\\w-]+)+`, 'g'))].flatMap(m => [...mentionsIn(m[0])])))
      const unknown = [...mentioned].filter(o => !own.includes(o) && !globals.includes(o) && !others.has(o) && o !== 'get-yargs-completions')
      for (const o of unknown) problems.push(`cfs ${name}: the docs name --${o}, which it does not have`)
    }
    expect(problems).toEqual([])
  })

  it('gives every command at least one example in its --help', async () => {
    const top = await help()
    const names = block(top, 'Commands').map(l => /^\s+cfs ([\w-]+)/.exec(l)?.[1]).filter((n): n is string => n !== undefined)
    for (const name of names) {
      const examples = block(await help(name), 'Examples').filter(l => l.trim().startsWith(`cfs ${name}`) || l.includes(`<(cfs ${name}`))
      expect({ name, examples: examples.length > 0 }).toEqual({ name, examples: true })
    }
  })

  it('has no section for a command cfs does not have', async () => {
    const top = await help()
    const names = block(top, 'Commands').map(l => /^\s+cfs ([\w-]+)/.exec(l)?.[1]).filter((n): n is string => n !== undefined)
    const { headings } = sections(doc, names)
    const stale = headings.filter(h => /^cfs /.test(h) && ![...h.matchAll(/\bcfs ([a-z][\w-]*)/g)].some(m => names.includes(m[1]!)))
    expect(stale).toEqual([])
  })
})
