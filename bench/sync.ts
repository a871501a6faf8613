// `npm run bench -- sync` (issue 12): team sync through a real PostgreSQL hub (a throwaway cluster
// on loopback, fsync off as in the tests), measured warm:
//  - propagation: A's register_fix (a real server) → B's recall (a real server) finds it, with
//    background sync on (LISTEN/NOTIFY); baseline in the same run: B pulling by a 1 s poll only;
//  - push and pull throughput (ops/s) of `sync`, against raw batched INSERTs with pg;
//  - a first pull of 10k fixes;
//  - 50 simulated machines (50 stores and background syncs in this process) on one hub.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import pg from "pg";
import { openDatabase, type Db } from "../src/storage/db.js";
import { ExperienceStore } from "../src/experience/store.js";
import { FixRegistry } from "../src/registry/registry.js";
import { initHub } from "../src/sync/hub.js";
import { enableSync, syncStatus } from "../src/sync/local.js";
import { syncOnce } from "../src/sync/sync.js";
import { BackgroundSync } from "../src/sync/background.js";
import { startCluster } from "../test/pg-cluster.js";
import { spawnClient } from "../test/spawn.js";
import { emit, percentile } from "./lib.js";

const root = mkdtempSync(join(tmpdir(), "xmcp-bench-sync-"));
const cluster = await startCluster();
// A failed run must not leave its cluster running.
process.on("exit", () => {
  cluster.stop();
  rmSync(root, { recursive: true, force: true });
});
process.on("SIGTERM", () => process.exit(1));
process.on("uncaughtException", (err) => {
  process.stderr.write(`bench sync: ${err.stack ?? err}\n`);
  process.exit(1);
});
const admin = new pg.Client({ connectionString: cluster.url() });
await admin.connect();
await admin.query("CREATE ROLE member LOGIN PASSWORD 'member-pw'");
// One team per part, so each starts from an empty log: bench (propagation, throughput), fixes, load.
for (const team of ["bench", "fixes", "load"]) {
  await initHub(cluster.url(), team);
  await admin.query(`GRANT experience_mcp_team_${team} TO member`);
}
const url = cluster.url("member", "member-pw");
const env = { EXPERIENCE_MCP_HUB: url, EXPERIENCE_MCP_TEAM: "bench" };
let dirs = 0;
const freshDb = (): Db => openDatabase(join(root, `m${dirs++}`));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (x: number) => Math.round(x * 10) / 10;
const stats = (name: string, samples: number[], extra: Record<string, unknown>) => {
  const sorted = [...samples].sort((a, b) => a - b);
  emit({ name, n: sorted.length, p50: round(percentile(sorted, 50)), p99: round(percentile(sorted, 99)), unit: "ms", ...extra });
};
/** Letters for i: errors and keys that differ in words, not only in digits (digits are masked). */
const word = (i: number): string => {
  let s = "";
  do {
    s += String.fromCharCode(97 + (i % 26));
    i = Math.floor(i / 26);
  } while (i > 0);
  return s;
};
const tsError = (i: number) => `src/${word(i)}.ts(3,7): error TS${5000 + i}: The ${word(i)} widget rejected its ${word(i + 7)} input.`;

