/**
 * train_model end to end over stdio: the server queues and answers at once, starts a detached
 * worker, the worker deploys a better version, training_status shows it, `rollback` restores the
 * old one. Duplicates: one open request per tensor.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { openDatabase } from "../src/storage/db.js";
import { liveWorker } from "../src/train/queue.js";
import { CLI, serverEnv, spawnClient } from "./spawn.js";
import { connect, textOf } from "./helpers.js";
import { tempHome } from "./temp.js";
import { HINT, newTaskExamples } from "./train-helpers.js";

const TENSOR = "coder/command";
const EXAMPLES = newTaskExamples(4);

interface Status {
  request_id: string;
  status: string;
  attempts: number;
  version?: number;
  base_version?: number;
  metrics?: { before: { version: number; heldout: { exact_match: number; mean_edit_distance: number } }; after: { version: number; heldout: { exact_match: number; mean_edit_distance: number } }; dataset: Record<string, number> };
  gates?: { passed: boolean };
  batch_dir: string;
}

test("train_model → detached worker → deployed → rollback, over stdio", { timeout: 60_000 }, async () => {
  const t = tempHome();
  const { client, stderr } = await spawnClient(t.home);
  const call = async <T>(name: string, args: Record<string, unknown>): Promise<T> => {
    const r = (await client.callTool({ name, arguments: args })) as CallToolResult;
    assert.ok(!r.isError, `${name}: ${textOf(r)}`);
    return r.structuredContent as T;
  };
  const topValue = async () => {
    const r = await call<{ results: Array<{ value?: string }> }>("recall", { query: `${HINT}\ntask: display the last line of "{1}"`, tensor: TENSOR, k: 1, kinds: ["experience"] });
    return r.results[0]?.value;
  };
  try {
    const q = await call<{ request_id: string; status: string; position: number; worker: string }>("train_model", { tensor: TENSOR, examples: EXAMPLES });
    assert.equal(q.status, "queued");
    assert.equal(q.position, 0);
    assert.ok(q.worker === "spawned" || q.worker === "running");
    assert.equal(await topValue(), "head -n 1 {1}", "before training the seed row answers");

    const deadline = Date.now() + 45_000;
    let s: Status;
    for (;;) {
      s = await call<Status>("training_status", { request_id: q.request_id });
      if (!["queued", "running"].includes(s.status)) break;
      assert.ok(Date.now() < deadline, `still ${s.status}; server stderr: ${stderr().slice(-1000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(s.status, "deployed", JSON.stringify(s));
    assert.equal(s.base_version, 1);
    assert.equal(s.version, 2);
    assert.equal(s.gates?.passed, true);
    assert.ok(s.metrics!.after.heldout.mean_edit_distance < s.metrics!.before.heldout.mean_edit_distance);
    assert.equal(await topValue(), "tail -n 1 {1}", "the deployed version answers");

    // The batch on disk: manifest + JSONL, replay actually filled (30 % of the training items).
    const manifest = JSON.parse(readFileSync(join(s.batch_dir, "manifest.json"), "utf8")) as { counts: Record<string, number>; replay_share: number };
    assert.ok(manifest.counts.replay_train! > 0);
    assert.ok(Math.abs(manifest.replay_share - 0.3) < 0.1, `replay share ${manifest.replay_share}`);
    const lines = readFileSync(join(s.batch_dir, "batch.jsonl"), "utf8").trim().split("\n");
    assert.equal(lines.length, manifest.counts.new_train! + manifest.counts.new_eval! + manifest.counts.replay_train! + manifest.counts.replay_eval!);
    assert.ok(existsSync(join(t.home, "training", "worker.log")));

    const rolled = JSON.parse(execFileSync(process.execPath, [CLI, "rollback", TENSOR, "--home", t.home], { env: serverEnv(t.home), encoding: "utf8" })) as { from: number; to: number };
    assert.deepEqual([rolled.from, rolled.to], [2, 1]);
    assert.equal(await topValue(), "head -n 1 {1}", "rollback restores the old answers");
  } finally {
    await client.close();
    // Let the detached worker finish before the directory goes away.
    const db = openDatabase(t.home);
    const end = Date.now() + 20_000;
    while (liveWorker(db) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    db.close();
    t.cleanup();
  }
});

test("a second request for a tensor with one queued is a duplicate; a finished one is not", { timeout: 60_000 }, async () => {
  const saved = process.env.EXPERIENCE_MCP_TRAIN_WORKER;
  process.env.EXPERIENCE_MCP_TRAIN_WORKER = "off";
  const c = await connect();
  try {
    const first = await c.ok<{ request_id: string; status: string; worker: string }>("train_model", { tensor: TENSOR, examples: EXAMPLES });
    assert.deepEqual([first.status, first.worker], ["queued", "disabled"]);
    const again = await c.ok<{ request_id: string; status: string }>("train_model", { tensor: TENSOR, examples: EXAMPLES.slice(0, 2) });
    assert.deepEqual([again.status, again.request_id], ["duplicate", first.request_id]);
    // Another tensor queues behind it.
    const other = await c.ok<{ status: string; position: number }>("train_model", { tensor: "coder/decision" });
    assert.deepEqual([other.status, other.position], ["queued", 1]);
    // The duplicate's examples were not stored.
    const db = openDatabase(c.home);
    assert.equal((db.prepare("SELECT count(*) AS n FROM examples").get() as { n: number }).n, EXAMPLES.length);
    db.close();

    const out = JSON.parse(execFileSync(process.execPath, [CLI, "train-worker", "--once", "--home", c.home], { env: serverEnv(c.home), encoding: "utf8" })) as {
      processed: Array<{ request_id: string; status: string }>;
    };
    assert.deepEqual(out.processed.map((p) => p.request_id)[0], first.request_id);
    const firstDone = await c.ok<Status>("training_status", { request_id: first.request_id });
    assert.equal(firstDone.status, "deployed");
    // coder/decision got no examples: it fails with a reason, not "insufficient data" for a duplicate.
    const latest = await c.ok<Status & { error?: string }>("training_status", {});
    assert.equal(latest.status, "failed");
    assert.match(latest.error ?? "", /insufficient data/);

    const next = await c.ok<{ request_id: string; status: string }>("train_model", { tensor: TENSOR });
    assert.equal(next.status, "queued");
    assert.notEqual(next.request_id, first.request_id);

    const missing = await c.call("training_status", { request_id: "tr_nope" });
    assert.equal(missing.isError, true);
    const unknown = await c.call("train_model", { tensor: "no/such" });
    assert.equal(unknown.isError, true);
    assert.match(textOf(unknown), /does not exist/);
  } finally {
    await c.close();
    if (saved === undefined) delete process.env.EXPERIENCE_MCP_TRAIN_WORKER;
    else process.env.EXPERIENCE_MCP_TRAIN_WORKER = saved;
  }
});
