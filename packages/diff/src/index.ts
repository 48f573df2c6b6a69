export { diffManifests, contentOf, IGNORABLE, ATTRIBUTES } from './diff-manifests.js'
export type { DiffOptions, DiffResult, Change, ChangeKind, AttributeChange, Attribute, Content, Ignorable, LinkGroup, Mtime } from './diff-manifests.js'
export { summarizeDiff } from './summarize-diff.js'
export type { DiffSummary, KindSummary, DirectoryChurn } from './summarize-diff.js'
export { diffToJson, changeToJson, contentToJson, modeString, splitDev, DIFF_JSON_SCHEMA } from './diff-to-json.js'
export type { DiffJson, JsonChange, JsonEntry, JsonContent } from './diff-to-json.js'
// re-exported for the diff's users: the one byte-string display form lives with the model
export { escapeBytes, unescapeBytes } from '@cfs/manifest'
