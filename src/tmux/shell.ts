/**
 * Is the pane back at a shell prompt? tmux reports the pane's foreground process as
 * `#{pane_current_command}`; when that is a shell, the last command has returned.
 */
const SHELLS = new Set([
  "sh",
  "bash",
  "zsh",
  "fish",
  "dash",
  "ash",
  "ksh",
  "mksh",
  "oksh",
  "pdksh",
  "yash",
  "tcsh",
  "csh",
  "rc",
  "es",
  "nu",
  "elvish",
  "xonsh",
  "pwsh",
  "busybox",
]);

/** Normalize `-bash`, `/bin/zsh` and the like to a bare program name. */
export function commandName(command: string): string {
  const base = command.trim().replace(/^-/, "").split("/").pop() ?? "";
  return base;
}

export function isShell(command: string): boolean {
  return SHELLS.has(commandName(command));
}
