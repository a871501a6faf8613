/**
 * The worker as a real process against a real database: a worker SIGKILLed mid-run deploys
 * nothing and its request is reclaimed (or failed after the attempt limit); a poisoned batch is
 * rejected by the gates with the active version untouched.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Db } from "../src/storage/db.js";
import { ExperienceStore } from "../src/experience/store.js";
import { CODER } from "../src/harness/modules.js";
import { gatesSchema } from "../src/train/gates.js";
import { enqueue, getRequest, liveWorker, MAX_ATTEMPTS, type TrainRequest } from "../src/train/queue.js";
import { CLI, serverEnv } from "./spawn.js";
import { age, HINT, newTaskExamples, seededHome as setup, until } from "./train-helpers.js";

const TENSOR = CODER.command_tensor;
/** Tasks the seed does not know, two phrasings each. */
const GOOD = newTaskExamples(4);

function queue(db: Db, examples: Array<{ input: string; expected: string }>): TrainRequest {
  return enqueue(db, { tensor: TENSOR, backend: "experience", gates: gatesSchema.parse({}), examples }).request;
}

function worker(home: string, extra: Record<string, string> = {}): { processed: Array<{ status: string }> } {
  return JSON.parse(execFileSync(process.execPath, [CLI, "train-worker", "--once", "--home", home], { env: serverEnv(home, extra), encoding: "utf8" })) as {
    processed: Array<{ status: string }>;
  };
}

const unused = (db: Db) => (db.prepare("SELECT count(*) AS n FROM examples WHERE used_at IS NULL").get() as { n: number }).n;
const rowsOf = (store: ExperienceStore, version: number) => store.rows(TENSOR, version).map((r) => [r.key, r.value]);

/** Start a worker that holds before its gates; SIGKILL it there. Returns the request as the kill left it. */
async function killMidRun(home: string, db: Db, id: string): Promise<TrainRequest> {
  const child = spawn(process.execPath, [CLI, "train-worker", "--once", "--home", home], { env: serverEnv(home, { EXPERIENCE_MCP_TRAIN_HOLD_MS: "120000" }), stdio: "ignore" });
  const exited = new Promise((r) => child.once("exit", r));
  try {
    // Held = staging version written and trained, gates not yet run.
    await until("the worker to reach its hold", () => {
      const r = getRequest(db, id);
      return r?.status === "running" && r.version !== null && existsSync(join(home, "training", id, "held")) ? r : undefined;
    });
  } finally {
    child.kill("SIGKILL");
    await exited;
  }
  return getRequest(db, id)!;
}


test("a worker killed mid-run deploys nothing; the request is reclaimed and deployed by the next worker", { timeout: 60_000 }, async () => {
  const { home, db, store, cleanup } = setup();
  try {
    const v1Rows = rowsOf(store, 1);
    const r = queue(db, GOOD);
    const killed = await killMidRun(home, db, r.id);
    const staging = killed.version!;
    assert.equal(killed.attempts, 1);
    assert.equal(store.activeVersion(TENSOR), 1, "the active version must not move");
    assert.deepEqual(rowsOf(store, 1), v1Rows);
    assert.equal(store.versions(TENSOR).find((v) => v.version === staging)?.status, "staging");
    assert.equal(unused(db), GOOD.length, "examples stay unused");
    // Its heartbeat is fresh: another worker leaves it alone.
    assert.deepEqual(worker(home).processed, []);

    age(db, r.id);
    const out = worker(home);
    assert.deepEqual(out.processed.map((p) => p.status), ["deployed"]);
    const done = getRequest(db, r.id)!;
    assert.equal(done.status, "deployed");
    assert.equal(done.attempts, 2);
    assert.equal(store.activeVersion(TENSOR), done.version);
    assert.ok(done.version! > staging);
    assert.equal(store.versions(TENSOR).some((v) => v.version === staging), false, "the dead run's staging version is dropped");
    assert.equal(unused(db), 0, "examples are used once a run deploys");
  } finally {
    cleanup();
  }
});

test(`a request whose worker died ${MAX_ATTEMPTS} times fails, and nothing is deployed`, { timeout: 60_000 }, async () => {
  const { home, db, store, cleanup } = setup();
  try {
    const r = queue(db, GOOD);
    const killed = await killMidRun(home, db, r.id);
    db.prepare("UPDATE train_requests SET attempts = ? WHERE id = ?").run(MAX_ATTEMPTS, r.id);
    age(db, r.id);
    assert.deepEqual(worker(home).processed, []);
    const done = getRequest(db, r.id)!;
    assert.equal(done.status, "failed");
    assert.match(done.error ?? "", /attempts/);
    assert.equal(store.activeVersion(TENSOR), 1);
    assert.equal(store.versions(TENSOR).some((v) => v.version === killed.version), false);
    assert.equal(unused(db), GOOD.length);
    // The tensor is free for a new request.
    assert.equal(enqueue(db, { tensor: TENSOR, backend: "experience", gates: {}, examples: [] }).duplicate, false);
  } finally {
    cleanup();
  }
});

