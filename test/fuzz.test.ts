import { test } from "node:test";
import assert from "node:assert/strict";
import { RawServer } from "./spawn.js";
import { tempHome } from "./helpers.js";
import { mulberry32 } from "./prng.js";

const TOOLS = ["remember", "recall", "forget", "register_fix", "report_outcome"];
const FIELDS = ["query", "key", "value", "tensor", "k", "kinds", "ids", "signature", "error", "fix", "context", "success", "signature_fields", "tags", "explain", "max_chars"];
const TEN_MB = "A".repeat(10 * 1024 * 1024);

/** mustFail: false where random values may happen to form a valid call; invalidParams: must be -32602. */
type Frame = { raw: string; id: string | null; mustFail?: boolean; invalidParams?: boolean };

function weird(rand: () => number): unknown {
  const pick = Math.floor(rand() * 10);
  switch (pick) {
    case 0: return null;
    case 1: return Math.floor(rand() * 1e9) - 5e8;
    case 2: return rand() < 0.5;
    case 3: return [1, "two", { three: 3 }];
    case 4: return { nested: { deeper: [null] } };
    case 5: return "";
    case 6: return "\u0000\uffff\ud83d"; // lone surrogate
    case 7: return -0.5;
    case 8: return "x".repeat(Math.floor(rand() * 5000));
    default: return NaN; // serialized as null
  }
}

function makeFrames(count: number, seed: number): Frame[] {
  const rand = mulberry32(seed);
  const frames: Frame[] = [];
  let bigStrings = 0;
  for (let i = 0; i < count; i++) {
    const id = `f${i}`;
    const tool = TOOLS[Math.floor(rand() * TOOLS.length)]!;
    const kind = i % 9;
    const req = (params: unknown, method = "tools/call") => JSON.stringify({ jsonrpc: "2.0", id, method, params });
    switch (kind) {
      case 0: // unknown tool
        frames.push({ raw: req({ name: `no_such_${Math.floor(rand() * 1000)}`, arguments: {} }), id });
        break;
      case 1: { // wrong types
        const args: Record<string, unknown> = {};
        for (let f = 0; f < 1 + Math.floor(rand() * 4); f++) args[FIELDS[Math.floor(rand() * FIELDS.length)]!] = weird(rand);
        frames.push({ raw: req({ name: tool, arguments: args }), id, mustFail: false });
        break;
      }
      case 2: // missing fields / no arguments at all
        frames.push({ raw: req(rand() < 0.5 ? { name: tool, arguments: {} } : { name: tool }), id });
        break;
      case 3: { // broken JSON: a valid frame cut short, or junk
        const valid = req({ name: tool, arguments: { query: "q" } });
        const junk = ["{", "[1,2", "{\"jsonrpc\":\"2.0\",\"id\":", "not json at all", "}}}", "\"unterminated", valid.slice(0, Math.floor(rand() * valid.length))];
        frames.push({ raw: junk[Math.floor(rand() * junk.length)]!.replace(/\n/g, ""), id: null });
        break;
      }
      case 4: { // valid JSON, not JSON-RPC
        const bad = [
          { id, method: "tools/call" },
          { jsonrpc: "1.0", id, method: "tools/list" },
          { jsonrpc: "2.0", id, method: 42 },
          { jsonrpc: "2.0", id, method: "tools/call", params: 5 },
          [1, 2, 3],
          "just a string",
          42,
        ];
        const b = bad[Math.floor(rand() * bad.length)]!;
        const hasId = typeof b === "object" && !Array.isArray(b);
        frames.push({ raw: JSON.stringify(b), id: hasId ? id : null });
        break;
      }
      case 5: // oversized strings (a few 10 MB ones; the rest smaller)
        if (bigStrings < 4) {
          bigStrings++;
          frames.push({ raw: req({ name: tool, arguments: { query: TEN_MB, key: TEN_MB.slice(0, 1000), value: "v", error: TEN_MB, fix: "f" } }), id });
        } else {
          frames.push({ raw: req({ name: "remember", arguments: { key: "k".repeat(100_001 + Math.floor(rand() * 1000)), value: "v" } }), id });
        }
        break;
      case 6: // unknown method
        frames.push({ raw: req({}, `no/such/method/${i}`), id });
        break;
      case 8: { // tools/call params of the wrong shape (issue 11): -32602 and one sentence, not -32603
        const shapes = [
          { name: tool, arguments: "query=x" },
          { name: tool, arguments: [1, 2] },
          { name: tool, arguments: null },
          { name: 7, arguments: {} },
          { name: null },
          { name: [tool] },
          { name: "x".repeat(200 + Math.floor(rand() * 5000)), arguments: {} },
        ];
        frames.push({ raw: req(shapes[Math.floor(rand() * shapes.length)]), id, invalidParams: true });
        break;
      }
      default: // invalid enum / range values on otherwise plausible calls
        frames.push({ raw: req({ name: "recall", arguments: { query: "q", k: Math.floor(rand() * 1000) - 500, kinds: ["bogus"] } }), id });
    }
  }
  return frames;
}

