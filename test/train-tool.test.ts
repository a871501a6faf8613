/**
 * train_model's arguments in process (no worker: EXPERIENCE_MCP_TRAIN_WORKER=off): `module`
 * queues the module's tensors that have recorded runs; contradictory or impossible requests are
 * refused with what to do.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { TmuxCli } from "../src/tmux/tmux.js";
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
