/**
 * Failure→fix pairs in a transcript, by the rules the live hook follows: a failed Bash call waits;
 * the successful commands and edits after it in the same session are its steps; when the failed
 * command (or one of the same shape in the same directory) succeeds, the steps are its fix. The
 * same command failing again starts over; a failure older than the window is dropped.
 */
import { relative } from "node:path";
import { programOf, sameCommand, shapeOf } from "../hooks/command.js";
import { MAX_STEPS, PENDING_WINDOW_MS } from "../hooks/pending.js";
import { FixInputError, type FixRegistry } from "../registry/registry.js";
import type { ToolCall } from "./transcript.js";

const EDIT_TOOLS = new Set(["Edit", "Write", "MultiEdit", "NotebookEdit"]);

export interface FixPair {
  /** tool_use id of the failed call: the pair's identity, so a re-read stores it once. */
  id: string;
  sessionId: string;
  cwd: string;
  command: string;
  /** The failure text without its "Exit code N" line. */
  error: string;
  fix: string;
  /** tool_use id of the call whose success closed it. */
  resolvedBy: string;
}

interface Waiting {
  call: ToolCall;
  error: string;
  at: number;
  steps: string[];
}

function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}

function stepOf(call: ToolCall): string | undefined {
  if (call.name === "Bash") return str(call.input.command).trim() || undefined;
  if (!EDIT_TOOLS.has(call.name)) return undefined;
  const file = str(call.input.file_path) || str(call.input.notebook_path);
  if (!file) return undefined;
  const rel = call.cwd ? relative(call.cwd, file) : file;
  return `edit ${rel && !rel.startsWith("..") ? rel : file}`;
}

export function extractPairs(calls: readonly ToolCall[]): FixPair[] {
  const pairs: FixPair[] = [];
  const waiting = new Map<string, Waiting[]>(); // by session
  for (const call of calls) {
    if (!call.result) continue;
    const at = Date.parse(call.timestamp) || 0;
    const list = (waiting.get(call.sessionId) ?? []).filter((w) => !at || !w.at || at - w.at <= PENDING_WINDOW_MS);
    waiting.set(call.sessionId, list);
    if (call.result.isError) {
      if (call.name !== "Bash") continue;
      const command = str(call.input.command).trim();
      const error = call.result.text.replace(/^\s*Exit code -?\d+\s*\n?/, "").trim();
      if (!command || !error || /interrupted by user/i.test(error)) continue;
      const kept = list.filter((w) => !sameCommand(str(w.call.input.command), command));
      kept.push({ call, error, at, steps: [] });
      waiting.set(call.sessionId, kept);
      continue;
    }
    const step = stepOf(call);
    if (!step) continue;
    const command = call.name === "Bash" ? step : "";
    const open: Waiting[] = [];
    for (const w of list) {
      const failed = str(w.call.input.command);
      const closes = command !== "" && (sameCommand(failed, command) || (shapeOf(command) !== "" && w.call.cwd === call.cwd && shapeOf(failed) === shapeOf(command)));
      if (!closes) {
        if (w.steps[w.steps.length - 1] !== step) w.steps = [...w.steps, step].slice(-MAX_STEPS);
        open.push(w);
      } else if (w.steps.length > 0) {
        pairs.push({ id: w.call.id, sessionId: w.call.sessionId, cwd: w.call.cwd, command: failed.trim(), error: w.error, fix: w.steps.join("\n"), resolvedBy: call.id });
      }
    }
    waiting.set(call.sessionId, open);
  }
  return pairs;
}

/**
 * Register a pair as a candidate fix; a problem resolved before (a second occurrence) earns it
 * trust. Returns the signature, or undefined for an error that is all noise once normalized.
 */
export function registerCandidate(registry: FixRegistry, p: { error: string; fix: string; command: string; repo: string }): string | undefined {
  try {
    const before = registry.lookup(p.error, { limit: 1 })[0];
    const r = registry.register({ error: p.error, fix: p.fix, context: programOf(p.command), status: "candidate", repo: p.repo });
    if (r.status === "reinforced" && before?.signature === r.signature && before.status === "candidate") registry.reportOutcome(r.signature, true);
    return r.signature;
  } catch (err) {
    if (err instanceof FixInputError) return undefined;
    throw err;
  }
}
