import { test } from "node:test";
import assert from "node:assert/strict";
import { LoggingMessageNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { connect, textOf } from "./helpers.js";

const MEMORY_TOOLS = ["forget", "harvest", "recall", "register_fix", "remember", "report_outcome"];

test("tools/list: memory tools with schemas and kind-derived annotations", async () => {
  const c = await connect({ toolsets: ["memory"] });
  try {
    const { tools } = await c.client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), MEMORY_TOOLS);
    for (const t of tools) {
      assert.ok(t.description && t.description.length > 20, `${t.name} has a description`);
      assert.ok(t.outputSchema, `${t.name} has an outputSchema`);
      const props = (t.inputSchema.properties ?? {}) as Record<string, { description?: string }>;
      for (const [field, schema] of Object.entries(props)) assert.ok(schema.description, `${t.name}.${field} is described`);
    }
    const recall = tools.find((t) => t.name === "recall")!;
    assert.equal(recall.annotations?.readOnlyHint, true);
    const forget = tools.find((t) => t.name === "forget")!;
    assert.equal(forget.annotations?.destructiveHint, true);
    const remember = tools.find((t) => t.name === "remember")!;
    assert.equal(remember.annotations?.readOnlyHint, false);
    assert.equal(remember.annotations?.destructiveHint, false);
  } finally {
    await c.close();
  }
});

test("--read-only keeps only tools that change nothing", async () => {
  const c = await connect({ toolsets: ["memory"], readOnly: true });
  try {
    const { tools } = await c.client.listTools();
    assert.deepEqual(tools.map((t) => t.name), ["recall"]);
    const r = await c.call("remember", { key: "k", value: "v" });
    assert.equal(r.isError, true);
  } finally {
    await c.close();
  }
});

test("remember → recall → forget through MCP", async () => {
  const c = await connect();
  try {
    const stored = await c.ok<{ id: number; tensor: string; created: boolean }>("remember", {
      query: "typescript build",
      key: "tsc cannot find module express",
      value: "npm i -D @types/express",
      tags: ["ts"],
    });
    assert.equal(stored.tensor, "default");
    assert.equal(stored.created, true);
    // The row remembers the repository the server runs in (the tests run inside a git checkout).
    const { repoOf } = await import("../src/storage/repo.js");
    const repo = c.app.services.db.prepare("SELECT repo FROM rows WHERE id = ?").pluck().get(stored.id);
    assert.equal(repo, repoOf(process.cwd()));
    assert.notEqual(repo, "");
    const again = await c.ok<{ created: boolean; id: number }>("remember", {
      query: "typescript build",
      key: "tsc cannot find module express",
      value: "npm i -D @types/express",
    });
    assert.deepEqual(again, { ...stored, created: false });

    const r = await c.call("recall", { query: "cannot find module express when building typescript", explain: true });
    assert.equal(r.isError, undefined);
    const out = r.structuredContent as { results: Array<Record<string, unknown>>; took_ms: number };
    assert.equal(out.results[0]?.kind, "experience");
    assert.equal(out.results[0]?.value, "npm i -D @types/express");
    assert.ok((out.results[0]?.explain as { formula: string }).formula.includes("/"));
    assert.ok(typeof out.took_ms === "number");
    assert.match(textOf(r), /npm i -D @types\/express/);

    const gone = await c.ok<{ removed: number }>("forget", { ids: [stored.id] });
    assert.equal(gone.removed, 1);
    const after = await c.ok<{ results: unknown[] }>("recall", { query: "cannot find module express", kinds: ["experience"] });
    assert.equal(after.results.length, 0);
  } finally {
    await c.close();
  }
});

test("recall leaves harness modules' own tensors and weak matches out unless asked (issue 13)", async () => {
  const c = await connect({ toolsets: ["memory"] });
  try {
    const user = await c.ok<{ id: number }>("remember", { key: "deploy the docs", value: "mkdocs gh-deploy --force" });
    // What the coder module keeps for itself: key names and command templates.
    const internal = await c.ok<{ id: number }>("remember", { tensor: "coder/decision", key: "state: the docs prompt", value: "ctrl:press Enter" });
    // Shares one word with a long row: a score far below the floor.
    const weak = await c.ok<{ id: number }>("remember", {
      key: "the staging cluster rotates its certificates every night at two with a cron job on the bastion host behind our office firewall",
      value: "see the runbook",
    });
    type Hits = { results: Array<{ kind: string; id?: number; tensor?: string; score: number }> };
    const ids = (r: Hits) => r.results.filter((h) => h.kind === "experience").map((h) => h.id);
    const byDefault = await c.ok<Hits>("recall", { query: "deploy the docs", kinds: ["experience"] });
    assert.deepEqual(ids(byDefault), [user.id]);
    const withModules = await c.ok<Hits>("recall", { query: "deploy the docs", kinds: ["experience"], include_modules: true });
    assert.deepEqual(ids(withModules).sort(), [user.id, internal.id].sort());
    const named = await c.ok<Hits>("recall", { query: "deploy the docs", tensor: "coder/decision" });
    assert.deepEqual(ids(named), [internal.id]);
    const everything = await c.ok<Hits>("recall", { query: "deploy the docs", kinds: ["experience"], min_score: 0 });
    assert.ok(ids(everything).includes(weak.id), "min_score 0 keeps the row sharing only 'the'");
    const weakHit = everything.results.find((h) => h.id === weak.id)!;
    assert.ok(weakHit.score < 0.05, `the weak row scores ${weakHit.score}`);
  } finally {
    await c.close();
  }
});

