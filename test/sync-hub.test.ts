// Team sync through a real PostgreSQL hub (issue 12, first slice): a throwaway cluster on a
// loopback port, data directories standing for machines, the CLI's hub init / sync as shipped.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { openDatabase, type Db } from "../src/storage/db.js";
import { FixRegistry } from "../src/registry/registry.js";
import { syncOnce } from "../src/sync/sync.js";
import { applyOps, enableSync, syncStatus, type Op } from "../src/sync/local.js";
import { HUB_SCHEMA_VERSION, HubError, withHub, asTeam, pullOps } from "../src/sync/hub.js";
import { bashFailure } from "./hook-events.js";
import { CLI, runShell, serverEnv } from "./spawn.js";
import { tempHome } from "./temp.js";
import { pgBinDir, startCluster, SUPERUSER_PASSWORD, type PgCluster } from "./pg-cluster.js";
import { mulberry32 } from "./prng.js";

const TSC = "src/invoice.ts(7,9): error TS2322: Type 'string' is not assignable to type 'number'.";
const TSC_FIX = "Convert the value with Number(x) or correct the annotation.";
const MEMBER_PW = { alice: "alice-Pw-1", bob: "bob-Pw-2", carol: "carol-Pw-3" };

async function admin(cluster: PgCluster, sql: string, params: unknown[] = []): Promise<pg.QueryResult> {
  const c = new pg.Client({ connectionString: cluster.url() });
  await c.connect();
  try {
    return await c.query(sql, params);
  } finally {
    await c.end();
  }
}

