/**
 * Observe: what the session shows the loop. The screen, whether the shell is at an empty prompt,
 * has a command typed or runs one, and when a command is done. The prompt is learnt from the first
 * screen and relearnt after a command that changes it (cd).
 */
import { TerminalError } from "../tmux/errors.js";
import { isShell } from "../tmux/shell.js";
import type { Terminal } from "../tmux/terminal.js";
import { STATES } from "./modules.js";

export interface Observation {
  screen: string;
  state: (typeof STATES)[keyof typeof STATES];
  foreground: string;
  typed: string;
}

/** After Enter, a shell back in the foreground and this quiet means the command is done even if the prompt changed (cd). */
const PROMPT_CHANGE_QUIET_MS = 1000;

export function lastLine(screen: string): string {
  const lines = screen.split("\n").filter((l) => l.trim() !== "");
  return lines[lines.length - 1]?.trimEnd() ?? "";
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

export class Observer {
  /** What the last line shows while nothing is typed. */
  prompt: string;

  constructor(
    private readonly terminal: Terminal,
    readonly session: string,
    firstScreen: string,
  ) {
    this.prompt = lastLine(firstScreen);
  }

  async observe(): Promise<Observation> {
    const cap = await this.terminal.capture(this.session, { maxChars: 20_000 });
    const last = lastLine(cap.text);
    const shell = isShell(cap.current_command);
    const prompt = this.prompt;
    let state: Observation["state"];
    let typed = "";
    if (!shell) state = STATES.running;
    else if (prompt && last === prompt) state = STATES.emptyPrompt;
    else if (prompt && last.startsWith(prompt)) {
      state = STATES.typedCommand;
      typed = last.slice(prompt.length).trim();
    } else state = STATES.noPrompt;
    return { screen: cap.text, state, foreground: cap.current_command, typed };
  }

  /** After Enter or C-c: the prompt is back (or, if it changed, a quiet shell), or `timeoutMs` is up; returns a note for the step's detail. */
  async waitForCommand(timeoutMs: number): Promise<string> {
    const { terminal, session } = this;
    const promptBack = new RegExp(`(?:^|\\n)${escapeRegExp(this.prompt)}$`);
    const back = terminal.waitForText(session, promptBack, { timeoutMs }).then(() => "prompt" as const);
    const quietShell = terminal.waitForShell(session, { quietMs: PROMPT_CHANGE_QUIET_MS, timeoutMs }).then(() => "shell" as const);
    // The loser keeps watching until its timeout or the session's end: its rejection is expected.
    back.catch(() => undefined);
    quietShell.catch(() => undefined);
    try {
      const how = await Promise.race([back, quietShell]);
      if (how === "shell") {
        const now = lastLine((await terminal.capture(session)).text);
        // A new prompt (after cd, say), but not output without a final newline ("hi" + prompt).
        // Neither is the typed line of a command that has not started yet (a slow fork under load).
        if (now && !now.startsWith(this.prompt) && !now.endsWith(this.prompt)) this.prompt = now;
      }
      return "";
    } catch (err) {
      if (err instanceof TerminalError && err.code === "timeout") return ` (still running after ${Math.round(timeoutMs / 1000)} s)`;
      throw err;
    }
  }
}
