/**
 * The openai backend and LLM-proposed rows, against a loopback server speaking the OpenAI API
 * (files, fine-tuning jobs, chat completions; test/fake-openai.ts) with real worker processes.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { Db } from "../src/storage/db.js";
import { CODER } from "../src/harness/modules.js";
import { gatesSchema } from "../src/train/gates.js";
import { enqueue, getRequest, type Backend, type TrainRequest } from "../src/train/queue.js";
import { rotateLog } from "../src/train/spawn.js";
import { TmuxCli } from "../src/tmux/tmux.js";
import { startFakeOpenAi, type FakeOpenAi } from "./fake-openai.js";
import { textOf } from "./helpers.js";
import { CLI, serverEnv, spawnClient } from "./spawn.js";
import { tempHome } from "./temp.js";
import { age, HINT, NEW_TASKS, newTaskExamples, seededHome as setup, until } from "./train-helpers.js";

const run = promisify(execFile);
const TENSOR = CODER.command_tensor;
const BASE_MODEL = "gpt-fake-base";
/** Enough for the fine-tuning API's 10-example minimum. */
const EXAMPLES = newTaskExamples();

after(async () => {
  await new TmuxCli({ socket: `xmcp-spawn-${process.pid}` }).killServer();
});


function llmEnv(fake: FakeOpenAi, extra: Record<string, string> = {}): Record<string, string> {
  return { OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: "sk-test-not-a-secret", EXPERIENCE_MCP_MODEL: BASE_MODEL, EXPERIENCE_MCP_TRAIN_POLL_MS: "20", ...extra };
}

function queue(db: Db, examples: Array<{ input: string; expected: string }>, backend: Backend = "openai"): TrainRequest {
  return enqueue(db, { tensor: TENSOR, backend, gates: gatesSchema.parse({}), examples }).request;
}

/** One worker run (async: the fake API answers from this process's event loop). */
async function worker(home: string, env: Record<string, string>): Promise<string[]> {
  const { stdout } = await run(process.execPath, [CLI, "train-worker", "--once", "--home", home], { env: serverEnv(home, env), encoding: "utf8" });
  return (JSON.parse(stdout) as { processed: Array<{ status: string }> }).processed.map((p) => p.status);
}

interface TrainMetrics {
  train: Record<string, unknown>;
  before: { heldout: { exact_match: number; mean_edit_distance: number } };
  after: { heldout: { exact_match: number; mean_edit_distance: number } };
}

const metricsOf = (r: TrainRequest) => JSON.parse(r.metrics ?? "{}") as TrainMetrics;
const unused = (db: Db) => db.prepare("SELECT count(*) FROM examples WHERE used_at IS NULL").pluck().get() as number;

test("openai backend: uploads chat examples, polls the job, gates the fine-tuned model and deploys it for the tensor", { timeout: 60_000 }, async () => {
  const fake = await startFakeOpenAi();
  const { home, db, store, cleanup } = setup();
  try {
    const r = queue(db, EXAMPLES);
    assert.deepEqual(await worker(home, llmEnv(fake)), ["deployed"]);
    const done = getRequest(db, r.id)!;

    // What went over the wire: one fine-tune file of chat examples, one job on the configured model.
    assert.equal(fake.files.length, 1);
    assert.equal(fake.files[0]!.purpose, "fine-tune");
    const lines = fake.files[0]!.content.trim().split("\n").map((l) => JSON.parse(l) as { messages: Array<{ role: string; content: string }> });
    assert.ok(lines.length >= 10);
    for (const l of lines) {
      assert.deepEqual(l.messages.map((m) => m.role), ["system", "user", "assistant"]);
      assert.match(l.messages[1]!.content, /Now answer for this input:\nINPUT:\n/);
    }
    const trainedAnswers = new Set(lines.map((l) => l.messages[2]!.content));
    assert.ok(EXAMPLES.some((e) => trainedAnswers.has(e.expected)), "new experience is trained on");
    assert.equal(fake.jobs.length, 1);
    const job = fake.jobs[0]!;
    assert.equal(job.model, BASE_MODEL);
    assert.equal(job.suffix, "coder-command");
    assert.equal(job.status, "succeeded");

    // The staging version answers with the fine-tuned model; deployed, the tensor does.
    const m = metricsOf(done);
    assert.equal(m.train.backend, "openai");
    assert.equal(m.train.fine_tuned_model, job.fine_tuned_model);
    assert.equal(m.train.job_id, job.id);
    assert.ok(m.after.heldout.exact_match > m.before.heldout.exact_match, JSON.stringify(m));
    assert.equal(store.activeVersion(TENSOR), 2);
    assert.equal(store.modelOf(TENSOR), job.fine_tuned_model);
    assert.equal(store.modelOf(TENSOR, 1), undefined, "the old version keeps the configured model");
    // The gates asked both models: the base one for the active version, the fine-tuned one for staging.
    const models = new Set(fake.chats.map((c) => c.model));
    assert.ok(models.has(BASE_MODEL) && models.has(job.fine_tuned_model!), [...models].join(", "));
    assert.equal(unused(db), 0, "a deployed run consumes its examples");
    assert.ok(existsSync(join(home, "training", r.id, "openai-train.jsonl")));

    store.rollback(TENSOR);
    assert.equal(store.modelOf(TENSOR), undefined, "rollback restores the configured model too");
  } finally {
    cleanup();
    await fake.close();
  }
});

