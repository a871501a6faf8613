/**
 * Dataset assembly for one training request: new experience (unused examples of the tensor) split
 * deterministically into train and held-out eval, mixed 70/30 with replay of the base version's own
 * rows, written as a JSONL batch and a manifest under `<home>/training/<request_id>/`.
 */
import { createHash } from "node:crypto";
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { redactFileText, redactValue } from "../storage/redact.js";
import { join } from "node:path";
import type { Db } from "../storage/db.js";
import type { ExperienceStore } from "../experience/store.js";
import type { TrainRequest } from "./queue.js";

/** Share of the training batch taken by replay of existing rows (the rest is new experience). */
export const REPLAY_SHARE = 0.3;
/** One in EVAL_MODULUS distinct inputs is held out (by the hash of the input). */
export const EVAL_MODULUS = 5;
/** Most new examples one run reads (oldest first); the rest wait for the next run. */
export const MAX_NEW = 2000;
/** Most replay rows evaluated for regressions. */
export const MAX_REPLAY_EVAL = 200;

export interface Item {
  input: string;
  expected: string;
  origin: "new" | "replay";
  /** The examples behind a new item (several when the same input was recorded more than once). */
  example_ids?: number[];
  /** The base version's row behind a replay item. */
  row_id?: number;
}

export interface Dataset {
  request_id: string;
  tensor: string;
  base_version: number;
  /** New and replay items, mixed in a deterministic order. */
  train: Item[];
  /** Held-out new items: the gates' main measure. */
  eval: Item[];
  /** Base rows not replayed in training: the gates' regression measure. */
  replay_eval: Item[];
  /** Every example id read (marked used only when the run deploys). */
  example_ids: number[];
  counts: { examples: number; new_train: number; new_eval: number; replay_train: number; replay_eval: number; conflicts: number };
}

function hashInt(text: string): number {
  return createHash("sha256").update(text).digest().readUInt32BE(0);
}

/** How many of these distinct inputs the split holds out (the same rule as assembleDataset). */
export function heldOutCount(inputs: Iterable<string>): number {
  const distinct = [...new Set(inputs)];
  const held = distinct.filter((i) => hashInt(i) % EVAL_MODULUS === 0).length;
  if (distinct.length >= 2 && held === 0) return 1;
  if (distinct.length >= 2 && held === distinct.length) return distinct.length - 1;
  return held;
}

interface ExampleRow {
  id: number;
  input: string;
  expected: string;
}

/**
 * One item per distinct input. When recordings disagree, the most frequent expected output wins
 * (ties: the most recent), and the disagreement is counted.
 */
function groupExamples(rows: readonly ExampleRow[]): { items: Item[]; conflicts: number } {
  const byInput = new Map<string, ExampleRow[]>();
  for (const r of rows) {
    const list = byInput.get(r.input);
    if (list) list.push(r);
    else byInput.set(r.input, [r]);
  }
  let conflicts = 0;
  const items: Item[] = [];
  for (const [input, list] of byInput) {
    const votes = new Map<string, { n: number; last: number }>();
    for (const r of list) {
      const v = votes.get(r.expected) ?? { n: 0, last: 0 };
      votes.set(r.expected, { n: v.n + 1, last: Math.max(v.last, r.id) });
    }
    if (votes.size > 1) conflicts++;
    const [expected] = [...votes].sort((a, b) => b[1].n - a[1].n || b[1].last - a[1].last)[0]!;
    items.push({ input, expected, origin: "new", example_ids: list.map((r) => r.id) });
  }
  return { items, conflicts };
}

