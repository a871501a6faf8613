/**
 * Starting a worker from the server: detached, its output appended to `<home>/training/worker.log`,
 * and only when no live worker holds the lock (the worker's own lock settles any race).
 */
import { readSettings } from "../config.js";
import { spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, renameSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Db } from "../storage/db.js";
import { log } from "../log.js";
import { liveWorker } from "./queue.js";

/** worker.log is rotated to worker.log.1 (the one before is dropped) once it grows past this. */
export const WORKER_LOG_MAX_BYTES = 1024 * 1024;

/** The CLI next to this module (dist/cli.js): the worker runs exactly the code that ships. */
const CLI = fileURLToPath(new URL("../cli.js", import.meta.url));

export type WorkerState = "running" | "spawned" | "disabled";

/**
 * Make sure a worker will pick up queued requests. EXPERIENCE_MCP_TRAIN_WORKER=off disables the
 * spawning (a worker run by systemd or cron then does the work).
 */
export function ensureWorker(db: Db, home: string, env: NodeJS.ProcessEnv = process.env): WorkerState {
  if (!readSettings(env).trainWorker) return "disabled";
  if (liveWorker(db)) return "running";
  const dir = join(home, "training");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const logPath = join(dir, "worker.log");
  rotateLog(logPath);
  const out = openSync(logPath, "a", 0o600);
  try {
    const child = spawn(process.execPath, [CLI, "train-worker", "--once", "--home", home], {
      detached: true,
      stdio: ["ignore", out, out],
      // The worker logs at info unless the user chose a level.
      env: { EXPERIENCE_MCP_LOG: "info", ...env },
    });
    child.on("error", (err) => log("error", "could not start the training worker", err));
    child.unref();
    log("info", `started training worker pid ${child.pid ?? "?"}`);
  } finally {
    closeSync(out);
  }
  return "spawned";
}

/** Keep the worker's log bounded: past WORKER_LOG_MAX_BYTES it becomes `<log>.1`. A worker still writing the old file keeps its descriptor. */
export function rotateLog(path: string, maxBytes = WORKER_LOG_MAX_BYTES): boolean {
  try {
    if (statSync(path).size <= maxBytes) return false;
    renameSync(path, `${path}.1`);
    return true;
  } catch {
    return false; // no log yet, or another server rotated it first
  }
}
