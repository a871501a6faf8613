/**
 * Failures of the terminal layer that the caller can act on. The MCP tools turn these into
 * `isError` results (their messages already say what to do); anything else is a bug.
 */
export type TerminalErrorCode =
  | "tmux-missing"
  | "no-session"
  | "session-exists"
  | "bad-name"
  | "bad-key"
  | "bad-input"
  | "timeout"
  | "busy"
  | "tmux-failed";

export class TerminalError extends Error {
  override name = "TerminalError";
  constructor(
    readonly code: TerminalErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export const TMUX_MISSING_MESSAGE = "tmux is not installed: apt-get install tmux / brew install tmux";

export function noSession(session: string): TerminalError {
  return new TerminalError("no-session", `no session ${session}: create it with tmux_session action=create`);
}
