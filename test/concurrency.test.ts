import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import Database from "better-sqlite3";
import { spawnClient, RawServer } from "./spawn.js";
import { tempHome } from "./helpers.js";

const PROCESSES = 4;
const WRITES = 250;
const IN_FLIGHT = 8;

test("4 server processes × 250 remembers through MCP on one data dir → exactly 1000 rows", async () => {
  const { home, cleanup } = tempHome();
  try {
    const servers = await Promise.all(Array.from({ length: PROCESSES }, () => spawnClient(home)));
    await Promise.all(
      servers.map(async ({ client }, p) => {
        let next = 0;
        // A few calls in flight per process so the processes really contend for the write lock.
        const worker = async () => {
          while (next < WRITES) {
            const i = next++;
            const r = await client.callTool({ name: "remember", arguments: { tensor: "load", query: `p${p} w${i}`, key: `process ${p} write ${i}`, value: `v${p}-${i}` } });
            assert.equal(r.isError, undefined, JSON.stringify(r.content));
            assert.equal((r.structuredContent as { created: boolean }).created, true);
          }
        };
        await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
      }),
    );
    await Promise.all(servers.map((s) => s.client.close()));
    const db = new Database(join(home, "experience.db"), { readonly: true });
    const { n } = db.prepare("SELECT count(*) AS n FROM rows WHERE tensor = 'load'").get() as { n: number };
    const fts = db.prepare("SELECT count(*) AS n FROM rows_fts").get() as { n: number };
    db.close();
    assert.equal(n, PROCESSES * WRITES);
    assert.equal(fts.n, PROCESSES * WRITES);
    process.stdout.write(`# concurrency: ${PROCESSES} writer processes × ${IN_FLIGHT} calls in flight, ${n} rows\n`);
  } finally {
    cleanup();
  }
});

test("kill -9 mid-stream: the database is intact and every acknowledged write is there", async () => {
  const { home, cleanup } = tempHome();
  try {
    const s = new RawServer(home);
    await s.initialize();
    const total = 400;
    const sending = (async () => {
      for (let i = 0; i < total; i++) {
        if (s.child.signalCode !== null) break;
        await s.send({ id: i, method: "tools/call", params: { name: "remember", arguments: { tensor: "crash", key: `crash row ${i}`, value: "x".repeat(2000) } } });
      }
    })();
    // Kill while requests are still streaming in and being written.
    await s.until((m) => m.filter((x) => typeof x.id === "number").length >= 60);
    s.child.kill("SIGKILL");
    await new Promise((resolve) => s.child.once("exit", resolve));
    await sending;
    const acked = s.messages.filter((m) => typeof m.id === "number" && m.result && !m.result.isError).map((m) => m.id as number);
    assert.ok(acked.length >= 60 && acked.length < total, `acknowledged ${acked.length}`);

    const db = new Database(join(home, "experience.db"));
    assert.equal(db.pragma("integrity_check", { simple: true }), "ok");
    db.exec("INSERT INTO rows_fts (rows_fts) VALUES ('integrity-check')");
    const present = new Set((db.prepare("SELECT key FROM rows WHERE tensor = 'crash'").all() as Array<{ key: string }>).map((r) => r.key));
    db.close();
    for (const i of acked) assert.ok(present.has(`crash row ${i}`), `acknowledged write ${i} survived`);
    process.stdout.write(`# kill -9: ${acked.length} acknowledged writes of ${total} sent, all present; integrity ok\n`);

    // A new server on the same directory works.
    const again = await spawnClient(home);
    const r = await again.client.callTool({ name: "recall", arguments: { query: "crash row 5", tensor: "crash" } });
    assert.equal(r.isError, undefined);
    await again.client.close();
  } finally {
    cleanup();
  }
});
