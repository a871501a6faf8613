import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import type { Tool } from "@modelcontextprotocol/sdk/types.js";
import { spawnClient, RawServer } from "./spawn.js";
import { tempHome } from "./helpers.js";

test("the built server over stdio: remember in one process, recall from another", async () => {
  const { home, cleanup } = tempHome();
  try {
    const a = await spawnClient(home);
    const stored = await a.client.callTool({ name: "remember", arguments: { query: "deploy", key: "how do I deploy the site", value: "make deploy" } });
    assert.equal(stored.isError, undefined);
    await a.client.close();

    const b = await spawnClient(home);
    const r = await b.client.callTool({ name: "recall", arguments: { query: "deploy the site" } });
    const results = (r.structuredContent as { results: Array<{ value: string }> }).results;
    assert.equal(results[0]?.value, "make deploy");
    await b.client.close();
  } finally {
    cleanup();
  }
});

test("stdout carries nothing but JSON-RPC frames, even with debug logging", async () => {
  const { home, cleanup } = tempHome();
  process.env.EXPERIENCE_MCP_LOG = "debug";
  const s = new RawServer(home);
  delete process.env.EXPERIENCE_MCP_LOG;
  try {
    await s.initialize();
    await s.send({ id: 1, method: "tools/call", params: { name: "remember", arguments: { key: "k", value: "v" } } });
    await s.send({ id: 2, method: "tools/call", params: { name: "recall", arguments: { query: "k" } } });
    await s.until(() => s.response(2) !== undefined);
    assert.deepEqual(s.junk, []);
    assert.match(s.stderr, /serving/);
  } finally {
    await s.stop();
    cleanup();
  }
});

// GitHub's MCP server keeps one snapshot per tool so a schema change is always deliberate and its
// diff names the tool. After an intended change: UPDATE_SNAPSHOTS=1 npm test, and commit
// test/snapshots/tools/ and the regenerated docs/tools.md (npm run docs:tools).
test("tools/list matches the committed snapshot of each tool", async () => {
  const { home, cleanup } = tempHome();
  const dir = fileURLToPath(new URL("../../test/snapshots/tools/", import.meta.url));
  try {
    const c = await spawnClient(home);
    const { tools } = await c.client.listTools();
    await c.client.close();
    if (process.env.UPDATE_SNAPSHOTS === "1") {
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      for (const t of tools as Tool[]) writeFileSync(join(dir, `${t.name}.json`), `${JSON.stringify(t, null, 2)}\n`);
    }
    const committed = readdirSync(dir).filter((f) => f.endsWith(".json")).map((f) => f.slice(0, -5)).sort();
    assert.deepEqual((tools as Tool[]).map((t) => t.name).sort(), committed, "the set of tools changed: if intended, run UPDATE_SNAPSHOTS=1 npm test");
    for (const t of tools as Tool[]) {
      const expected = readFileSync(join(dir, `${t.name}.json`), "utf8");
      assert.equal(`${JSON.stringify(t, null, 2)}\n`, expected, `${t.name} changed: if intended, run UPDATE_SNAPSHOTS=1 npm test and commit its snapshot`);
    }
  } finally {
    cleanup();
  }
});

test("docs/tools.md is generated from the current tool definitions", () => {
  const script = fileURLToPath(new URL("../../scripts/gen-tool-docs.mjs", import.meta.url));
  const r = spawnSync(process.execPath, [script, "--check"], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
});
