/**
 * Asking for training (what train_model does once it knows the tensors): examples too few to hold
 * any out are kept for the next request and answered at once; otherwise one request per tensor is
 * queued (or the open one returned) and a worker is made sure of. The SQL lives here, beside the
 * queue; the tool only checks its arguments, resolves a module to its tensors and words the answer.
 */
import type { Db } from "../storage/db.js";
import { heldOutCount } from "./dataset.js";
import type { Gates } from "./gates.js";
import { enqueue, type Backend, type ExampleSource } from "./queue.js";
import { ensureWorker, type WorkerState } from "./spawn.js";

/** Fewest held-out examples a request must have for its gates to mean something (issue 15). */
export const MIN_HELDOUT = 2;

export interface Example {
  input: string;
  expected: string;
}

export interface TrainingAsk {
  tensors: readonly string[];
  source?: ExampleSource;
  backend: Backend;
  gates: Gates;
  /** Given with the request, for its one tensor; stored and trained on with the recorded ones. */
  examples: readonly Example[];
}

export interface QueuedRequest {
  tensor: string;
  request_id: string;
  status: "queued" | "duplicate";
  position: number;
}

export type TrainingAnswer =
  | { status: "too_small"; tensor: string; /** distinct inputs it has now */ distinct: number }
  | { status: "queued"; queued: QueuedRequest[]; worker: WorkerState };

export function requestTraining(db: Db, home: string, ask: TrainingAsk): TrainingAnswer {
  const { tensors, source, examples } = ask;
  // Examples too few to hold enough out: answered now, the examples kept for the next request.
  const tooSmall = tensors.filter((t) => examples.length > 0 && !openRequest(db, t) && heldOutCount([...queuedInputs(db, t, source), ...examples.map((e) => e.input)]) < MIN_HELDOUT);
  if (tooSmall.length === tensors.length) {
    const tensor = tensors[0]!;
    if (examples.length > 0) keepExamples(db, tensor, examples);
    return { status: "too_small", tensor, distinct: new Set(queuedInputs(db, tensor, source)).size };
  }
  const queued = tensors
    .filter((t) => !tooSmall.includes(t))
    .map((tensor): QueuedRequest => {
      const q = enqueue(db, { tensor, source, backend: ask.backend, gates: ask.gates, examples });
      return { tensor, request_id: q.request.id, status: q.duplicate ? "duplicate" : "queued", position: q.position };
    });
  return { status: "queued", queued, worker: ensureWorker(db, home) };
}

/** Examples a run for `tensor` would train on: verified, not used by a deployed run. */
export function unusedExamples(db: Db, tensor: string, source: ExampleSource | undefined): number {
  return queuedInputs(db, tensor, source).length;
}

function queuedInputs(db: Db, tensor: string, source: ExampleSource | undefined): string[] {
  const sql = "SELECT input FROM examples WHERE tensor = ? AND used_at IS NULL AND rejected_at IS NULL AND verified = 1" + (source ? " AND source = ?" : "");
  return db.prepare(sql).pluck().all(...(source ? [tensor, source] : [tensor])) as string[];
}

function openRequest(db: Db, tensor: string): boolean {
  return db.prepare("SELECT 1 FROM train_requests WHERE tensor = ? AND status IN ('queued', 'running')").get(tensor) !== undefined;
}

/** Store a too-small request's examples without a request: the next one for the tensor trains on them. */
function keepExamples(db: Db, tensor: string, examples: readonly Example[]): void {
  const insert = db.prepare("INSERT INTO examples (tensor, input, expected, source, run_id, created_at) VALUES (?, ?, ?, 'examples', NULL, ?)");
  const now = Date.now();
  db.transaction(() => {
    for (const e of examples) insert.run(tensor, e.input, e.expected, now);
  }).immediate();
}
