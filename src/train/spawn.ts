/**
 * Starting a worker from the server: detached, its output appended to `<home>/training/worker.log`,
 * and only when no live worker holds the lock (the worker's own lock settles any race).
 */
import { spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Db } from "../experience/db.js";
import { log } from "../log.js";
import { liveWorker } from "./queue.js";

/** The CLI next to this module (dist/cli.js): the worker runs exactly the code that ships. */
const CLI = fileURLToPath(new URL("../cli.js", import.meta.url));

export type WorkerState = "running" | "spawned" | "disabled";

/**
 * Make sure a worker will pick up queued requests. EXPERIENCE_MCP_TRAIN_WORKER=off disables the
 * spawning (a worker run by systemd or cron then does the work).
 */
export function ensureWorker(db: Db, home: string, env: NodeJS.ProcessEnv = process.env): WorkerState {
  if ((env.EXPERIENCE_MCP_TRAIN_WORKER ?? "").toLowerCase() === "off") return "disabled";
  if (liveWorker(db)) return "running";
  const dir = join(home, "training");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const out = openSync(join(dir, "worker.log"), "a", 0o600);
  try {
    const child = spawn(process.execPath, [CLI, "train-worker", "--once", "--home", home], {
      detached: true,
      stdio: ["ignore", out, out],
      env: { ...env, EXPERIENCE_MCP_LOG: env.EXPERIENCE_MCP_LOG ?? "info" },
    });
    child.on("error", (err) => log("error", "could not start the training worker", err));
    child.unref();
    log("info", `started training worker pid ${child.pid ?? "?"}`);
  } finally {
    closeSync(out);
  }
  return "spawned";
}
