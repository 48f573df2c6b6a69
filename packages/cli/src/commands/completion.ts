import type { CommandSpec } from '../command.js'

/** The option yargs answers with the completions of a partial command line (`cfs --get-yargs-completions cfs bu`). */
export const COMPLETIONS_FLAG = 'get-yargs-completions'

/** A bash function that asks cfs itself for completions, so they follow whatever commands and options it has. */
export function bashCompletionScript (bin = 'cfs'): string {
  return `# bash completion for ${bin}; install: ${bin} completion > ~/.local/share/bash-completion/completions/${bin}
# (zsh: autoload -U +X bashcompinit && bashcompinit, then source the same file)
_${bin}_complete () {
  local cur=\${COMP_WORDS[COMP_CWORD]}
  local IFS=$'\\n'
  COMPREPLY=( $(compgen -W "$(${bin} --${COMPLETIONS_FLAG} "\${COMP_WORDS[@]:0:COMP_CWORD+1}" 2>/dev/null)" -- "$cur") )
}
complete -o default -o bashdefault -F _${bin}_complete ${bin}
`
}

export const completionCommand: CommandSpec = {
  command: 'completion',
  describe: 'print a bash completion script for cfs (commands, options and their values)',
  builder: (y) => y,
  examples: [
    ['cfs completion > ~/.local/share/bash-completion/completions/cfs', 'install for your user (bash-completion loads it on demand)'],
    ['source <(cfs completion)', 'enable it in the current shell only'],
  ],
  handler: async () => ({ text: bashCompletionScript(), json: { schema: 'cfs.completion/1', shell: 'bash', script: bashCompletionScript() } }),
}
