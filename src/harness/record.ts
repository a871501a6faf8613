/**
 * A successful run teaches: each step's (decision input -> decision) and (command input ->
 * command) pairs are stored as training examples (`source = 'runs'`) for the training worker.
 * Outputs are stored as the experts gave them, placeholders unfilled, like the rows they came from.
 */
import type { Db } from "../experience/db.js";

export interface Example {
  tensor: string;
  input: string;
  expected: string;
}

/** Insert the examples of one run in one transaction; returns how many were stored. */
export function recordRun(db: Db, runId: string, examples: readonly Example[]): number {
  if (examples.length === 0) return 0;
  const insert = db.prepare("INSERT INTO examples (tensor, input, expected, source, run_id, created_at) VALUES (?, ?, ?, 'runs', ?, ?)");
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
