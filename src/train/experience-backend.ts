/**
 * The offline `experience` backend: one StSGD-style pass over the training items, writing into a
 * staging version. Each item is forwarded through the staging expert; loss = normalized edit
 * distance to the expected output. A non-zero loss yields a symbolic gradient, the row change that
 * would have produced the expected output, applied at once (so later items see it):
 *  - patch: the best row matched the input exactly (Jaccard 1: same tokens) but answered wrong →
 *    its value is replaced by the expected output;
 *  - add: no row matched exactly → a row (key = input, value = expected) is added, which the same
 *    input now retrieves with score 1 and similar inputs retrieve by their shared tokens.
 * The gradient's text is a unified-diff hunk from the answer to the expected output.
 */
import { setImmediate as yieldToLoop } from "node:timers/promises";
import type { Db } from "../experience/db.js";
import type { ExperienceStore } from "../experience/store.js";
import { unifiedHunk } from "./hunk.js";
import { normalizedDistance } from "./levenshtein.js";
import { VersionExpert, round } from "./forward.js";
import type { Item } from "./dataset.js";

export interface Gradient {
  op: "patch" | "add";
  input: string;
  loss: number;
  /** The row patched (in the staging version) or added. */
  row_id: number;
  diff: string;
}

export interface TrainResult {
  items: number;
  /** Mean loss over the pass, each item measured before its own update. */
  loss: number;
  patched: number;
  added: number;
  gradients: Gradient[];
}

export async function trainExperience(db: Db, store: ExperienceStore, tensor: string, staging: number, items: readonly Item[], alive: () => void): Promise<TrainResult> {
  const expert = new VersionExpert(db, tensor, staging);
  const rowQuery = db.prepare<[number], { query: string; key: string }>("SELECT query, key FROM rows WHERE id = ?");
  const gradients: Gradient[] = [];
  let lossSum = 0;
  let patched = 0;
  let added = 0;
  for (let i = 0; i < items.length; i++) {
    // Let the heartbeat timer run, and stop early when this run was taken away.
    if (i % 25 === 0) {
      await yieldToLoop();
      alive();
    }
    const item = items[i]!;
    const expected = item.expected.trim();
    const f = await expert.forward(item.input);
    const loss = normalizedDistance(f.output, expected);
    lossSum += loss;
    if (loss === 0 || !expected) continue;
    const diff = unifiedHunk(f.output, expected);
    const best = f.row_id !== undefined && f.score === 1 ? rowQuery.get(f.row_id) : undefined;
    if (best && f.row_id !== undefined) {
      const id = store.replaceRow(f.row_id, { query: best.query, key: best.key, value: expected });
      gradients.push({ op: "patch", input: item.input, loss: round(loss), row_id: id, diff });
      patched++;
    } else {
      store.rememberMany(tensor, [{ query: "", key: item.input, value: expected }], staging);
      const row = db.prepare<[string, number], { id: number }>("SELECT id FROM rows WHERE tensor = ? AND version = ? ORDER BY id DESC LIMIT 1").get(tensor, staging);
      gradients.push({ op: "add", input: item.input, loss: round(loss), row_id: row?.id ?? -1, diff });
      added++;
    }
  }
  return { items: items.length, loss: items.length ? round(lossSum / items.length) : 0, patched, added, gradients };
}
