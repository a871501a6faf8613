/**
 * (observation, decision, command) triples in a transcript: for each Bash call that succeeded,
 * what the assistant had just seen (the user's words or the last tool output), what it said it
 * would do, and the command it ran. Stored as experience rows, they answer "how was this done
 * here before?" when a similar situation comes back.
 */
import type { ToolCall } from "./transcript.js";

/** Observation: the last this many non-blank lines of what was seen, each cut to LINE_CHARS. */
const OBSERVATION_LINES = 8;
const LINE_CHARS = 200;
/** Decision: the first paragraph of the assistant's text, cut to this. */
const DECISION_CHARS = 300;
/** Commands longer than this are scripts, not reusable steps. */
const COMMAND_CHARS = 1000;

export interface TranscriptTriple {
  /** tool_use id of the call: the triple's identity, so a re-read stores it once. */
  id: string;
  sessionId: string;
  cwd: string;
  observation: string;
  decision: string;
  command: string;
}

export function tail(text: string, lines = OBSERVATION_LINES): string {
  return text
    .split("\n")
    .map((l) => l.trimEnd())
    .filter((l) => l.trim() !== "")
    .slice(-lines)
    .map((l) => (l.length > LINE_CHARS ? `${l.slice(0, LINE_CHARS)}…` : l))
    .join("\n");
}

function firstParagraph(text: string): string {
  const p = text.trim().split(/\n\s*\n/)[0]?.trim() ?? "";
  return p.length > DECISION_CHARS ? `${p.slice(0, DECISION_CHARS)}…` : p;
}

export function extractTriples(calls: readonly ToolCall[]): TranscriptTriple[] {
  const out: TranscriptTriple[] = [];
  for (const call of calls) {
    if (call.name !== "Bash" || !call.result || call.result.isError) continue;
    const command = typeof call.input.command === "string" ? call.input.command.trim() : "";
    const decision = firstParagraph(call.intent);
    if (!command || command.length > COMMAND_CHARS || !decision) continue;
    out.push({ id: call.id, sessionId: call.sessionId, cwd: call.cwd, observation: tail(call.before), decision, command });
  }
  return out;
}
