// Issue 11, items 5 and 6, through the built server over stdio: every input is bounded (a huge one
// is refused fast and never quoted back whole), and malformed tools/call params get -32602 with
// one sentence instead of -32603 and a zod dump.
import { test } from "node:test";
import assert from "node:assert/strict";
import { RawServer } from "./spawn.js";
import { tempHome } from "./helpers.js";

test("tools/call with arguments that are a string, an array or null, or a numeric name: -32602 and one sentence", async () => {
  const { home, cleanup } = tempHome();
  const s = new RawServer(home);
  try {
    await s.initialize();
    const cases: Array<[string, Record<string, unknown>, RegExp]> = [
      ["str", { name: "recall", arguments: "query=x" }, /params\.arguments must be an object .* not a string/],
      ["arr", { name: "recall", arguments: [{ query: "x" }] }, /params\.arguments must be an object .* not an array/],
      ["nul", { name: "recall", arguments: null }, /params\.arguments must be an object .* not null/],
      ["num", { name: 42, arguments: {} }, /params\.name must be a string naming a tool .* not a number/],
      ["obj", { name: { tool: "recall" } }, /params\.name must be a string .* not an object/],
      ["long", { name: "n".repeat(5000), arguments: {} }, /params\.name is 5000 characters/],
    ];
    for (const [id, params] of cases) await s.send({ id, method: "tools/call", params });
    await s.send({ id: "noparams", method: "tools/call" });
    await s.send({ id: "badinit", method: "logging/setLevel", params: { level: "loud" } });
    await s.until(() => [...cases.map((c) => c[0]), "noparams", "badinit"].every((id) => s.response(id) !== undefined));
    for (const [id, , message] of cases) {
      const r = s.response(id)!;
      assert.equal(r.error?.code, -32602, `${id}: ${JSON.stringify(r)}`);
      assert.match(r.error!.message, message);
      assert.doesNotMatch(r.error!.message, /"code"|invalid_type|\n/, `${id}: no zod dump`);
      assert.ok(r.error!.message.length < 300, `${id}: one sentence (${r.error!.message.length} chars)`);
    }
    assert.equal(s.response("noparams")!.error?.code, -32602);
    assert.equal(s.response("badinit")!.error?.code, -32602);
    assert.match(s.response("badinit")!.error!.message, /^Invalid params for logging\/setLevel: params\.level: /);
    // A well-formed call still works.
    await s.send({ id: "ok", method: "tools/call", params: { name: "recall", arguments: { query: "anything" } } });
    await s.until(() => s.response("ok") !== undefined);
    assert.equal(s.response("ok")!.result?.isError, undefined);
    assert.deepEqual(s.junk, []);
  } finally {
    await s.stop();
    cleanup();
  }
});

test("every string input is bounded: 50 MB signature_fields and cwd are refused at once (the frame parse only), quoting at most an excerpt", { timeout: 120_000 }, async () => {
  const { home, cleanup } = tempHome();
  const s = new RawServer(home);
  try {
    await s.initialize();
    const huge = "A".repeat(50 * 1024 * 1024);
    const big = `/nonexistent/${"d".repeat(3000)}`; // under the path limit: reaches the tool, which names it
    const calls: Array<[string, string, Record<string, unknown>]> = [
      ["sev", "register_fix", { signature_fields: { severity: huge, error_type: "t", context: "", categories: [] }, fix: "f" }],
      ["cat", "register_fix", { signature_fields: { severity: "major", error_type: "t", context: "", categories: [huge] }, fix: "f" }],
      ["ctx", "register_fix", { signature_fields: { severity: "major", error_type: "t", context: huge, categories: [] }, fix: "f" }],
      ["fix", "register_fix", { error: "TypeError: x is undefined", fix: huge }],
      ["key", "remember", { key: huge, value: "v" }],
      ["qry", "recall", { query: huge }],
      ["cwd", "tmux_session", { action: "create", session: "hb", cwd: huge }],
      ["ex", "train_model", { tensor: "t/x", examples: [{ input: huge, expected: "e" }] }],
    ];
    const timings: Record<string, number> = {};
    for (const [id, name, args] of calls) {
      const started = performance.now();
      await s.send({ id, method: "tools/call", params: { name, arguments: args } });
      await s.until(() => s.response(id) !== undefined, 60_000);
      timings[id] = performance.now() - started;
    }
    // Arrays and objects are bounded too: 20,000 elements are refused before zod walks them.
    await s.send({ id: "many", method: "tools/call", params: { name: "forget", arguments: { ids: Array.from({ length: 20_000 }, (_, i) => i + 1) } } });
    await s.until(() => s.response("many") !== undefined);
    assert.equal(s.response("many")!.result?.isError, true);
    assert.match(JSON.stringify(s.response("many")), /more than the maximum of 10000 elements/);
    await s.send({ id: "cwd2", method: "tools/call", params: { name: "tmux_session", arguments: { action: "create", session: "hb2", cwd: big } } });
    await s.until(() => s.response("cwd2") !== undefined);
    for (const [id] of calls) {
      const r = s.response(id)!;
      const text = JSON.stringify(r);
      assert.equal(r.result?.isError, true, `${id} refused: ${text.slice(0, 300)}`);
      assert.ok(text.length < 1000, `${id}: answer of ${text.length} chars`);
      assert.match(text, /limit is (100000|200|4096)/, `${id}: says the limit`);
    }
    // The 50 MB frame costs its JSON parse; the refusal itself is immediate (was: 51 s blocked).
    for (const [id, ms] of Object.entries(timings)) assert.ok(ms < 5000, `${id} took ${ms.toFixed(0)} ms`);
    const cwd2 = JSON.stringify(s.response("cwd2"));
    assert.match(cwd2, /is not a directory/);
    assert.match(cwd2, /… \(3013 characters\)/, "the long cwd is quoted as an excerpt");
    assert.ok(cwd2.length < 800, `cwd error is ${cwd2.length} chars`);
    process.stdout.write(`# 50 MB field refusals (ms, send→answer over stdio): ${JSON.stringify(Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, Math.round(v)])))}\n`);
    assert.deepEqual(s.junk, []);
  } finally {
    await s.stop();
    cleanup();
  }
});
