/**
 * Shell integration for the sessions we start: bash with a generated rcfile (in the data
 * directory, passed as an argv word, never a shell string) that adds OSC 133 marks to the
 * prompt hooks, so the control-mode stream says where each command starts and ends and with
 * which exit status (see shell-marks.ts). The user's ~/.bashrc is still read first.
 */
import { accessSync, constants, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { delimiter, join } from "node:path";

// PS0 (bash >= 4.4) prints C once a command line is read, before it runs. PROMPT_COMMAND's first
// entry prints D with the status the command left, then A; B ends the prompt. A D with no C
// before it (an empty line, C-c at the prompt) is ignored by the reader.
export const BASH_RC = `# experience-mcp shell integration (generated; rewritten when a session starts).
[ -f ~/.bashrc ] && . ~/.bashrc
if (( BASH_VERSINFO[0] > 4 || (BASH_VERSINFO[0] == 4 && BASH_VERSINFO[1] >= 4) )); then
  __xmcp_prompt() {
    local s=$?
    printf '\\033]133;D;%s\\007\\033]133;A\\007' "$s"
    return $s
  }
  if [[ "$(declare -p PROMPT_COMMAND 2>/dev/null)" == "declare -a"* ]]; then
    PROMPT_COMMAND=(__xmcp_prompt "\${PROMPT_COMMAND[@]}")
  else
    PROMPT_COMMAND="__xmcp_prompt\${PROMPT_COMMAND:+; \$PROMPT_COMMAND}"
  fi
  PS0="\${PS0-}\\[\\e]133;C\\a\\]"
  PS1="\${PS1-}\\[\\e]133;B\\a\\]"
fi
`;

/** The executable `name` on PATH, or undefined. */
function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * The argv a new session runs: bash reading our rcfile (written under `<home>/shell/`), or
 * undefined when there is no bash (tmux then starts its default shell, which prints no marks).
 */
export function shellArgv(home: string): string[] | undefined {
  const bash = onPath("bash");
  if (!bash) return undefined;
  const dir = join(home, "shell");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const rc = join(dir, "bashrc");
  // Written aside and renamed: a shell starting in another process never reads half a file.
  if (!existsSync(rc) || readFileSync(rc, "utf8") !== BASH_RC) {
    const tmp = `${rc}.${process.pid}.tmp`;
    writeFileSync(tmp, BASH_RC, { mode: 0o600 });
    renameSync(tmp, rc);
  }
  return [bash, "--rcfile", rc, "-i"];
}
