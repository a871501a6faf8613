// Team sync between real server processes (issue 12): three data directories and three spawned
// `experience-mcp` servers stand for three machines, syncing in the background through a real
// PostgreSQL hub (a throwaway cluster); A reaches it through a TCP relay the test can cut.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { createServer, connect, type Server, type Socket } from "node:net";
import { join } from "node:path";
import pg from "pg";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { openDatabase, type Db } from "../src/storage/db.js";
import { ExperienceStore } from "../src/experience/store.js";
import { FixRegistry } from "../src/registry/registry.js";
import { enableSync, syncStatus } from "../src/sync/local.js";
import { bashFailure } from "./hook-events.js";
import { CLI, runShell, serverEnv, spawnClient } from "./spawn.js";
import { tempHome } from "./temp.js";
import { pgBinDir, startCluster, type PgCluster } from "./pg-cluster.js";

const TSC = "src/invoice.ts(7,9): error TS2322: Type 'string' is not assignable to type 'number'.";
const TSC_FIX = "Convert the value with Number(x) or correct the annotation.";
const PW = { alice: "alice-Pw-1", bob: "bob-Pw-2", carol: "carol-Pw-3", dave: "dave-Pw-4" } as const;

/** A TCP relay to the hub that the test can cut (every connection dropped, the port closed) and mend. */
async function relay(target: number): Promise<{ port: number; cut(): Promise<void>; mend(): Promise<void>; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let server: Server;
  const listen = (port: number): Promise<number> =>
    new Promise((resolve) => {
      server = createServer((inbound) => {
        const outbound = connect(target, "127.0.0.1");
        for (const s of [inbound, outbound]) {
          sockets.add(s);
          s.on("error", () => undefined);
          s.on("close", () => sockets.delete(s));
        }
        inbound.pipe(outbound).pipe(inbound);
      });
      server.listen(port, "127.0.0.1", () => resolve((server.address() as { port: number }).port));
    });
  const port = await listen(0);
  const cut = async (): Promise<void> => {
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    });
  };
  return { port, cut, mend: async () => void (await listen(port)), close: cut };
}

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<Record<string, unknown>> {
  const r = (await client.callTool({ name, arguments: args })) as { isError?: boolean; structuredContent?: Record<string, unknown>; content: Array<{ text?: string }> };
  assert.ok(!r.isError, `${name}: ${r.content[0]?.text}`);
  return r.structuredContent!;
}

/** Run `n` calls of `fn` with at most `width` in flight. */
async function inParallel(n: number, width: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < n) await fn(next++);
  }));
}

function cliSync(home: string, env: Record<string, string>, args: string[] = []): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runShell(`${process.execPath} ${CLI} sync ${args.join(" ")}`, serverEnv(home, env), "");
}