test("recall returns registered fixes next to experience rows", async () => {
  const c = await connect();
  try {
    const error = "src/app.ts(3,21): error TS2307: Cannot find module 'left-pad' or its corresponding type declarations.\n";
    const reg = await c.ok<{ signature: string; status: string }>("register_fix", { error, fix: "npm install left-pad", context: "tsc" });
    assert.equal(reg.status, "created");
    const again = "lib/other.ts(9,1): error TS2307: Cannot find module 'left-pad' or its corresponding type declarations.\n";
    const out = await c.ok<{ results: Array<Record<string, unknown>> }>("recall", { query: again, kinds: ["fix"] });
    assert.equal(out.results[0]?.kind, "fix");
    assert.equal(out.results[0]?.fix, "npm install left-pad");
    assert.equal(out.results[0]?.signature, reg.signature);
    const removed = await c.ok<{ removed: number }>("forget", { signature: reg.signature });
    assert.equal(removed.removed, 1);
  } finally {
    await c.close();
  }
});

test("report_outcome on an experience row strengthens, weakens and finally deletes it", async () => {
  const c = await connect();
  try {
    const { id } = await c.ok<{ id: number }>("remember", { key: "flaky advice", value: "rm -rf node_modules" });
    const up = await c.ok<{ strength: number; successes: number; pruned: boolean }>("report_outcome", { id, success: true });
    assert.deepEqual(up, { strength: 1, successes: 1, failures: 0, pruned: false });
    let last = { strength: 1, pruned: false, failures: 0 };
    for (let i = 0; i < 10 && !last.pruned; i++) last = await c.ok("report_outcome", { id, success: false });
    // 1.0 − 10 × 0.10 falls below 0.01 at the tenth failure.
    assert.equal(last.pruned, true);
    assert.equal(last.failures, 10);
    const gone = await c.call("report_outcome", { id, success: true });
    assert.equal(gone.isError, true);
  } finally {
    await c.close();
  }
});

test("recall trims long fields to max_chars", async () => {
  const c = await connect();
  try {
    await c.ok("remember", { query: "huge", key: "huge output", value: "x".repeat(50_000) });
    const out = await c.ok<{ results: Array<{ value: string }> }>("recall", { query: "huge output", max_chars: 1000 });
    assert.ok(out.results[0]!.value.length < 1000);
    assert.match(out.results[0]!.value, /truncated/);
  } finally {
    await c.close();
  }
});

test("memory tools answer bad input with isError and a message that says what to do", async () => {
  const c = await connect();
  try {
    const cases: Array<[string, Record<string, unknown>, RegExp]> = [
      ["remember", { key: "k", value: "v", tensor: "bad name!" }, /tensor names/],
      ["remember", { key: "k", value: "v", tensor: "a/b/c" }, /tensor names/],
      ["remember", { key: "", value: "v" }, /key/],
      ["remember", { value: "v" }, /key/],
      ["remember", { key: "k", value: "v".repeat(100_001) }, /limit is 100000/],
      ["remember", { key: 42, value: "v" }, /key/],
      ["recall", {}, /query/],
      ["recall", { query: "x", k: 0 }, /k/],
      ["recall", { query: "x", k: 51 }, /k/],
      ["recall", { query: "x", kinds: ["nope"] }, /kinds/],
      ["recall", { query: "q".repeat(100_001) }, /limit/],
      ["forget", {}, /Give ids/],
      ["forget", { signature: "xyz" }, /16 lowercase hex/],
      ["forget", { ids: [-1] }, /ids/],
      ["no_such_tool", {}, /not found/],
    ];
    for (const [tool, args, expected] of cases) {
      const r = await c.call(tool, args);
      assert.equal(r.isError, true, `${tool} ${JSON.stringify(args).slice(0, 60)} should be an error`);
      assert.match(textOf(r), expected, `${tool} message: ${textOf(r).slice(0, 200)}`);
    }
    // Nothing above was stored.
    const out = await c.ok<{ results: unknown[] }>("recall", { query: "k v" });
    assert.equal(out.results.length, 0);
  } finally {
    await c.close();
  }
});

test("a damaged database answers with an error instead of crashing the server", async () => {
  const { writeFileSync } = await import("node:fs");
  const { join } = await import("node:path");
  const { tempHome } = await import("./helpers.js");
  const { home, cleanup } = tempHome();
  writeFileSync(join(home, "experience.db"), "garbage ".repeat(1000));
  const c = await connect({ home });
  try {
    const r = await c.call("recall", { query: "anything" });
    assert.equal(r.isError, true);
    assert.match(textOf(r), /Move it aside/);
    // The server is still up.
    const { tools } = await c.client.listTools();
    assert.ok(tools.length >= 5);
  } finally {
    await c.close();
    cleanup();
  }
});

test("log notifications: none until the client sets a level, then those at or above it", async () => {
  const c = await connect();
  try {
    const got: Array<{ level: string; data: unknown }> = [];
    c.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
      got.push({ level: n.params.level, data: n.params.data });
    });
    const settle = () => new Promise((r) => setTimeout(r, 20));
    await c.ok("recall", { query: "anything" });
    await settle();
    assert.equal(got.length, 0, "no level set: no notifications");

    await c.client.setLoggingLevel("debug");
    await c.ok("recall", { query: "anything" });
    await c.call("forget", { ids: [] });
    await settle();
    assert.equal(got[0]?.level, "debug");
    assert.match(String(got[0]?.data), /^recall: ok in [\d.]+ ms$/);
    assert.ok(got.some((g) => g.level === "info" && /^forget: refused/.test(String(g.data))), JSON.stringify(got));

    got.length = 0;
    await c.client.setLoggingLevel("warning");
    await c.ok("recall", { query: "anything" });
    await c.call("forget", { ids: [] });
    await settle();
    assert.equal(got.length, 0, "below the chosen level: none");
  } finally {
    await c.close();
  }
});
