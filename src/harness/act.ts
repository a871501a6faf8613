/**
 * Act: type a command, or press keys and, when they run the typed command (Enter) or interrupt
 * it (C-c), wait for it to end and take its output.
 */
import type { Terminal } from "../tmux/terminal.js";
import { outputAfter } from "./derive.js";
import type { Ran } from "./judge.js";
import { STATES } from "./modules.js";
import type { Observation, Observer } from "./observe.js";

const CLEAR_LINE = ["C-e", "C-u"];

export async function clearLine(terminal: Terminal, session: string): Promise<void> {
  await terminal.sendKeys(session, CLEAR_LINE);
}

/** Type `command` alone on the line (whatever was there cleared first), not run yet; returns the trail commits. */
export async function typeCommand(terminal: Terminal, session: string, obs: Observation, command: string): Promise<string[]> {
  if (obs.state === STATES.typedCommand || obs.state === STATES.noPrompt) await clearLine(terminal, session);
  return (await terminal.sendText(session, command)).commits;
}

export function runsCommand(keys: readonly string[]): boolean {
  return keys.some((k) => k === "Enter" || k === "C-m" || k === "C-j");
}

/**
 * Press `keys`. `typed` is the command they run (keys with Enter while one is typed), whose output
 * comes back as `ran`; after such keys or C-c, wait at most `stepTimeoutMs()` for the prompt.
 */
export async function pressKeys(
  terminal: Terminal,
  observer: Observer,
  keys: string[],
  typed: string | undefined,
  stepTimeoutMs: () => number,
): Promise<{ commits: string[]; waited: boolean; note: string; ran?: Ran }> {
  const session = observer.session;
  // The shell's OSC 133 marks (when it prints them) say when the command ends, its status and its output.
  const seqBefore = typed !== undefined && terminal.hasShellMarks(session) ? terminal.lastCommandSeq(session) : undefined;
  const promptBefore = observer.prompt;
  const commits = (await terminal.sendKeys(session, keys)).commits;
  if (typed === undefined && !keys.includes("C-c")) return { commits, waited: false, note: "" };
  const record = seqBefore !== undefined ? await terminal.waitForCommandEnd(session, seqBefore, { timeoutMs: stepTimeoutMs() }) : undefined;
  const note = await observer.waitForCommand(stepTimeoutMs());
  if (typed === undefined) return { commits, waited: true, note };
  const cap = await observer.observe();
  const exit = record ? record.exitCode : undefined;
  const output = record ? record.output.replace(/\r/g, "") : outputAfter(cap.screen, typed, promptBefore);
  return { commits, waited: true, note, ran: { command: typed, output, exit } };
}
