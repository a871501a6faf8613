/**
 * The `command` backend: a user's own training program. The worker runs
 * `$EXPERIENCE_MCP_TRAIN_COMMAND` with `sh -c` in the request's training directory, with
 *   EXPERIENCE_MCP_BATCH      batch.jsonl (one item per line: split, origin, input, expected)
 *   EXPERIENCE_MCP_MANIFEST   manifest.json
 *   EXPERIENCE_MCP_TRAIN_OUT  an empty directory for its results
 * It must exit 0 and write `metrics.json` (a JSON object, kept in the request's metrics) into
 * EXPERIENCE_MCP_TRAIN_OUT; it may write `rows.jsonl` ({key, value, query?} per line): a row whose
 * key equals a staging row's key replaces it, any other is added. The staging version then goes
 * through the same gates as the offline backend. The command comes from the worker's environment,
 * never from a tool call: an MCP client cannot make the worker run a program of its choosing.
 */
import { readSettings } from "../config.js";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Db } from "../storage/db.js";
import type { ExperienceStore } from "../experience/store.js";

export const COMMAND_ENV = "EXPERIENCE_MCP_TRAIN_COMMAND";

export interface CommandResult {
  command_metrics: Record<string, unknown>;
  patched: number;
  added: number;
}

export async function trainCommand(
  db: Db,
  store: ExperienceStore,
  tensor: string,
  staging: number,
  dir: string,
  alive: () => void,
  env: NodeJS.ProcessEnv = process.env,
): Promise<CommandResult> {
  const { trainCommand: command, trainCommandTimeoutS: timeoutS } = readSettings(env);
  if (!command) throw new Error(`backend "command" needs ${COMMAND_ENV} in the worker's environment (the training program to run)`);
  const out = join(dir, "out");
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true, mode: 0o700 });
  const child = spawn("sh", ["-c", command], {
    cwd: dir,
    env: { ...env, EXPERIENCE_MCP_BATCH: join(dir, "batch.jsonl"), EXPERIENCE_MCP_MANIFEST: join(dir, "manifest.json"), EXPERIENCE_MCP_TRAIN_OUT: out },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  let code: number | null | undefined;
  let spawnError: Error | undefined;
  child.once("error", (err) => (spawnError = err));
  child.once("close", (c, signal) => (code = c ?? (signal ? -1 : null)));
  const deadline = Date.now() + timeoutS * 1000;
  // Poll rather than await: the heartbeat keeps running, and a lost request stops the program.
  while (code === undefined && !spawnError) {
    try {
      alive();
      if (Date.now() > deadline) throw new Error(`the training command ran longer than ${timeoutS} s`);
    } catch (err) {
      child.kill("SIGKILL");
      throw err;
    }
    await sleep(100);
  }
  if (spawnError) throw new Error(`could not run the training command: ${spawnError.message}`);
  if (code !== 0) throw new Error(`the training command exited with ${code}: ${stderr.trim().split("\n").slice(-5).join(" | ") || "(no stderr)"}`);

  const metricsPath = join(out, "metrics.json");
  if (!existsSync(metricsPath)) throw new Error(`the training command wrote no metrics.json into $EXPERIENCE_MCP_TRAIN_OUT`);
  let metrics: unknown;
  try {
    metrics = JSON.parse(readFileSync(metricsPath, "utf8"));
  } catch (err) {
    throw new Error(`metrics.json is not JSON: ${(err as Error).message}`);
  }
  if (typeof metrics !== "object" || metrics === null || Array.isArray(metrics)) throw new Error("metrics.json must hold a JSON object");

  let patched = 0;
  let added = 0;
  const rowsPath = join(out, "rows.jsonl");
  if (existsSync(rowsPath)) {
    const byKey = db.prepare<[string, number, string], { id: number; query: string }>("SELECT id, query FROM rows WHERE tensor = ? AND version = ? AND key = ? ORDER BY id LIMIT 1");
    const lines = readFileSync(rowsPath, "utf8").split("\n").filter((l) => l.trim());
    for (const [i, line] of lines.entries()) {
      let row: { key?: unknown; value?: unknown; query?: unknown };
      try {
        row = JSON.parse(line) as typeof row;
      } catch {
        throw new Error(`rows.jsonl line ${i + 1} is not JSON`);
      }
      if (typeof row.key !== "string" || !row.key || typeof row.value !== "string" || !row.value) throw new Error(`rows.jsonl line ${i + 1} needs string key and value`);
      const query = typeof row.query === "string" ? row.query : undefined;
      const existing = byKey.get(tensor, staging, row.key);
      if (existing) {
        store.replaceRow(existing.id, { query: query ?? existing.query, key: row.key, value: row.value });
        patched++;
      } else {
        store.rememberMany(tensor, [{ query: query ?? "", key: row.key, value: row.value }], staging);
        added++;
      }
    }
  }
  return { command_metrics: metrics as Record<string, unknown>, patched, added };
}