test("from MCP: train_model openai → deployed → run_harness answers with the fine-tuned model → rollback_tensor", { timeout: 90_000 }, async () => {
  const fake = await startFakeOpenAi();
  const t = tempHome();
  const { client, stderr } = await spawnClient(t.home, [], llmEnv(fake));
  const call = async <T>(name: string, args: Record<string, unknown>): Promise<T> => {
    const r = (await client.callTool({ name, arguments: args })) as CallToolResult;
    assert.ok(!r.isError, `${name}: ${textOf(r)}`);
    return r.structuredContent as T;
  };
  try {
    const q = await call<{ request_id: string; status: string }>("train_model", { tensor: TENSOR, backend: "openai", examples: EXAMPLES });
    assert.equal(q.status, "queued");
    let s: { status: string; version?: number; model?: string; metrics?: TrainMetrics; error?: string };
    const deadline = Date.now() + 45_000;
    for (;;) {
      s = await call("training_status", { request_id: q.request_id });
      if (s.status !== "queued" && s.status !== "running") break;
      assert.ok(Date.now() < deadline, `still ${s.status}; ${stderr().slice(-500)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(s.status, "deployed", JSON.stringify(s));
    const tuned = fake.jobs[0]!.fine_tuned_model!;
    assert.equal(s.model, tuned);

    // A reworded task of a trained family: the command expert now asks the fine-tuned model.
    const { cwd } = await call<{ cwd: string }>("tmux_session", { action: "create", session: "tuned" });
    writeFileSync(join(cwd, "notes.txt"), "first\nthe last one\n");
    const before = fake.chats.length;
    // Checked on the command's output: success means verified (issue 15).
    const h = await call<{ success: boolean; trajectory: Array<{ command: string; sources: { command: string } }> }>("run_harness", {
      task: 'print the last line of the file "notes.txt"',
      session: "tuned",
      llm: "auto",
      max_steps: 4,
      validator: { kind: "regex", pattern: "^the last one$" },
    });
    const asked = fake.chats.slice(before);
    assert.ok(asked.some((c) => c.model === tuned), "the trained tensor answers with its model");
    assert.ok(asked.some((c) => c.model === BASE_MODEL), "the decision tensor keeps the configured model");
    assert.equal(h.trajectory[0]?.command, "tail -n 1 notes.txt", JSON.stringify(h.trajectory));
    assert.equal(h.success, true);

    const rolled = await call<{ from: number; to: number; model?: string; versions: Array<{ version: number; status: string; model?: string }> }>("rollback_tensor", { tensor: TENSOR });
    assert.deepEqual([rolled.from, rolled.to, rolled.model], [2, 1, undefined]);
    assert.deepEqual(rolled.versions.find((v) => v.version === 2)?.model, tuned, "the rolled-back version is kept with its model");
    const again = await client.callTool({ name: "rollback_tensor", arguments: { tensor: TENSOR } });
    assert.equal(again.isError, true, "nothing older than version 1");
    assert.match(textOf(again as CallToolResult), /no older version/);
  } finally {
    await client.close();
    t.cleanup();
    await fake.close();
  }
});

test("openai backend: too few examples, a failed job and a missing endpoint fail the request; nothing is deployed or consumed", { timeout: 60_000 }, async () => {
  const fake = await startFakeOpenAi({ failJobsWith: "the training run diverged" });
  const { home, db, store, cleanup } = setup();
  try {
    const few = queue(db, EXAMPLES.slice(0, 4));
    assert.deepEqual(await worker(home, llmEnv(fake)), ["failed"]);
    assert.match(getRequest(db, few.id)!.error ?? "", /at least 10 training examples/);
    assert.equal(fake.files.length, 0, "nothing uploaded");

    db.prepare("DELETE FROM examples").run();
    const failing = queue(db, EXAMPLES);
    assert.deepEqual(await worker(home, llmEnv(fake)), ["failed"]);
    assert.match(getRequest(db, failing.id)!.error ?? "", /ended failed: the training run diverged/);
    assert.equal(unused(db), EXAMPLES.length, "a failed run consumes nothing");

    const noEndpoint = queue(db, []);
    assert.deepEqual(await worker(home, {}), ["failed"]);
    assert.match(getRequest(db, noEndpoint.id)!.error ?? "", /needs an API endpoint: set OPENAI_BASE_URL/);

    assert.equal(store.activeVersion(TENSOR), 1);
    assert.deepEqual(store.versions(TENSOR).map((v) => [v.version, v.status]), [[1, "active"]], "staging versions are dropped");
    assert.equal(store.modelOf(TENSOR), undefined);
  } finally {
    cleanup();
    await fake.close();
  }
});

test("openai backend: a poisoned batch is rejected by the gates; the tensor keeps its model", { timeout: 60_000 }, async () => {
  const fake = await startFakeOpenAi();
  const { home, db, store, cleanup } = setup();
  try {
    const text = store.rows(TENSOR).filter((row) => row.key.startsWith("text:"));
    const poison = text.map((row, i) => ({ input: row.key, expected: text[(i + 1) % text.length]!.value }));
    const r = queue(db, poison);
    assert.deepEqual(await worker(home, llmEnv(fake)), ["rejected"]);
    const gates = JSON.parse(getRequest(db, r.id)!.gate_results!) as { passed: boolean };
    assert.equal(gates.passed, false);
    assert.equal(fake.jobs[0]?.status, "succeeded", "the job ran; the gates said no");
    assert.equal(store.activeVersion(TENSOR), 1);
    assert.equal(store.modelOf(TENSOR), undefined);
  } finally {
    cleanup();
    await fake.close();
  }
});

test("openai backend: a worker killed while the job runs is replaced, and the new one resumes the same job", { timeout: 60_000 }, async () => {
  const fake = await startFakeOpenAi({ pollsToFinish: 1_000_000 });
  const { home, db, store, cleanup } = setup();
  try {
    const r = queue(db, EXAMPLES);
    const child = spawn(process.execPath, [CLI, "train-worker", "--once", "--home", home], { env: serverEnv(home, llmEnv(fake)), stdio: "ignore" });
    const exited = new Promise((resolve) => child.once("exit", resolve));
    try {
      await until("the job to be created and polled", () => (fake.jobs[0] && fake.jobs[0].polls >= 2 ? true : undefined));
    } finally {
      child.kill("SIGKILL");
      await exited;
    }
    assert.ok(existsSync(join(home, "training", r.id, "openai-job.json")));
    age(db, r.id);
    fake.setPollsToFinish(fake.jobs[0]!.polls + 2);
    assert.deepEqual(await worker(home, llmEnv(fake)), ["deployed"]);
    assert.equal(fake.jobs.length, 1, "no second job was paid for");
    assert.equal(fake.files.length, 1);
    const m = metricsOf(getRequest(db, r.id)!);
    assert.equal(m.train.resumed, true);
    assert.equal(getRequest(db, r.id)!.attempts, 2);
    assert.equal(store.modelOf(TENSOR), fake.jobs[0]!.fine_tuned_model);
  } finally {
    cleanup();
    await fake.close();
  }
});

test("experience backend with an LLM: proposed rows are kept only when they answer their input", { timeout: 60_000 }, async () => {
  // The proposer generalises the key to the task's words; for "words" tasks it gets the value wrong.
  const fake = await startFakeOpenAi({
    propose: (user) => {
      const input = /The expert was asked:\n([\s\S]*?)\n\nIt answered:/.exec(user)?.[1] ?? "";
      const expected = /The correct answer is:\n([\s\S]*?)\n\nDiff from/.exec(user)?.[1] ?? "";
      const task = input.split("\ntask: ")[1] ?? input;
      const value = task.includes("words") ? `${expected} --oops` : expected;
      return "```json\n" + JSON.stringify({ key: `${HINT}\ntask: ${task}`, value }) + "\n```";
    },
  });
  const { home, db, store, cleanup } = setup();
  try {
    const r = queue(db, EXAMPLES, "experience");
    assert.deepEqual(await worker(home, llmEnv(fake)), ["deployed"]);
    const m = metricsOf(getRequest(db, r.id)!);
    assert.equal(m.train.proposer, BASE_MODEL);
    assert.ok((m.train.llm_rows as number) >= 1, JSON.stringify(m.train));
    assert.ok((m.train.llm_rejected as number) >= 1, JSON.stringify(m.train));
    const ops = readFileSync(join(home, "training", r.id, "gradients.jsonl"), "utf8").trim().split("\n").map((l) => (JSON.parse(l) as { op: string }).op);
    assert.ok(ops.includes("llm") && ops.includes("add"), ops.join(","));
    assert.ok(!store.rows(TENSOR).some((row) => row.value.includes("--oops")), "a proposal that answered wrong was removed");

    // EXPERIENCE_MCP_TRAIN_LLM=off trains offline even with an endpoint configured.
    const asked = fake.chats.length;
    queue(db, NEW_TASKS.map(([a, , cmd]) => ({ input: `${HINT}\ntask: ${a} now`, expected: `${cmd} ` })), "experience");
    await worker(home, llmEnv(fake, { EXPERIENCE_MCP_TRAIN_LLM: "off" }));
    assert.equal(fake.chats.length, asked);
  } finally {
    cleanup();
    await fake.close();
  }
});

test("worker.log is rotated past its size limit", () => {
  const t = tempHome();
  try {
    const log = join(t.home, "worker.log");
    assert.equal(rotateLog(log, 10), false, "no log yet");
    writeFileSync(log, "short\n");
    assert.equal(rotateLog(log, 10), false);
    writeFileSync(log, "a line longer than ten bytes\n");
    assert.equal(rotateLog(log, 10), true);
    assert.equal(existsSync(log), false);
    assert.equal(readFileSync(`${log}.1`, "utf8"), "a line longer than ten bytes\n");
  } finally {
    t.cleanup();
  }
});
