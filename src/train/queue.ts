/**
 * The training request queue, in SQLite (table train_requests, migration 3), and the worker lock.
 *
 * Lifecycle: queued → running → deployed | rejected | failed. A request whose worker stopped
 * heartbeating for STALE_MS is put back to queued (its staging version dropped) and retried, up
 * to MAX_ATTEMPTS claims; then it fails. At most one request per tensor is queued or running (a
 * partial unique index), so a second request for it is answered as a duplicate of the first.
 */
import { randomUUID } from "node:crypto";
import type { Db } from "../storage/db.js";

export const STATUSES = ["queued", "running", "deployed", "rejected", "failed"] as const;
export type RequestStatus = (typeof STATUSES)[number];
export const SOURCES = ["runs", "trail", "examples"] as const;
export type ExampleSource = (typeof SOURCES)[number];
export const BACKENDS = ["experience", "command", "openai"] as const;
export type Backend = (typeof BACKENDS)[number];

/** A worker that has not heartbeaten for this long is presumed dead. */
export const STALE_MS = 30_000;
/** How often a worker heartbeats (its lock and its running request). */
export const HEARTBEAT_MS = 2_000;
/** A request is claimed at most this many times (a worker died during the others). */
export const MAX_ATTEMPTS = 3;

export interface TrainRequest {
  id: string;
  tensor: string;
  source: ExampleSource | null;
  backend: Backend;
  gates: string;
  status: RequestStatus;
  attempts: number;
  worker: string | null;
  heartbeat_at: number | null;
  base_version: number | null;
  version: number | null;
  metrics: string | null;
  gate_results: string | null;
  error: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
}

export interface NewRequest {
  tensor: string;
  source?: ExampleSource;
  backend: Backend;
  gates: object;
  examples: ReadonlyArray<{ input: string; expected: string }>;
}

export interface Enqueued {
  request: TrainRequest;
  duplicate: boolean;
  /** Requests ahead of this one (queued or running, older). */
  position: number;
}

function openRequestFor(db: Db, tensor: string): TrainRequest | undefined {
  return db.prepare("SELECT * FROM train_requests WHERE tensor = ? AND status IN ('queued', 'running')").get(tensor) as TrainRequest | undefined;
}

function positionOf(db: Db, r: TrainRequest): number {
  const row = db
    .prepare("SELECT count(*) AS n FROM train_requests WHERE status IN ('queued', 'running') AND (created_at < ? OR (created_at = ? AND id < ?))")
    .get(r.created_at, r.created_at, r.id) as { n: number };
  return row.n;
}

/**
 * Queue a request (its inline examples go into `examples` with run_id = the request id) in one
 * write transaction, or return the open request for the same tensor as a duplicate.
 */
export function enqueue(db: Db, req: NewRequest): Enqueued {
  const run = db.transaction((): Enqueued => {
    const open = openRequestFor(db, req.tensor);
    if (open) return { request: open, duplicate: true, position: positionOf(db, open) };
    const id = `tr_${Date.now().toString(36)}_${randomUUID().slice(0, 8)}`;
    const now = Date.now();
    db.prepare("INSERT INTO train_requests (id, tensor, source, backend, gates, status, created_at) VALUES (?, ?, ?, ?, ?, 'queued', ?)").run(
      id,
      req.tensor,
      req.source ?? null,
      req.backend,
      JSON.stringify(req.gates),
      now,
    );
    const insert = db.prepare("INSERT INTO examples (tensor, input, expected, source, run_id, created_at) VALUES (?, ?, ?, 'examples', ?, ?)");
    for (const e of req.examples) insert.run(req.tensor, e.input, e.expected, id, now);
    const request = getRequest(db, id)!;
    return { request, duplicate: false, position: positionOf(db, request) };
  });
  return run.immediate();
}

export function getRequest(db: Db, id: string): TrainRequest | undefined {
  return db.prepare("SELECT * FROM train_requests WHERE id = ?").get(id) as TrainRequest | undefined;
}

export function latestRequest(db: Db): TrainRequest | undefined {
  return db.prepare("SELECT * FROM train_requests ORDER BY created_at DESC, rowid DESC LIMIT 1").get() as TrainRequest | undefined;
}

/** Requests, newest first, optionally of one tensor and created at or after `since` (ms). */
export function listRequests(db: Db, filter: { tensor?: string; since?: number; limit?: number; offset?: number } = {}): TrainRequest[] {
  return db
    .prepare("SELECT * FROM train_requests WHERE (@tensor IS NULL OR tensor = @tensor) AND created_at >= @since ORDER BY created_at DESC, rowid DESC LIMIT @limit OFFSET @offset")
    .all({ tensor: filter.tensor ?? null, since: filter.since ?? 0, limit: filter.limit ?? -1, offset: filter.offset ?? 0 }) as TrainRequest[];
}

/** What `reclaimStale` did: requests put back in the queue, and requests given up on. */
export interface Reclaimed {
  requeued: Array<{ id: string; tensor: string; version: number | null }>;
  failed: Array<{ id: string; tensor: string; version: number | null }>;
}

/**
 * Running requests whose worker stopped heartbeating: back to queued, or failed after
 * MAX_ATTEMPTS claims. Runs inside the caller's transaction. The caller drops the staging
 * versions of both (nothing of them was deployed: deploy and "deployed" commit together).
 */
