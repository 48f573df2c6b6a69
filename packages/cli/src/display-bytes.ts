/**
 * Byte strings (names, targets) as terminal text: valid UTF-8 prints as itself; invalid bytes, control characters
 * and backslash print as `\xHH` / `\\`, so every name is visible, unambiguous and one line. The one
 * implementation is @cfs/manifest's `escapeBytes` (also what `cfs diff` and the HTML pages show).
 */
export { escapeBytes as displayBytes } from '@cfs/manifest'
