import { commands } from '../src/commands/index.js'

describe('commands index', () => {
  test('each entry lists the command and line of the spec it loads', async () => {
    for (const entry of commands) {
      const spec = await entry.load()
      expect({ command: spec.command, describe: spec.describe }).toEqual({ command: entry.command, describe: entry.describe })
    }
  })
})