test("a poisoned batch (wrong expected outputs) is rejected and the active version is untouched", { timeout: 60_000 }, async () => {
  const { home, db, store, cleanup } = setup();
  try {
    const v1Rows = rowsOf(store, 1);
    // The seed's own tasks, each paired with another task's command.
    const text = store.rows(TENSOR).filter((row) => row.key.startsWith("text:"));
    const poison = text.map((row, i) => ({ input: row.key, expected: text[(i + 1) % text.length]!.value }));
    const r = queue(db, poison);
    assert.deepEqual(worker(home).processed.map((p) => p.status), ["rejected"]);
    const done = getRequest(db, r.id)!;
    const gates = JSON.parse(done.gate_results!) as { passed: boolean; results: Array<{ name: string; passed: boolean }> };
    assert.equal(gates.passed, false);
    assert.ok(gates.results.some((g) => !g.passed && (g.name === "replay_regression" || g.name === "improvement")), JSON.stringify(gates));
    assert.equal(store.activeVersion(TENSOR), 1);
    assert.deepEqual(rowsOf(store, 1), v1Rows);
    assert.deepEqual(store.versions(TENSOR).map((v) => [v.version, v.status]), [[1, "active"]], "the rejected staging version is dropped");
    assert.equal(unused(db), poison.length, "a rejected run consumes no examples");
    const rejected = (db.prepare("SELECT count(*) AS n FROM examples WHERE rejected_at IS NOT NULL").get() as { n: number }).n;
    assert.equal(rejected, 0, "they are not set aside");
    // …they stay queued (issue 15): the next request trains on them again, and the gates turn them down again.
    const next = queue(db, []);
    assert.deepEqual(worker(home).processed.map((p) => p.status), ["rejected"]);
    assert.equal(JSON.parse(getRequest(db, next.id)!.metrics!).dataset.examples, poison.length);
    // The same recall as before.
    assert.equal(store.recall(`${HINT}\ntask: show the current date`, { tensor: TENSOR, k: 1 })[0]?.value, "date");
  } finally {
    cleanup();
  }
});

test("train-worker --watch picks up requests as they come and releases the lock on SIGTERM", { timeout: 60_000 }, async () => {
  const { home, db, store, cleanup } = setup();
  const child = spawn(process.execPath, [CLI, "train-worker", "--watch", "--poll-s", "0.1", "--home", home], { env: serverEnv(home), stdio: ["ignore", "pipe", "ignore"] });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  try {
    await until("the worker to take the lock", () => (liveWorker(db) ? true : undefined));
    const r = queue(db, GOOD);
    const done = await until("the request to finish", () => {
      const s = getRequest(db, r.id)!;
      return s.status === "queued" || s.status === "running" ? undefined : s;
    });
    assert.equal(done.status, "deployed");
    assert.equal(store.activeVersion(TENSOR), done.version);
    assert.ok(liveWorker(db), "a watching worker keeps the lock while idle");
  } finally {
    child.kill("SIGTERM");
  }
  try {
    assert.equal(await exited, 0);
    assert.equal(liveWorker(db), undefined, "the lock is released");
    assert.equal((JSON.parse(out) as { processed: unknown[] }).processed.length, 1);
  } finally {
    cleanup();
  }
});

test("backend command: the worker's training program reads the batch, writes rows and metrics; a failing one fails the request", { timeout: 60_000 }, async () => {
  const { home, db, store, cleanup } = setup();
  try {
    // A tiny "trainer": one row per training item of the batch, and its own metrics.
    const script = join(home, "trainer.mjs");
    writeFileSync(
      script,
      `import { readFileSync, writeFileSync } from "node:fs";
const items = readFileSync(process.env.EXPERIENCE_MCP_BATCH, "utf8").trim().split("\\n").map((l) => JSON.parse(l)).filter((i) => i.split === "train" && i.origin === "new");
const manifest = JSON.parse(readFileSync(process.env.EXPERIENCE_MCP_MANIFEST, "utf8"));
const out = process.env.EXPERIENCE_MCP_TRAIN_OUT;
writeFileSync(out + "/rows.jsonl", items.map((i) => JSON.stringify({ key: i.input, value: i.expected })).join("\\n") + "\\n");
writeFileSync(out + "/metrics.json", JSON.stringify({ trained_on: items.length, request: manifest.request_id }));
`,
    );
    const command = `"${process.execPath}" "${script}"`;
    const r = enqueue(db, { tensor: TENSOR, backend: "command", gates: gatesSchema.parse({}), examples: GOOD }).request;
    assert.deepEqual(worker(home, { EXPERIENCE_MCP_TRAIN_COMMAND: command }).processed.map((p) => p.status), ["deployed"]);
    const done = getRequest(db, r.id)!;
    const metrics = JSON.parse(done.metrics!) as { train: { backend: string; added: number; command: { trained_on: number; request: string } } };
    assert.equal(metrics.train.backend, "command");
    assert.equal(metrics.train.command.request, r.id);
    assert.equal(metrics.train.added, metrics.train.command.trained_on);
    assert.equal(store.activeVersion(TENSOR), done.version);

    const bad = enqueue(db, { tensor: TENSOR, backend: "command", gates: {}, examples: GOOD.map((e) => ({ ...e, input: `${e.input} again` })) }).request;
    assert.deepEqual(worker(home, { EXPERIENCE_MCP_TRAIN_COMMAND: "echo out of memory >&2; exit 3" }).processed.map((p) => p.status), ["failed"]);
    const failed = getRequest(db, bad.id)!;
    assert.match(failed.error ?? "", /exited with 3: out of memory/);
    assert.equal(store.activeVersion(TENSOR), done.version, "a failed run deploys nothing");
    assert.equal(store.versions(TENSOR).filter((v) => v.status === "staging").length, 0);
  } finally {
    cleanup();
  }
});