function reclaimStale(db: Db, now: number, staleMs: number): Reclaimed {
  const stale = db
    .prepare("SELECT id, tensor, attempts, version FROM train_requests WHERE status = 'running' AND (heartbeat_at IS NULL OR heartbeat_at < ?)")
    .all(now - staleMs) as Array<{ id: string; tensor: string; attempts: number; version: number | null }>;
  const out: Reclaimed = { requeued: [], failed: [] };
  for (const r of stale) {
    if (r.attempts >= MAX_ATTEMPTS) {
      db.prepare("UPDATE train_requests SET status = 'failed', finished_at = ?, error = ?, worker = NULL WHERE id = ?").run(
        now,
        `the worker stopped (no heartbeat for ${Math.round(staleMs / 1000)} s) in each of ${r.attempts} attempts; nothing was deployed. See training/worker.log in the data directory, then call train_model again`,
        r.id,
      );
      out.failed.push({ id: r.id, tensor: r.tensor, version: r.version });
    } else {
      db.prepare("UPDATE train_requests SET status = 'queued', worker = NULL, heartbeat_at = NULL, version = NULL WHERE id = ?").run(r.id);
      out.requeued.push({ id: r.id, tensor: r.tensor, version: r.version });
    }
  }
  return out;
}

/** Reclaim stale requests, then claim the oldest queued one for `worker` (one write transaction). */
export function claimNext(db: Db, worker: string, staleMs = STALE_MS): { request?: TrainRequest; reclaimed: Reclaimed } {
  const run = db.transaction(() => {
    const now = Date.now();
    const reclaimed = reclaimStale(db, now, staleMs);
    const next = db.prepare("SELECT id FROM train_requests WHERE status = 'queued' ORDER BY created_at, rowid LIMIT 1").get() as { id: string } | undefined;
    if (!next) return { reclaimed };
    db.prepare("UPDATE train_requests SET status = 'running', attempts = attempts + 1, worker = ?, heartbeat_at = ?, started_at = ?, error = NULL WHERE id = ?").run(
      worker,
      now,
      now,
      next.id,
    );
    return { request: getRequest(db, next.id)!, reclaimed };
  });
  return run.immediate();
}

/** Update the running request's heartbeat; false when this worker no longer owns it (reclaimed). */
export function heartbeatRequest(db: Db, id: string, worker: string): boolean {
  return db.prepare("UPDATE train_requests SET heartbeat_at = ? WHERE id = ? AND worker = ? AND status = 'running'").run(Date.now(), id, worker).changes === 1;
}

/** Record facts about a running request (base/staging version) as soon as they exist. */
export function noteRequest(db: Db, id: string, worker: string, fields: { base_version?: number; version?: number }): void {
  if (fields.base_version !== undefined) db.prepare("UPDATE train_requests SET base_version = ? WHERE id = ? AND worker = ?").run(fields.base_version, id, worker);
  if (fields.version !== undefined) db.prepare("UPDATE train_requests SET version = ? WHERE id = ? AND worker = ?").run(fields.version, id, worker);
}

export interface Outcome {
  status: "deployed" | "rejected" | "failed";
  metrics?: object;
  gates?: object;
  error?: string;
}

/**
 * Finish a request this worker still owns; runs in the caller's transaction when there is one
 * (deploy commits the version switch and "deployed" together). Throws when the request was
 * reclaimed meanwhile, so the caller's transaction rolls back.
 */
export function finishRequest(db: Db, id: string, worker: string, o: Outcome): void {
  const info = db
    .prepare("UPDATE train_requests SET status = ?, metrics = ?, gate_results = ?, error = ?, finished_at = ?, worker = NULL WHERE id = ? AND worker = ? AND status = 'running'")
    .run(o.status, o.metrics ? JSON.stringify(o.metrics) : null, o.gates ? JSON.stringify(o.gates) : null, o.error ?? null, Date.now(), id, worker);
  if (info.changes !== 1) throw new Error(`request ${id} is no longer held by worker ${worker} (reclaimed after a missed heartbeat)`);
}

// ---- the worker lock ---------------------------------------------------------------------------

/** Whether a worker heartbeat the lock within `staleMs`. */
export function liveWorker(db: Db, staleMs = STALE_MS): { worker: string; pid: number } | undefined {
  const row = db.prepare("SELECT worker, pid, heartbeat_at FROM train_lock WHERE id = 1").get() as { worker: string; pid: number; heartbeat_at: number } | undefined;
  return row && row.heartbeat_at >= Date.now() - staleMs ? { worker: row.worker, pid: row.pid } : undefined;
}

/** Take the lock if it is free, stale, or already ours. */
export function acquireLock(db: Db, worker: string, staleMs = STALE_MS): boolean {
  const run = db.transaction(() => {
    const live = liveWorker(db, staleMs);
    if (live && live.worker !== worker) return false;
    db.prepare("INSERT INTO train_lock (id, worker, pid, heartbeat_at) VALUES (1, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET worker = excluded.worker, pid = excluded.pid, heartbeat_at = excluded.heartbeat_at").run(
      worker,
      process.pid,
      Date.now(),
    );
    return true;
  });
  return run.immediate();
}

export function heartbeatLock(db: Db, worker: string): boolean {
  return db.prepare("UPDATE train_lock SET heartbeat_at = ? WHERE id = 1 AND worker = ?").run(Date.now(), worker).changes === 1;
}

/**
 * Release the lock unless a request is waiting (then return false: keep working). One write
 * transaction, so a request queued just before is seen here, and one queued just after finds no
 * live worker and starts one.
 */
export function releaseLockIfIdle(db: Db, worker: string): boolean {
  const run = db.transaction(() => {
    const waiting = db.prepare("SELECT count(*) AS n FROM train_requests WHERE status = 'queued'").get() as { n: number };
    if (waiting.n > 0) return false;
    db.prepare("DELETE FROM train_lock WHERE id = 1 AND worker = ?").run(worker);
    return true;
  });
  return run.immediate();
}

export function releaseLock(db: Db, worker: string): void {
  db.prepare("DELETE FROM train_lock WHERE id = 1 AND worker = ?").run(worker);
}
