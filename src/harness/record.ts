/**
 * A verified run teaches: each step's (decision input -> decision) and (command input ->
 * command) pairs are stored as training examples (`source = 'runs'`) for the training worker.
 * Outputs are stored as the experts gave them, placeholders unfilled, like the rows they came from.
 */
import type { Db } from "../storage/db.js";
import type { Terminal } from "../tmux/terminal.js";

export interface Example {
  tensor: string;
  input: string;
  expected: string;
}

/**
 * Insert the examples of one run in one transaction; returns how many were stored. Only a
 * verified run's examples are trained on by default: an unverified one is kept, marked 0.
 */
export function recordRun(db: Db, runId: string, examples: readonly Example[], verified = true): number {
  if (examples.length === 0) return 0;
  const insert = db.prepare(`INSERT INTO examples (tensor, input, expected, source, run_id, created_at, verified) VALUES (?, ?, ?, 'runs', ?, ?, ${verified ? 1 : 0})`);
  const run = db.transaction(() => {
    const now = Date.now();
    for (const e of examples) insert.run(e.tensor, e.input, e.expected, runId, now);
    return examples.length;
  });
  return run.immediate();
}

export interface StoredExample extends Example {
  id: number;
  source: string;
  run_id: string | null;
  created_at: number;
  used_at: number | null;
}

/** The examples of one run, in insertion order. */
export function examplesOfRun(db: Db, runId: string): StoredExample[] {
  return db.prepare("SELECT * FROM examples WHERE run_id = ? ORDER BY id").all(runId) as StoredExample[];
}

/**
 * A run that did not solve its task, kept per session so that what the agent then types there by
 * hand can teach the command expert (harvest of trails turns it into a `source = 'trail'` example).
 * Only the latest unsolved run of a session is kept; a solved run clears it.
 */
export interface UnsolvedRun {
  run_id: string;
  /** The command tensor the demonstration teaches. */
  tensor: string;
  /** The command expert's input for a typed command ("text: <hint>\ntask: <task template>"). */
  input: string;
  /** The task's quoted parameters, to write the demonstrated command back as a template. */
  params: string[];
  /** The session's last trail seq when the run ended: the demonstration comes after it. */
  seq: number;
}

const unsolvedKey = (session: string) => `harness.unsolved:${session}`;

export function recordUnsolved(db: Db, session: string, run: UnsolvedRun): void {
  db.prepare("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(unsolvedKey(session), JSON.stringify(run));
}

export function clearUnsolved(db: Db, session: string): void {
  db.prepare("DELETE FROM meta WHERE key = ?").run(unsolvedKey(session));
}

export function unsolvedRun(db: Db, session: string): UnsolvedRun | undefined {
  const raw = db.prepare("SELECT value FROM meta WHERE key = ?").pluck().get(unsolvedKey(session)) as string | undefined;
  if (!raw) return undefined;
  try {
    const r = JSON.parse(raw) as Partial<UnsolvedRun>;
    const ok = typeof r.run_id === "string" && typeof r.tensor === "string" && typeof r.input === "string" && Array.isArray(r.params) && typeof r.seq === "number";
    return ok ? (r as UnsolvedRun) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Record what a run ended with: a verified run's examples (an unverified one's kept apart); an
 * unsolved run that asked for a typed command waits for the agent's demonstration in its session.
 * Returns how many examples were stored.
 */
export async function recordOutcome(
  db: Db,
  terminal: Terminal,
  run: { runId: string; session: string; outcome: string; sessionEnded: boolean; examples: readonly Example[]; tensor: string; textInput: string | undefined; params: string[] },
): Promise<number> {
  const success = run.outcome === "verified";
  const recorded = success || run.outcome === "unverified" ? recordRun(db, run.runId, run.examples, success) : 0;
  if (success) clearUnsolved(db, run.session);
  else if (run.textInput && !run.sessionEnded) {
    const seq = await terminal.recordedSteps(run.session).catch(() => undefined);
    if (seq !== undefined) recordUnsolved(db, run.session, { run_id: run.runId, tensor: run.tensor, input: run.textInput, params: run.params, seq });
  }
  return recorded;
}