test("three machines sync in the background through a real PostgreSQL hub", { skip: pgBinDir() ? false : "PostgreSQL is not installed (.ci/run installs it)", timeout: 120_000 }, async (t) => {
  const cluster: PgCluster = await startCluster();
  const admin = new pg.Client({ connectionString: cluster.url() });
  admin.on("error", () => undefined);
  t.after(async () => {
    await admin.end().catch(() => undefined);
    cluster.stop();
  });
  const { home, cleanup } = tempHome("xmcp-team-");
  t.after(cleanup);
  await admin.connect();
  const init = await runShell(`${process.execPath} ${CLI} hub init ${cluster.url()} --team alpha`, serverEnv(join(home, "admin")), "");
  assert.equal(init.code, 0, init.stderr);
  for (const user of Object.keys(PW) as Array<keyof typeof PW>) {
    await admin.query(`CREATE ROLE ${user} LOGIN PASSWORD '${PW[user]}'`);
    await admin.query(`GRANT experience_mcp_team_alpha TO ${user}`);
  }
  const toA = await relay(cluster.port);
  t.after(() => toA.close());
  const hubEnv = (user: keyof typeof PW, port = cluster.port): Record<string, string> => ({
    EXPERIENCE_MCP_HUB: `postgres://${user}:${PW[user]}@127.0.0.1:${port}/postgres`,
    EXPERIENCE_MCP_TEAM: "alpha",
  });
  const envs = { a: hubEnv("alice", toA.port), b: hubEnv("bob"), c: hubEnv("carol") };
  const homes = { a: join(home, "a"), b: join(home, "b"), c: join(home, "c") };
  const machines: Record<"a" | "b" | "c", { client: Client; transport: StdioClientTransport; stderr: () => string }> = {
    a: await spawnClient(homes.a, [], envs.a),
    b: await spawnClient(homes.b, [], envs.b),
    c: await spawnClient(homes.c, [], envs.c),
  };
  t.after(async () => {
    for (const m of Object.values(machines)) await m.client.close().catch(() => undefined);
  });
  // The test reads each machine's store as it stands (its own connection; the servers write).
  const dbs: Record<"a" | "b" | "c", Db> = { a: openDatabase(homes.a), b: openDatabase(homes.b), c: openDatabase(homes.c) };
  t.after(() => Object.values(dbs).forEach((d) => d.close()));
  const hubCount = async (where = "true"): Promise<number> => Number((await admin.query(`SELECT count(*) AS n FROM experience_mcp_ops WHERE ${where}`)).rows[0].n);
  const hubMax = async (): Promise<number> => Number((await admin.query("SELECT coalesce(max(seq), 0) AS n FROM experience_mcp_ops")).rows[0].n);
  let signature = "";

  await t.test("a fix registered on A answers B's hook after B's background sync, B never running sync", async () => {
    // B's recall has read its registry before the fix exists: its cache must follow the pull.
    assert.ok(!JSON.stringify(await call(machines.b.client, "recall", { query: TSC })).includes(TSC_FIX));
    const fix = await call(machines.a.client, "register_fix", { error: TSC, fix: TSC_FIX, context: "npx" });
    signature = fix.signature as string;
    const project = join(home, "app");
    mkdirSync(join(project, ".git"), { recursive: true });
    const event = JSON.stringify(bashFailure("s1", project, "npx tsc --noEmit", `Exit code 2\n${TSC}`));
    let answer = "";
    const took = await waitFor(
      "B's hook to know A's fix",
      async () => {
        const hook = await runShell(`${process.execPath} ${CLI} hook`, serverEnv(homes.b), event);
        assert.equal(hook.code, 0, hook.stderr);
        answer = hook.stdout;
        return answer.includes(TSC_FIX);
      },
      10_000,
    );
    assert.ok(answer.includes(TSC_FIX));
    // LISTEN/NOTIFY, not the 30 s poll: B had it within a few hook runs.
    assert.ok(took < 5_000, `took ${took} ms`);
    const recall = await call(machines.b.client, "recall", { query: `Exit code 2\n${TSC}` });
    assert.ok(JSON.stringify(recall).includes(TSC_FIX), JSON.stringify(recall));
  });

  await t.test("3 × 500 concurrent outcome reports through the three servers give exact pooled totals on all three", async () => {
    await waitFor("C to have the fix", () => new FixRegistry(dbs.c).lookup(`Exit code 2\n${TSC}`)[0] !== undefined, 10_000);
    const names = ["a", "b", "c"] as const;
    await Promise.all(names.map((m) => inParallel(500, 25, (i) => call(machines[m].client, "report_outcome", { signature, success: i % 5 !== 4 }))));
    const totals = (db: Db) => db.prepare("SELECT successes, failures FROM fixes WHERE signature = ?").get(signature) as { successes: number; failures: number } | undefined;
    for (const m of names) {
      await waitFor(`${m}'s pooled totals`, () => {
        const got = totals(dbs[m]);
        return got?.successes === 1200 && got.failures === 300;
      }, 20_000).catch((err: Error) => assert.fail(`${err.message}: ${JSON.stringify(totals(dbs[m]))}`));
    }
    assert.equal(await hubCount("kind = 'fix.outcome'"), 1500);
  });

  await t.test("a shared row reaches B; a private row and a row of an unshared tensor stay on A; forget travels", async () => {
    const shared = await call(machines.a.client, "remember", { tensor: "notes", key: "deploy to staging hangs at migrate", value: "run migrations with --lock-timeout 5s", shared: true });
    await call(machines.a.client, "remember", { tensor: "notes", key: "my vpn password rotation", value: "private-note-XYZZY", private: true });
    await call(machines.a.client, "remember", { tensor: "notes", key: "local scratch row", value: "scratch-note-PLUGH" });
    // A tensor shared as a whole: its rows travel, a private one of it does not.
    const share = await cliSync(homes.a, envs.a, ["--share", "notes"]);
    assert.equal(share.code, 0, share.stderr);
    await call(machines.a.client, "remember", { tensor: "notes", key: "ci cache misses", value: "key the cache on the lockfile hash" });
    await call(machines.a.client, "remember", { tensor: "notes", key: "second private", value: "private-note-FROTZ", private: true });
    const onB = () => new ExperienceStore(dbs.b).rows("notes").map((r) => r.value);
    await waitFor("B to have A's shared rows", () => ["run migrations with --lock-timeout 5s", "scratch-note-PLUGH", "key the cache on the lockfile hash"].every((v) => onB().includes(v)), 10_000);
    // Settled: A has nothing left to push and B has pulled all the hub holds.
    const max = await hubMax();
    await waitFor("A and B to settle", () => syncStatus(dbs.a).pending === 0 && syncStatus(dbs.b).cursor >= max, 10_000);
    assert.ok(!onB().some((v) => v.startsWith("private-note")), JSON.stringify(onB()));
    const leaked = await admin.query("SELECT count(*) AS n FROM experience_mcp_ops WHERE payload::text LIKE '%private-note%'");
    assert.equal(Number(leaked.rows[0].n), 0, "a private row reached the hub");
    const recall = await call(machines.b.client, "recall", { query: "staging deploy hangs at migrate" });
    assert.ok(JSON.stringify(recall).includes("lock-timeout"), JSON.stringify(recall));

    await call(machines.a.client, "forget", { ids: [shared.id] });
    await waitFor("B to drop the forgotten row", () => !onB().includes("run migrations with --lock-timeout 5s"), 10_000);
    assert.ok(onB().includes("key the cache on the lockfile hash"));
  });

  await t.test("A offline for 1,000 writes: everything works locally, the error is recorded, A catches up once the hub is back", async () => {
    await toA.cut();
    await inParallel(1000, 20, (i) => call(machines.a.client, "remember", { tensor: "offline", key: `offline situation ${i}`, value: `offline answer ${i}`, shared: true }));
    const status = await cliSync(homes.a, envs.a, ["--status"]);
    const s = JSON.parse(status.stdout) as { pending: number; lastError: string | null };
    assert.ok(s.pending >= 1000, status.stdout);
    await waitFor("A's failed sync to be recorded", () => (syncStatus(dbs.a).lastError ?? "").includes("hub"), 10_000);
    assert.ok(!(syncStatus(dbs.a).lastError ?? "").includes(PW.alice));
    await toA.mend();
    // Backoff is at most 60 s; after a few seconds offline the next attempt is due within ~16 s.
    await waitFor("B to have A's 1,000 offline rows", () => new ExperienceStore(dbs.b).rows("offline").length === 1000, 45_000);
    // A records success once its pull after the push is done too.
    await waitFor("A's sync to be recorded as ok", () => syncStatus(dbs.a).lastError === null, 10_000).catch((err: Error) =>
      assert.fail(`${err.message}: ${syncStatus(dbs.a).lastError}; ${machines.a.stderr().slice(-3000)}`),
    );
    assert.equal(syncStatus(dbs.a).pending, 0);
  });

  await t.test("kill -9 of `experience-mcp sync` mid-push and mid-pull: nothing lost, nothing applied twice", async () => {
    const dave = hubEnv("dave");
    const pusher = join(home, "d");
    const db = openDatabase(pusher);
    enableSync(db);
    const rows = new ExperienceStore(db);
    const bulk = Array.from({ length: 15_000 }, (_, i) => ({ query: "", key: `bulk situation ${i}`, value: `bulk answer ${i}`, shared: true }));
    rows.rememberMany("bulk", bulk);
    const registry = new FixRegistry(db);
    const sig = registry.register({ error: "Error: ENOSPC: no space left on device, write", fix: "free disk space" }).signature;
    for (let i = 0; i < 3000; i++) registry.reportOutcome(sig, true);
    const own = syncStatus(db).pending;
    const machine = syncStatus(db).machine!;
    db.close();

    const killMidway = async (dir: string, progress: () => Promise<number>, total: number): Promise<number> => {
      const child = spawn(process.execPath, [CLI, "sync"], { env: serverEnv(dir, dave), stdio: "ignore" });
      const exited = new Promise((r) => child.on("exit", r));
      let seen = 0;
      await waitFor("the sync to be part-way", async () => (seen = await progress()) > 0, 30_000);
      child.kill("SIGKILL");
      await exited;
      assert.ok(seen < total, `the sync finished (${seen}/${total}) before it could be killed`);
      return seen;
    };
    const pushedPart = await killMidway(pusher, () => hubCount(`machine = '${machine}'`), own);
    const again = await cliSync(pusher, dave);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(await hubCount(`machine = '${machine}'`), own, `after ${pushedPart} before the kill`);
    const check = openDatabase(pusher);
    assert.equal(syncStatus(check).pending, 0);
    check.close();

    const puller = join(home, "e");
    const hubOps = await hubCount();
    const pdb = openDatabase(puller);
    const cursor = () => syncStatus(pdb).cursor;
    const pulledPart = await killMidway(puller, async () => cursor(), await hubMax());
    assert.equal(pdb.pragma("integrity_check", { simple: true }), "ok");
    const done = await cliSync(puller, dave);
    assert.equal(done.code, 0, done.stderr);
    assert.equal(new ExperienceStore(pdb).rows("bulk").length, 15_000, `cursor ${pulledPart} before the kill`);
    assert.deepEqual(pdb.prepare("SELECT successes, failures FROM fixes WHERE signature = ?").get(sig), { successes: 3000, failures: 0 });
    assert.deepEqual(pdb.prepare("SELECT successes, failures FROM fixes WHERE signature = ?").get(signature), { successes: 1200, failures: 300 });
    assert.equal(pdb.prepare("SELECT count(*) FROM sync_ops").pluck().get(), hubOps);
    pdb.close();
  });

  await t.test("SIGTERM stops a syncing server within 3 s and closes its hub connection", async () => {
    const pid = machines.c.transport.pid!;
    const connected = async () => Number((await admin.query("SELECT count(*) AS n FROM pg_stat_activity WHERE usename = 'carol'")).rows[0].n);
    assert.equal(await connected(), 1);
    process.kill(pid, "SIGTERM");
    const alive = () => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    await waitFor("C to exit", () => !alive(), 3_000);
    await waitFor("C's hub session to end", async () => (await connected()) === 0, 5_000);
    assert.ok(!machines.c.stderr().includes(PW.carol));
  });
});