test("fuzz: 2,000 malformed requests are each answered, the server stays up, stdout stays clean", async () => {
  const { home, cleanup } = tempHome();
  const s = new RawServer(home);
  try {
    await s.initialize();
    const frames = makeFrames(2000, 20261122);
    for (const f of frames) await s.write(`${f.raw}\n`);
    // An oversized frame is dropped to its newline and answered, not buffered.
    await s.write(`${JSON.stringify({ jsonrpc: "2.0", id: "huge", method: "tools/call", params: { name: "recall", arguments: { query: "x".repeat(70 * 1024 * 1024) } } })}\n`);
    const withId = frames.filter((f) => f.id !== null).map((f) => f.id!);
    const withoutId = frames.length - withId.length + 1; // + the oversized frame
    await s.until((m) => m.filter((x) => x.id === null).length >= withoutId && withId.every((id) => s.response(id) !== undefined), 240_000);

    for (const f of frames) {
      if (f.id === null || f.mustFail === false) continue;
      const r = s.response(f.id)!;
      const failed = r.error !== undefined || r.result?.isError === true;
      assert.ok(failed, `frame ${f.id} should have been refused: ${JSON.stringify(r).slice(0, 300)}`);
      if (f.invalidParams) {
        assert.equal(r.error?.code, -32602, `frame ${f.id}: ${JSON.stringify(r).slice(0, 300)}`);
        assert.ok(r.error!.message.length < 300 && !r.error!.message.includes("\n"), `frame ${f.id}: one sentence`);
      }
    }
    // No answer is more than a short excerpt of what was sent (10 MB strings went in).
    for (const m of s.messages) assert.ok(JSON.stringify(m).length < 10_000, `answer ${String(m.id)} is ${JSON.stringify(m).length} chars`);
    process.stdout.write(`# fuzz: ${frames.length + 1} malformed frames answered (${frames.filter((f) => f.invalidParams).length} with malformed tools/call params → -32602)\n`);
    assert.equal(s.messages.filter((x) => x.id === null).length, withoutId);
    assert.deepEqual(s.junk, [], "only JSON-RPC frames on stdout");

    // Still up and still correct.
    await s.send({ id: "alive", method: "tools/call", params: { name: "remember", arguments: { key: "still here", value: "yes" } } });
    await s.send({ id: "check", method: "tools/call", params: { name: "recall", arguments: { query: "still here" } } });
    await s.until(() => s.response("check") !== undefined);
    const results = (s.response("check")!.result!.structuredContent as { results: Array<{ value: string }> }).results;
    assert.equal(results[0]?.value, "yes");
    assert.equal(s.child.exitCode, null);
  } finally {
    await s.stop();
    cleanup();
  }
});