// ---- propagation between two real servers ------------------------------------------------------
{
  const a = await spawnClient(join(root, "prop-a"), [], env);
  const b = await spawnClient(join(root, "prop-b"), [], env);
  const found = async (i: number): Promise<boolean> => {
    const r = (await b.client.callTool({ name: "recall", arguments: { query: tsError(i) } })) as { content: Array<{ text?: string }> };
    return r.content.some((c) => c.text?.includes(`fix-${word(i)}`));
  };
  const trials = 40;
  const samples: number[] = [];
  for (let i = 0; i < trials + 3; i++) {
    const t0 = performance.now();
    await a.client.callTool({ name: "register_fix", arguments: { error: tsError(i), fix: `run fix-${word(i)}` } });
    while (!(await found(i))) {
      if (performance.now() - t0 > 10_000) throw new Error(`trial ${i}: B never found A's fix; A: ${a.stderr().slice(-1500)} B: ${b.stderr().split("\n").filter((l) => !l.includes("recall: ok")).join("\n").slice(-1500)}`);
      await sleep(5);
    }
    // The first three warm both servers (their hub connections, the recall caches).
    if (i >= 3) samples.push(performance.now() - t0);
    if (process.env.SYNC_BENCH_DEBUG) process.stderr.write(`trial ${i}: ${Math.round(performance.now() - t0)} ms\n`);
  }
  stats("sync.propagation.listen_notify", samples, { warm: true, what: "A register_fix → B recall finds it, two real servers, background sync", poll_of_recall_ms: 5 });
  await a.client.close();

  // Baseline, same run: B learns only by its periodic pull (1 s), no LISTEN; A is a real server.
  const a2 = await spawnClient(join(root, "prop-a"), [], env);
  const db = freshDb();
  const poller = new BackgroundSync(db, { url, team: "bench", intervalMs: 1000, listen: false, localPollMs: 60_000 });
  // The registry on its own connection, as in a server: its cache follows other connections' commits.
  const reader = openDatabase(join(root, `m${dirs - 1}`));
  const registry = new FixRegistry(reader);
  const base: number[] = [];
  await sleep(1500);
  for (let i = 1000; i < 1015; i++) {
    const t0 = performance.now();
    await a2.client.callTool({ name: "register_fix", arguments: { error: tsError(i), fix: `run fix-${word(i)}` } });
    while (!registry.lookup(tsError(i)).some((m) => m.fix.includes(`fix-${word(i)}`))) await sleep(5);
    base.push(performance.now() - t0);
  }
  await poller.stop();
  stats("sync.propagation.poll_1s_baseline", base, { warm: true, what: "same, B pulling every 1 s without LISTEN (in-process)" });
  await a2.client.close();
  await b.client.close();
}

// ---- push and pull throughput, and raw INSERTs as the baseline ----------------------------------
{
  const n = 20_000;
  const src = freshDb();
  enableSync(src);
  new ExperienceStore(src).rememberMany(
    "bench-rows",
    Array.from({ length: n }, (_, i) => ({ query: "", key: `situation ${word(i)} with ${word(i + 3)}`, value: `answer ${word(i)}`, shared: true })),
  );
  const ops = syncStatus(src).pending;
  let t0 = performance.now();
  const pushed = await syncOnce(src, url, "bench");
  const pushMs = performance.now() - t0;
  emit({ name: "sync.push", n: ops, ms: round(pushMs), ops_per_s: Math.round(ops / (pushMs / 1000)), what: "experience-mcp sync: SQLite queue → hub, batches of 500 (plus the pull of what it pushed)", pushed_new: pushed.pushedNew });

  const dst = freshDb();
  t0 = performance.now();
  const pulled = await syncOnce(dst, url, "bench");
  const pullMs = performance.now() - t0;
  emit({ name: "sync.pull", n: pulled.pulled, ms: round(pullMs), ops_per_s: Math.round(pulled.pulled / (pullMs / 1000)), what: "first sync of a new machine: hub → applied experience rows", rows: new ExperienceStore(dst).rows("bench-rows").length });

  // Baseline: the same number of op-shaped rows INSERTed with pg, 500 a statement, no SQLite.
  await admin.query("CREATE TABLE raw_ops (id uuid PRIMARY KEY, machine text, kind text, payload jsonb)");
  const batch = Array.from({ length: 500 }, () => ({ machine: "m", kind: "row.put", payload: { key: "situation abc", value: "answer abc", signature: "row x y", at: 1 } }));
  t0 = performance.now();
  for (let i = 0; i < n; i += 500) {
    await admin.query("INSERT INTO raw_ops SELECT x.id, x.machine, x.kind, x.payload FROM jsonb_to_recordset($1::jsonb) AS x (id uuid, machine text, kind text, payload jsonb)", [
      JSON.stringify(batch.map((b) => ({ ...b, id: randomUUID() }))),
    ]);
  }
  const rawMs = performance.now() - t0;
  emit({ name: "sync.raw_insert_baseline", n, ms: round(rawMs), ops_per_s: Math.round(n / (rawMs / 1000)), what: "pg INSERT of op-shaped rows, 500 a statement, no SQLite, no RLS" });
  src.close();
  dst.close();
}

