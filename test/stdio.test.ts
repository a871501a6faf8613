import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname } from "node:path";
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

// GitHub's MCP server keeps a snapshot of tools/list so a schema change is always deliberate.
// After an intended change: UPDATE_SNAPSHOTS=1 npm test, and commit test/snapshots/tools-list.json.
test("tools/list matches the committed snapshot", async () => {
  const { home, cleanup } = tempHome();
  const snapshotFile = fileURLToPath(new URL("../../test/snapshots/tools-list.json", import.meta.url));
  try {
    const c = await spawnClient(home);
    const { tools } = await c.client.listTools();
    await c.client.close();
    const current = `${JSON.stringify(tools as Tool[], null, 2)}\n`;
    if (process.env.UPDATE_SNAPSHOTS === "1") {
      mkdirSync(dirname(snapshotFile), { recursive: true });
      writeFileSync(snapshotFile, current);
    }
    const expected = readFileSync(snapshotFile, "utf8");
    assert.equal(current, expected, "tools/list changed: if intended, run UPDATE_SNAPSHOTS=1 npm test and commit the snapshot");
  } finally {
    cleanup();
  }
});
