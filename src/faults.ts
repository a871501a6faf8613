import { damagedReason, damagedSentence, isCorruption } from "./storage/db.js";

/**
 * Faults of the machine or the store, which no change of arguments fixes: each becomes one
 * sentence that says what happened and what to do. Undefined for anything else.
 */
export function faultSentence(err: unknown, home: string): string | undefined {
  const e = err as NodeJS.ErrnoException & { code?: unknown };
  const code = typeof e?.code === "string" ? e.code : "";
  const message = String(e?.message ?? err);
  if (isCorruption(err)) return damagedSentence(home, message);
  if (code === "SQLITE_READONLY" || code.startsWith("SQLITE_READONLY_")) {
    const damaged = damagedReason(home);
    if (damaged !== undefined) return damagedSentence(home, `found damaged earlier: ${damaged}`);
    return `The experience database in ${home} is read-only for this process, so nothing can be stored: make the directory and experience.db writable, or use the reading tools only (--read-only).`;
  }
  if (code === "SQLITE_FULL" || code === "ENOSPC") return `The disk holding ${home} is full: free some space, then try again.`;
  const program = missingProgram(err);
  if (program) return missingProgramSentence(program);
  if (code === "EROFS") return `The data directory ${home} is on a read-only file system: set EXPERIENCE_MCP_HOME to a writable directory, or start the server with --read-only.`;
  return undefined;
}

/** The program a failed spawn could not find (`spawn git ENOENT`), if that is what `err` is. */
export function missingProgram(err: unknown): string | undefined {
  const e = err as { code?: unknown; syscall?: unknown; path?: unknown; message?: unknown };
  if (e?.code === "ENOENT" && typeof e.syscall === "string" && e.syscall.startsWith("spawn") && typeof e.path === "string") return e.path;
  // simple-git wraps the spawn error in its own, keeping only the text
  const m = /\bspawn (\S+) ENOENT\b/.exec(String(e?.message ?? ""));
  return m?.[1];
}

const INSTALL: Record<string, string> = {
  git: "git is not installed or not on this server's PATH: install it (apt-get install git / brew install git); the terminal tools record every session in a git repository.",
  tmux: "tmux is not installed or not on this server's PATH: install it (apt-get install tmux / brew install tmux), or set EXPERIENCE_MCP_TMUX to its path.",
};

export function missingProgramSentence(program: string): string {
  const name = program.split("/").pop() ?? program;
  return INSTALL[name] ?? `${name} is not installed or not on this server's PATH: install it, then try again.`;
}

/** The first line of an error's message: a stack or a dump below it is for the log, not the caller. */
export function firstLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return (message.split("\n").find((l) => l.trim() !== "") ?? message).replace(/^(?:Error: )+/, "").trim();
}