function cli(args: string[], home: string, extra: Record<string, string> = {}): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { env: serverEnv(home, extra), encoding: "utf8", timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const fixesOf = (db: Db): unknown[] =>
  db.prepare("SELECT signature, fix, repo, status, successes, failures, occurrences, error_type, template FROM fixes ORDER BY signature").all();

test("team sync through a real PostgreSQL hub", { skip: pgBinDir() ? false : "PostgreSQL is not installed (.ci/run installs it)" }, async (t) => {
  const cluster = await startCluster();
  t.after(() => cluster.stop());
  const { home, cleanup } = tempHome("xmcp-sync-");
  t.after(cleanup);
  const homes = { a: join(home, "a"), b: join(home, "b"), c: join(home, "c") };
  const hubA = { EXPERIENCE_MCP_HUB: cluster.url("alice", MEMBER_PW.alice), EXPERIENCE_MCP_TEAM: "alpha" };
  const hubB = { EXPERIENCE_MCP_HUB: cluster.url("bob", MEMBER_PW.bob), EXPERIENCE_MCP_TEAM: "alpha" };

  await t.test("hub init creates the schema and the team roles, twice harmlessly; the password never shows", async () => {
    for (const team of ["alpha", "beta", "alpha"]) {
      const r = cli(["hub", "init", cluster.url(), "--team", team], homes.a);
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout) as { schema: number; role: string };
      assert.equal(out.schema, HUB_SCHEMA_VERSION);
      assert.equal(out.role, `experience_mcp_team_${team}`);
      assert.ok(!r.stdout.includes(SUPERUSER_PASSWORD) && !r.stderr.includes(SUPERUSER_PASSWORD));
    }
    const v = await admin(cluster, "SELECT max(version) AS v FROM experience_mcp_migrations");
    assert.equal(Number(v.rows[0].v), HUB_SCHEMA_VERSION);
    // Members: alice and bob in alpha, carol in beta.
    for (const [user, team] of [["alice", "alpha"], ["bob", "alpha"], ["carol", "beta"]] as const) {
      await admin(cluster, `CREATE ROLE ${user} LOGIN PASSWORD '${MEMBER_PW[user]}'`);
      await admin(cluster, `GRANT experience_mcp_team_${team} TO ${user}`);
    }
  });

  await t.test("a fix registered on A answers B's recall and B's hook after A and B sync", async () => {
    const dbA = openDatabase(homes.a);
    const regA = new FixRegistry(dbA);
    // Before sync is on (the first sync sends it as a snapshot) and after (queued by the triggers).
    regA.register({ error: TSC, fix: TSC_FIX, context: "npx" });
    const first = await syncOnce(dbA, hubA.EXPERIENCE_MCP_HUB, "alpha");
    assert.equal(first.pushed, 1);
    regA.register({ error: "Error: Cannot find module 'left-pad'", fix: "npm install left-pad" });
    assert.equal(syncStatus(dbA).pending, 1);
    dbA.close();
    const r = cli(["sync"], homes.a, hubA);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { pushed: number }).pushed, 1);

    const rb = cli(["sync"], homes.b, hubB);
    assert.equal(rb.code, 0, rb.stderr);
    const moved = JSON.parse(rb.stdout) as { pulled: number; applied: number; pending: number };
    assert.deepEqual([moved.pulled, moved.applied, moved.pending], [2, 2, 0]);
    const dbB = openDatabase(homes.b);
    const match = new FixRegistry(dbB).lookup(`Exit code 2\n${TSC}`)[0];
    dbB.close();
    assert.equal(match?.fix, TSC_FIX);

    const project = join(home, "app");
    mkdirSync(join(project, ".git"), { recursive: true });
    const hook = await runShell(`${process.execPath} ${CLI} hook`, serverEnv(homes.b), JSON.stringify(bashFailure("s1", project, "npx tsc --noEmit", `Exit code 2\n${TSC}`)));
    assert.equal(hook.code, 0, hook.stderr);
    assert.ok(hook.stdout.includes(TSC_FIX), hook.stdout);

    const status = cli(["sync", "--status"], homes.b, hubB);
    const s = JSON.parse(status.stdout) as { cursor: number; pending: number; lastError: string | null; configured: boolean };
    assert.equal(s.configured, true);
    assert.equal(s.pending, 0);
    assert.equal(s.lastError, null);
    assert.ok(s.cursor >= 2);
  });

  await t.test("pushing the same ops twice adds nothing to the hub", async () => {
    const before = Number((await admin(cluster, "SELECT count(*) AS n FROM experience_mcp_ops")).rows[0].n);
    const dbA = openDatabase(homes.a);
    dbA.prepare("UPDATE sync_ops SET pushed = 0 WHERE pushed = 1").run();
    const again = await syncOnce(dbA, hubA.EXPERIENCE_MCP_HUB, "alpha");
    dbA.close();
    assert.ok(again.pushed >= 2);
    assert.equal(again.pushedNew, 0);
    assert.equal(Number((await admin(cluster, "SELECT count(*) AS n FROM experience_mcp_ops")).rows[0].n), before);
  });

  await t.test("row-level security: team beta's role sees none of alpha's ops, even with raw SQL", async () => {
    // carol (beta) syncs a fix of her own.
    const dbC = openDatabase(homes.c);
    new FixRegistry(dbC).register({ error: "Error: ENOSPC: no space left on device", fix: "free disk space" });
    await syncOnce(dbC, cluster.url("carol", MEMBER_PW.carol), "beta");
    assert.equal(dbC.prepare("SELECT count(*) FROM fixes").pluck().get(), 1, "carol pulled nothing of alpha's");
    dbC.close();

    const carol = new pg.Client({ connectionString: cluster.url("carol", MEMBER_PW.carol) });
    await carol.connect();
    try {
      // As herself (not the team role) she sees no rows at all; as beta's role only beta's.
      assert.equal(Number((await carol.query("SELECT count(*) AS n FROM experience_mcp_ops")).rows[0].n), 0);
      await carol.query("SET ROLE experience_mcp_team_beta");
      const seen = await carol.query("SELECT DISTINCT team FROM experience_mcp_ops");
      assert.deepEqual(seen.rows.map((r: { team: string }) => r.team), ["experience_mcp_team_beta"]);
      await assert.rejects(carol.query("INSERT INTO experience_mcp_ops (id, team, machine, kind, payload) VALUES (gen_random_uuid(), 'experience_mcp_team_alpha', 'm', 'fix.put', '{}')"), /row-level security/);
      await carol.query("RESET ROLE");
      await assert.rejects(carol.query("SET ROLE experience_mcp_team_alpha"), /permission denied/);
    } finally {
      await carol.end();
    }
    const total = await admin(cluster, "SELECT team, count(*) AS n FROM experience_mcp_ops GROUP BY team ORDER BY team");
    assert.equal(total.rows.length, 2);
  });

  await t.test("2 × 200 concurrent outcome reports from two machines give exact pooled totals", async () => {
    const dbA = openDatabase(homes.a);
    const dbB = openDatabase(homes.b);
    const regs = [new FixRegistry(dbA), new FixRegistry(dbB)];
    const sig = regs[0]!.lookup(`Exit code 2\n${TSC}`)[0]!.signature;
    const base = dbA.prepare("SELECT successes, failures FROM fixes WHERE signature = ?").get(sig) as { successes: number; failures: number };
    const dbs = [dbA, dbB];
    const urls = [hubA.EXPERIENCE_MCP_HUB, hubB.EXPERIENCE_MCP_HUB];
    // Each machine reports in bursts and syncs between them, both at once: pushes and pulls interleave.
    await Promise.all(
      [0, 1].map(async (m) => {
        for (let i = 0; i < 200; i++) {
          regs[m]!.reportOutcome(sig, i % 4 !== 3);
          if (i % 25 === 24) await syncOnce(dbs[m]!, urls[m]!, "alpha");
        }
      }),
    );
    for (let round = 0; round < 2; round++) for (const m of [0, 1]) await syncOnce(dbs[m]!, urls[m]!, "alpha");
    for (const db of dbs) {
      const got = db.prepare("SELECT successes, failures FROM fixes WHERE signature = ?").get(sig);
      assert.deepEqual(got, { successes: base.successes + 300, failures: base.failures + 100 });
    }
    dbA.close();
    dbB.close();
  });

  await t.test("applying the team's ops in any order gives the same registry", async () => {
    // A forgets one fix and re-registers another, so the log holds puts, outcomes and a tombstone.
    const dbA = openDatabase(homes.a);
    const regA = new FixRegistry(dbA);
    const leftPad = regA.lookup("Error: Cannot find module 'left-pad'")[0]!.signature;
    regA.remove(leftPad);
    regA.register({ error: "fatal: not a git repository (or any of the parent directories): .git", fix: "run git init first" });
    regA.register({ error: TSC, fix: "Use Number(x).", context: "npx" });
    await syncOnce(dbA, hubA.EXPERIENCE_MCP_HUB, "alpha");
    dbA.close();
    const ops = await withHub(hubB.EXPERIENCE_MCP_HUB, async (c) => {
      await asTeam(c, "alpha");
      return pullOps(c, 0, 100_000);
    });
    assert.ok(ops.some((o) => o.kind === "fix.forget") && ops.some((o) => o.kind === "fix.outcome"));
    const rand = mulberry32(12);
    const int = (n: number): number => Math.floor(rand() * n);
    const shuffle = <T>(xs: T[]): T[] => {
      for (let i = xs.length - 1; i > 0; i--) {
        const j = int(i + 1);
        [xs[i], xs[j]] = [xs[j]!, xs[i]!];
      }
      return xs;
    };
    const results: unknown[] = [];
    for (let trial = 0; trial < 4; trial++) {
      const { home: h, cleanup: done } = tempHome("xmcp-shuffle-");
      const db = openDatabase(h);
      try {
        enableSync(db);
        const order: Op[] = trial === 0 ? [...ops] : shuffle([...ops]);
        // In uneven batches, one op twice: duplicates change nothing.
        for (let i = 0; i < order.length; ) {
          const n = 1 + int(7);
          applyOps(db, order.slice(i, i + n), 0);
          i += n;
        }
        applyOps(db, order.slice(0, 3), 0);
        // An op of a kind this client does not know, or without a signature, is skipped.
        const odd = [
          { id: "00000000-0000-4000-a000-000000000001", machine: "m", kind: "model.put", payload: { signature: "x", at: 1 } },
          { id: "00000000-0000-4000-a000-000000000002", machine: "m", kind: "fix.put", payload: { at: 1 } },
        ] as unknown as Op[];
        assert.equal(applyOps(db, odd, 0), 0);
        results.push(fixesOf(db));
      } finally {
        db.close();
        done();
      }
    }
    for (const r of results.slice(1)) assert.deepEqual(r, results[0]);
    const rows = results[0] as Array<{ signature: string; fix: string }>;
    assert.ok(!rows.some((r) => r.signature === leftPad || r.fix === "npm install left-pad"), "the tombstone removed left-pad");
    assert.ok(rows.some((r) => r.fix === "run git init first"));
    assert.ok(rows.some((r) => r.fix === "Use Number(x)."), "the newest text wins");
    // B, which had left-pad, loses it too when it syncs.
    const dbB = openDatabase(homes.b);
    await syncOnce(dbB, hubB.EXPERIENCE_MCP_HUB, "alpha");
    assert.equal(dbB.prepare("SELECT count(*) FROM fixes WHERE signature = ?").pluck().get(leftPad), 0);
    dbB.close();
  });

  await t.test("hub down: local writes work, ops queue, the error hides the password, a later sync catches up", async () => {
    const closed = `postgres://bob:${encodeURIComponent("Hidden-Pw-77")}@127.0.0.1:1/postgres`;
    const dbB = openDatabase(homes.b);
    const regB = new FixRegistry(dbB);
    regB.register({ error: "Error: EADDRINUSE: address already in use :::3000", fix: "stop the other server on port 3000" });
    await assert.rejects(syncOnce(dbB, closed, "alpha"), (err: Error) => err instanceof HubError && !err.message.includes("Hidden-Pw-77") && /127\.0\.0\.1:1/.test(err.message));
    const status = syncStatus(dbB);
    assert.equal(status.pending, 1);
    assert.ok(status.lastError && !status.lastError.includes("Hidden-Pw-77"), status.lastError ?? "");
    dbB.close();
    const r = cli(["sync"], homes.b, { ...hubB, EXPERIENCE_MCP_HUB: closed });
    assert.equal(r.code, 1);
    assert.ok(!r.stderr.includes("Hidden-Pw-77") && !r.stdout.includes("Hidden-Pw-77"), r.stderr);
    assert.match(r.stderr, /hub/);

    const ok = cli(["sync"], homes.b, hubB);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal((JSON.parse(ok.stdout) as { pending: number }).pending, 0);
    assert.equal(JSON.parse(cli(["sync", "--status"], homes.b, hubB).stdout).lastError, null);
    const dbA = openDatabase(homes.a);
    await syncOnce(dbA, hubA.EXPERIENCE_MCP_HUB, "alpha");
    assert.equal(new FixRegistry(dbA).lookup("Error: EADDRINUSE: address already in use :::3000")[0]?.fix, "stop the other server on port 3000");
    dbA.close();
  });

  await t.test("another team or hub: the cursor starts over and own ops are sent again, harmlessly", async () => {
    const dbA = openDatabase(homes.a);
    const own = dbA.prepare("SELECT count(*) FROM sync_ops WHERE pushed = 1").pluck().get() as number;
    // alice syncs this data directory with beta too (a member of both): beta gets A's ops, alpha nothing twice.
    await admin(cluster, "GRANT experience_mcp_team_beta TO alice");
    const beta = await syncOnce(dbA, hubA.EXPERIENCE_MCP_HUB, "beta");
    assert.equal(beta.pushedNew, own);
    assert.ok(new FixRegistry(dbA).lookup("Error: ENOSPC: no space left on device")[0], "A pulled beta's fix");
    const back = await syncOnce(dbA, hubA.EXPERIENCE_MCP_HUB, "alpha");
    assert.ok(back.pushed > 0);
    assert.ok(back.pushedNew <= 1, "alpha had A's ops already");
    dbA.close();
  });

  await t.test("a hub with a newer schema: a clear error and no writes", async () => {
    await admin(cluster, "INSERT INTO experience_mcp_migrations (version) VALUES (99)");
    try {
      const before = Number((await admin(cluster, "SELECT count(*) AS n FROM experience_mcp_ops")).rows[0].n);
      const dbA = openDatabase(homes.a);
      new FixRegistry(dbA).register({ error: "Error: EACCES: permission denied, open '/etc/x'", fix: "run without sudo-owned files" });
      await assert.rejects(syncOnce(dbA, hubA.EXPERIENCE_MCP_HUB, "alpha"), /newer than this experience-mcp.*upgrade experience-mcp/);
      assert.equal(syncStatus(dbA).pending, 1);
      dbA.close();
      const init = cli(["hub", "init", cluster.url(), "--team", "alpha"], homes.a);
      assert.equal(init.code, 1);
      assert.match(init.stderr, /newer than this experience-mcp/);
      assert.equal(Number((await admin(cluster, "SELECT count(*) AS n FROM experience_mcp_ops")).rows[0].n), before);
    } finally {
      await admin(cluster, "DELETE FROM experience_mcp_migrations WHERE version = 99");
    }
  });
});