// ---- a first pull of 10k fixes ------------------------------------------------------------------
{
  const src = freshDb();
  enableSync(src);
  const registry = new FixRegistry(src);
  for (let i = 0; i < 10_000; i++) registry.register({ signatureFields: { severity: "major", error_type: `E${word(i)}`, context: "bench", categories: [word(i)] }, fix: `apply fix ${word(i)}` });
  await syncOnce(src, url, "fixes");
  const dst = freshDb();
  const t0 = performance.now();
  const r = await syncOnce(dst, url, "fixes");
  const ms = performance.now() - t0;
  const fixes = dst.prepare("SELECT count(*) FROM fixes").pluck().get() as number;
  emit({ name: "sync.first_pull_10k_fixes", n: fixes, ms: round(ms), ops_pulled: r.pulled, ops_per_s: Math.round(r.pulled / (ms / 1000)), target_ms: 5000, what: "new machine's first sync of a team whose log holds 10k fix.put ops" });
  src.close();
  dst.close();
}

// ---- 50 machines on one hub ---------------------------------------------------------------------
{
  const machines = 50;
  const seconds = 20;
  const perMachinePerS = Number(process.env.SYNC_BENCH_RATE ?? 2);
  const dbs = Array.from({ length: machines }, () => freshDb());
  const syncMs: number[] = [];
  let measuring = false;
  const loops = dbs.map((db) => new BackgroundSync(db, { url, team: "load", intervalMs: 30_000, onSync: (_r, ms) => measuring && syncMs.push(ms) }));
  // The team's last seq (seq is one sequence across teams: another team's ops may leave gaps).
  const hubMax = async () => Number((await admin.query("SELECT coalesce(max(seq), 0) AS n FROM experience_mcp_ops WHERE team = 'experience_mcp_team_load'")).rows[0].n);
  const hubCount = async () => Number((await admin.query("SELECT count(*) AS n FROM experience_mcp_ops WHERE team = 'experience_mcp_team_load'")).rows[0].n);
  const settled = async () => {
    const max = await hubMax();
    return dbs.every((db) => syncStatus(db).cursor >= max && syncStatus(db).pending === 0);
  };
  while (!(await settled())) await sleep(200);
  const registries = dbs.map((db) => new FixRegistry(db));
  const shared = registries[0]!.register({ signatureFields: { severity: "major", error_type: "Eshared", context: "bench", categories: ["load"] }, fix: "the shared fix" }).signature;
  while (!(await settled())) await sleep(50);
  const startCount = await hubCount();
  measuring = true;
  const t0 = performance.now();
  let written = 0;
  // Each machine writes perMachinePerS ops a second: alternately a new fix and an outcome on a shared one.
  const writers = registries.map(async (reg, m) => {
    for (let k = 0; performance.now() - t0 < seconds * 1000; k++) {
      if (k % 2 === 0) reg.register({ signatureFields: { severity: "minor", error_type: `L${word(m)}`, context: "load", categories: [word(k)] }, fix: `load fix ${word(k)}` });
      else reg.reportOutcome(shared, k % 3 !== 0);
      loops[m]!.kick();
      written++;
      await sleep(1000 / perMachinePerS);
    }
  });
  await Promise.all(writers);
  const wroteMs = performance.now() - t0;
  const caughtUp = performance.now();
  while (!(await settled())) await sleep(50);
  const lagMs = performance.now() - caughtUp;
  measuring = false;
  const ingested = (await hubCount()) - startCount;
  const totals = dbs.map((db) => JSON.stringify(db.prepare("SELECT successes, failures FROM fixes WHERE signature = ?").get(shared)));
  await Promise.all(loops.map((l) => l.stop()));
  stats("sync.load_50_machines.sync_time", syncMs, {
    machines,
    seconds,
    offered_ops_per_s: machines * perMachinePerS,
    hub_ops_per_s: Math.round(ingested / (wroteMs / 1000)),
    applied_ops_per_s_all_machines: Math.round((ingested * machines) / ((wroteMs + lagMs) / 1000)),
    written,
    catch_up_after_writes_ms: round(lagMs),
    pooled_totals_agree: new Set(totals).size === 1,
    what: "in-process: 50 stores and background syncs (LISTEN/NOTIFY, one connection each), one hub; sync_time = one push+pull",
  });
  for (const db of dbs) db.close();
}

await admin.end();
process.exit(0);
