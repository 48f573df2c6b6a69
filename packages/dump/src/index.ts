export { parseDump, readDump, DumpParser, DUMP_LINE_MAX } from './parse-dump.js'
export type { ParseDumpOptions } from './parse-dump.js'
export { unescapeField, escapePath, escapeOptional, escapeXattr } from './escape.js'
