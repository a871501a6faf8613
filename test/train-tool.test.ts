/**
 * train_model's arguments in process (no worker: EXPERIENCE_MCP_TRAIN_WORKER=off): `module`
 * queues the module's tensors that have recorded runs; contradictory or impossible requests are
 * refused with what to do.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { TmuxCli } from "../src/tmux/tmux.js";
import { runWorker } from "../src/train/worker.js";
import { VersionExpert } from "../src/train/forward.js";
import { commandExample } from "../src/harness/slots.js";
import { FAMILIES } from "../bench/harness-tasks.js";
import { connect, textOf } from "./helpers.js";

process.env.EXPERIENCE_MCP_TRAIN_WORKER = "off";

after(async () => {
  await new TmuxCli({ socket: `xmcp-test-${process.pid}` }).killServer();
});

interface Queued {
  request_id: string;
  status: string;
  tensor: string;
  worker: string;
  requests?: Array<{ tensor: string; request_id: string; status: string }>;
}

test("train_model module: queues the module's tensors that have unused recorded examples", { timeout: 60_000 }, async () => {
  const c = await connect();
  try {
    const none = await c.call("train_model", { module: "coder" });
    assert.equal(none.isError, true);
    assert.match(textOf(none), /no unused recorded examples: run run_harness/);

    const h = await c.ok<{ success: boolean; recorded: number }>("run_harness", { task: "print hello world", llm: "off", validator: { kind: "regex", pattern: "^hello world$" } });
    assert.equal(h.success, true);
    assert.ok(h.recorded >= 2);

    const q = await c.ok<Queued>("train_model", { module: "coder" });
    assert.equal(q.worker, "disabled");
    assert.deepEqual(q.requests?.map((r) => [r.tensor, r.status]), [
      ["coder/command", "queued"],
      ["coder/decision", "queued"],
    ]);
    assert.equal(q.request_id, q.requests?.[0]?.request_id);
    // Both are open now: asking again returns them as duplicates.
    const again = await c.ok<Queued>("train_model", { module: "coder" });
    assert.deepEqual(again.requests?.map((r) => r.status), ["duplicate", "duplicate"]);
    assert.deepEqual(again.requests?.map((r) => r.request_id), q.requests?.map((r) => r.request_id));
  } finally {
    await c.close();
  }
});

test("train_model refuses contradictory or impossible requests", async () => {
  const c = await connect();
  try {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{}, /either tensor .* or module/],
      [{ tensor: "coder/command", module: "coder" }, /either tensor .* or module/],
      [{ module: "coder", examples: [{ input: "a", expected: "b" }] }, /examples belong to one tensor/],
      [{ module: "no-such-module" }, /unknown module "no-such-module"/],
      [{ module: "../etc" }, /invalid module name/],
      [{ tensor: "coder/command", backend: "openai" }, /backend openai needs an API endpoint/],
      [{ tensor: "never-made" }, /tensor never-made does not exist/],
    ];
    for (const [args, message] of cases) {
      const r = await c.call("train_model", args);
      assert.equal(r.isError, true, JSON.stringify(args));
      assert.match(textOf(r), message, JSON.stringify(args));
    }
  } finally {
    await c.close();
  }
});

test("rollback_tensor: unknown tensors, bad names and a tensor with one version are refused", async () => {
  const c = await connect();
  try {
    await c.ok("remember", { tensor: "notes/one", query: "", key: "k", value: "v" });
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ tensor: "never-made" }, /tensor never-made does not exist/],
      [{ tensor: "../x" }, /tensor/i],
      [{ tensor: "notes/one" }, /no older version to roll back to/],
    ];
    for (const [args, message] of cases) {
      const r = await c.call("rollback_tensor", args);
      assert.equal(r.isError, true, JSON.stringify(args));
      assert.match(textOf(r), message, JSON.stringify(args));
    }
  } finally {
    await c.close();
  }
});

test("train_model: a request too small to hold examples out is answered at once; its examples wait for the next; unverified runs never count", { timeout: 60_000 }, async () => {
  const c = await connect();
  try {
    const db = c.app.services.db;
    const small = await c.ok<Queued>("train_model", { tensor: "coder/command", examples: [{ input: "reverse the lines of notes.txt", expected: "tac notes.txt" }] });
    assert.equal(small.status, "too_small");
    const stored = db.prepare("SELECT input, expected, run_id FROM examples").all() as Array<{ input: string; expected: string; run_id: string | null }>;
    assert.deepEqual(stored, [{ input: "text: type the shell command that does the task\ntask: reverse the lines of {1}", expected: "tac {1}", run_id: null }], "kept as a template pair");
    // An unverified run (nothing checks "show the working directory") is kept apart, verified = 0.
    const r = await c.ok<{ outcome: string; run_id: string }>("run_harness", { task: "show the working directory", llm: "off" });
    assert.equal(r.outcome, "unverified");
    assert.ok((db.prepare("SELECT count(*) FROM examples WHERE run_id = ? AND verified = 0").pluck().get(r.run_id) as number) > 0);
    assert.equal(db.prepare("SELECT count(*) FROM examples WHERE tensor = 'coder/decision' AND verified = 1").pluck().get(), 0, "nothing of it is trainable");
    // Enough examples: queued, and the kept one trains with them.
    const examples = FAMILIES.flatMap((f) => f.demos.map(([input, expected]) => ({ input, expected })));
    const q = await c.ok<Queued>("train_model", { tensor: "coder/command", examples });
    assert.equal(q.status, "queued");
    const w = await runWorker({ home: c.home, watch: false });
    assert.deepEqual(w.processed.map((p) => p.status), ["deployed"]);
    // Nothing taught is lost to the held-out split: once the gates pass, the version learns those too.
    const version = c.app.services.store.activeVersion("coder/command")!;
    const expert = new VersionExpert(db, "coder/command", version);
    for (const e of examples.map((x) => commandExample(x.input, x.expected))) assert.equal((await expert.forward(e.input)).output, e.expected, e.input);
    // Transfer: taught with notes.txt in one wording, it solves another file in another wording.
    const { cwd } = await c.ok<{ cwd: string }>("tmux_session", { action: "create", session: "transfer" });
    writeFileSync(join(cwd, "data.csv"), "1\n2\n3\n");
    const t = await c.ok<{ outcome: string; trajectory: Array<{ command: string }> }>("run_harness", {
      task: "reverse the lines in data.csv",
      session: "transfer",
      llm: "off",
      validator: { kind: "regex", pattern: "^3\\n2\\n1$" },
    });
    assert.equal(t.outcome, "verified", JSON.stringify(t));
    assert.equal(t.trajectory[0]!.command, "tac data.csv");
  } finally {
    await c.close();
  }
});