export function assembleDataset(db: Db, store: ExperienceStore, request: TrainRequest, baseVersion: number): Dataset {
  // This request's own examples always; others of the tensor (of the requested source) that no
  // run has used, a rejected request's included: they wait for the next one. Examples of runs
  // whose effect nothing checked (verified = 0) are never trained on.
  const rows = db
    .prepare(
      `SELECT id, input, expected FROM examples
       WHERE tensor = ? AND used_at IS NULL AND verified = 1 AND (run_id = ? OR (rejected_at IS NULL AND (? IS NULL OR source = ?)))
       ORDER BY id LIMIT ?`,
    )
    .all(request.tensor, request.id, request.source, request.source, MAX_NEW) as ExampleRow[];
  const { items, conflicts } = groupExamples(rows);

  // Deterministic split by the input's hash: the same input is always on the same side.
  const keyed = items.map((item) => ({ item, h: hashInt(item.input) }));
  let evalSide = keyed.filter((k) => k.h % EVAL_MODULUS === 0);
  let trainSide = keyed.filter((k) => k.h % EVAL_MODULUS !== 0);
  // Small batches: keep at least one item on each side when there are two or more.
  if (keyed.length >= 2 && evalSide.length === 0) {
    const pick = [...trainSide].sort((a, b) => a.h - b.h)[0]!;
    evalSide = [pick];
    trainSide = trainSide.filter((k) => k !== pick);
  } else if (keyed.length >= 2 && trainSide.length === 0) {
    const pick = [...evalSide].sort((a, b) => b.h - a.h)[0]!;
    trainSide = [pick];
    evalSide = evalSide.filter((k) => k !== pick);
  }
  const newTrain = trainSide.map((k) => k.item);
  const newEval = evalSide.map((k) => k.item);

  // Replay: base rows in an order fixed by (request, row id); the first ones fill 30 % of the batch.
  const base = store
    .rows(request.tensor, baseVersion)
    .map((r) => ({ r, h: hashInt(`${request.id}\u0000${r.id}`) }))
    .sort((a, b) => a.h - b.h || a.r.id - b.r.id)
    .map(({ r }): Item => ({ input: r.key, expected: r.value, origin: "replay", row_id: r.id }));
  const wanted = Math.ceil((newTrain.length * REPLAY_SHARE) / (1 - REPLAY_SHARE));
  const replayTrain = base.slice(0, Math.min(wanted, base.length));
  const replayEval = base.slice(replayTrain.length, replayTrain.length + MAX_REPLAY_EVAL);

  // Interleave by hash so neither kind is processed in one block.
  const train = [...newTrain, ...replayTrain]
    .map((item) => ({ item, h: hashInt(`${item.origin}\u0000${item.input}\u0000${item.row_id ?? ""}`) }))
    .sort((a, b) => a.h - b.h)
    .map((k) => k.item);

  return {
    request_id: request.id,
    tensor: request.tensor,
    base_version: baseVersion,
    train,
    eval: newEval,
    replay_eval: replayEval,
    example_ids: rows.map((r) => r.id),
    counts: {
      examples: rows.length,
      new_train: newTrain.length,
      new_eval: newEval.length,
      replay_train: replayTrain.length,
      replay_eval: replayEval.length,
      conflicts,
    },
  };
}

/** Write `content` to `path` through a temp file and a rename: readers never see half a file. */
export function writeAtomic(path: string, content: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  // Every training file is written here: redacted on the way to disk (JSON/JSONL stay valid).
  writeFileSync(tmp, redactFileText(content), { mode: 0o600 });
  renameSync(tmp, path);
}

export function trainingDir(home: string, requestId: string): string {
  return join(home, "training", requestId);
}

/** batch.jsonl (one item per line, with its split) and manifest.json; returns the directory. */
export function writeBatch(home: string, d: Dataset, backend: string): string {
  const dir = trainingDir(home, d.request_id);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const lines = [
    ...d.train.map((i) => ({ split: "train", ...i })),
    ...d.eval.map((i) => ({ split: "eval", ...i })),
    ...d.replay_eval.map((i) => ({ split: "replay_eval", ...i })),
  ].map((l) => JSON.stringify(redactValue(l))); // redacted before hashing, so the manifest's sha256 is the file's
  const batch = lines.length ? `${lines.join("\n")}\n` : "";
  writeAtomic(join(dir, "batch.jsonl"), batch);
  const trainTotal = d.counts.new_train + d.counts.replay_train;
  const manifest = {
    request_id: d.request_id,
    tensor: d.tensor,
    base_version: d.base_version,
    backend,
    counts: d.counts,
    replay_share: trainTotal ? Math.round((d.counts.replay_train / trainTotal) * 1000) / 1000 : 0,
    split: `eval = sha256(input)[0..4] as uint32 % ${EVAL_MODULUS} == 0; at least one item on each side when there are two or more`,
    files: { batch: "batch.jsonl", sha256: createHash("sha256").update(batch).digest("hex") },
    created_at: new Date().toISOString(),
  };
  writeAtomic(join(dir, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  return dir;
}
