/**
 * The training worker: a separate process (`experience-mcp train-worker`), never the server.
 * It takes the worker lock (one live worker per data directory), then claims requests one at a
 * time, heartbeating the lock and the running request every HEARTBEAT_MS. `--once` drains the
 * queue and exits (what the server spawns); `--watch` keeps polling (systemd, cron @reboot).
 */
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { LlmConfig } from "../config.js";
import { openDatabase } from "../storage/db.js";
import { ExperienceStore } from "../experience/store.js";
import { log } from "../log.js";
import { acquireLock, claimNext, HEARTBEAT_MS, heartbeatLock, heartbeatRequest, releaseLock, releaseLockIfIdle } from "./queue.js";
import { runRequest } from "./run.js";

export interface WorkerOptions {
  home: string;
  watch: boolean;
  /** --watch: how often to look for new requests. */
  pollMs?: number;
  holdMs?: number;
  /** The configured LLM endpoint (openai backend, row proposals). */
  llm?: LlmConfig;
  proposeRows?: boolean;
}

export interface WorkerSummary {
  worker: string;
  /** false when another live worker held the lock (--once exits at once then). */
  locked: boolean;
  processed: Array<{ request_id: string; tensor: string; status: string }>;
}

export class LostRequest extends Error {
  override name = "LostRequest";
}

export async function runWorker(o: WorkerOptions): Promise<WorkerSummary> {
  const worker = `w_${process.pid}_${randomUUID().slice(0, 8)}`;
  const db = openDatabase(o.home);
  const store = new ExperienceStore(db);
  const summary: WorkerSummary = { worker, locked: false, processed: [] };
  let current: string | undefined;
  let lost = false;
  let stopping = false;
  // SIGTERM (systemd stop) ends an idle wait at once; a run in progress gets the CLI's grace time.
  const idle = new AbortController();
  const stop = () => {
    stopping = true;
    idle.abort();
  };
  const wait = (ms: number) => sleep(ms, undefined, { signal: idle.signal }).catch(() => undefined);
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  process.on("SIGHUP", stop);
  // A stop that cannot wait for the run in progress (the CLI exits 1.5 s after a signal) still
  // releases the lock and closes the database; the request is requeued once its heartbeat is stale.
  const atExit = () => {
    try {
      if (summary.locked && db.open) releaseLock(db, worker);
      if (db.open) db.close();
    } catch {
      // exiting anyway
    }
  };
  process.on("exit", atExit);
  const beat = setInterval(() => {
    try {
      if (summary.locked) heartbeatLock(db, worker);
      if (current && !heartbeatRequest(db, current, worker)) lost = true;
    } catch (err) {
      log("warn", "heartbeat failed", err);
    }
  }, HEARTBEAT_MS);
  try {
    while (!stopping) {
      if (!summary.locked) {
        summary.locked = acquireLock(db, worker);
        if (!summary.locked) {
          if (!o.watch) {
            log("info", "another live worker holds the training lock; exiting");
            break;
          }
          await wait(o.pollMs ?? 5_000);
          continue;
        }
      }
      const { request, reclaimed } = claimNext(db, worker);
      for (const r of [...reclaimed.requeued, ...reclaimed.failed]) {
        const requeued = reclaimed.requeued.includes(r);
        log("warn", `request ${r.id} lost its worker; ${requeued ? "requeued" : "failed after too many attempts"}`);
        // Nothing of it was deployed (deploy and "deployed" commit together): its staging version is garbage.
        if (r.version !== null) store.dropStaging(r.tensor, r.version);
      }
      if (request) {
        current = request.id;
        lost = false;
        log("info", `training ${request.tensor} for request ${request.id} (attempt ${request.attempts})`);
        const status = await runRequest(
          {
            db,
            store,
            home: o.home,
            worker,
            holdMs: o.holdMs,
            llm: o.llm,
            proposeRows: o.proposeRows,
            alive: () => {
              if (lost) throw new LostRequest(`request ${request.id} was reclaimed by another worker`);
            },
          },
          request,
        );
        current = undefined;
        summary.processed.push({ request_id: request.id, tensor: request.tensor, status });
        log("info", `request ${request.id}: ${status}`);
        continue;
      }
      if (!o.watch) {
        if (releaseLockIfIdle(db, worker)) {
          summary.locked = false;
          break;
        }
        continue;
      }
      heartbeatLock(db, worker);
      await wait(o.pollMs ?? 5_000);
    }
  } finally {
    clearInterval(beat);
    process.off("SIGTERM", stop);
    process.off("SIGINT", stop);
    process.off("SIGHUP", stop);
    process.off("exit", atExit);
    if (summary.locked) releaseLock(db, worker);
    db.close();
  }
  return summary;
}
