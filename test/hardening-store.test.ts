// Issue 11, item 9, through the built server and CLI: a damaged database page, a read-only data
// directory, a missing git and a data directory that is a file each get a sentence that says what
// to do; `experience-mcp doctor` reports them and --repair recovers a real damaged file.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, renameSync, symlinkSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { CLI, serverEnv, spawnClient } from "./spawn.js";
import { tempHome, textOf } from "./helpers.js";

const ROWS = 40;
const keyOf = (i: number) => `situation number ${i} word${i}`;

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

/** A real database: 40 rows of ~2 KB (one per leaf page of `rows`) and 3 fixes, written by the server. */
async function populate(home: string): Promise<void> {
  const c = await spawnClient(home);
  for (let i = 0; i < ROWS; i++) {
    const r = await call(c.client, "remember", { key: keyOf(i), value: `answer ${i} ${"x".repeat(2000)}` });
    assert.equal(r.isError, undefined, textOf(r));
  }
  for (const n of [1, 2, 3]) {
    const r = await call(c.client, "register_fix", { error: `src/a${n}.ts(1,7): error TS230${n}: Cannot find module 'm${n}'`, fix: `npm install m${n}` });
    assert.equal(r.isError, undefined, textOf(r));
  }
  await c.client.close();
}

/** Overwrite the leaf page of `rows` that holds row `id` with garbage, as a bad sector or a stray write would. */
function corruptRowPage(home: string, id: number): number {
  const file = join(home, "experience.db");
  const db = new Database(file);
  const pages = db.prepare("SELECT pageno FROM dbstat WHERE name = 'rows' AND pagetype = 'leaf' ORDER BY path").pluck().all() as number[];
  const size = db.pragma("page_size", { simple: true }) as number;
  db.close();
  assert.equal(pages.length, ROWS, "one row per leaf page");
  const page = pages[id - 1]!;
  const fd = openSync(file, "r+");
  writeSync(fd, Buffer.alloc(size, 0x41), 0, size, (page - 1) * size);
  closeSync(fd);
  return page;
}

function countFixes(file: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare("SELECT count(*) AS n FROM fixes").get() as { n: number }).n;
  } finally {
    db.close();
  }
}

function doctor(home: string, ...args: string[]): { code: number | null; stdout: string } {
  const r = spawnSync(process.execPath, [CLI, "doctor", "--home", home, ...args], { env: serverEnv(home), encoding: "utf8" });
  return { code: r.status, stdout: r.stdout + r.stderr };
}

test("a damaged page: a sentence naming doctor, no more writes (this process or the next), and doctor --repair recovers the rest", { timeout: 120_000 }, async () => {
  const { home, cleanup } = tempHome();
  try {
    await populate(home);
    const file = join(home, "experience.db");
    corruptRowPage(home, 11); // the row whose key is keyOf(10)
    const fixesBefore = countFixes(file);

    const a = await spawnClient(home);
    const recall = await call(a.client, "recall", { query: keyOf(10), kinds: ["experience"] });
    assert.equal(recall.isError, true);
    assert.match(textOf(recall), /experience database .* is damaged .*nothing more is written to it.*experience-mcp doctor --repair/s);
    const write = await call(a.client, "register_fix", { error: "TypeError: undefined is not a function at main.js:3", fix: "check the import" });
    assert.equal(write.isError, true, "register_fix must not write to a damaged database");
    assert.match(textOf(write), /is damaged/);
    await a.client.close();
    // Another process, started after the damage was found, does not write either.
    const b = await spawnClient(home);
    const again = await call(b.client, "remember", { key: "new row", value: "must not land" });
    assert.equal(again.isError, true);
    assert.match(textOf(again), /is damaged .*doctor --repair/s);
    await b.client.close();
    assert.equal(countFixes(file), fixesBefore, "no fix was written to the damaged file");

    const check = doctor(home);
    assert.equal(check.code, 1, check.stdout);
    assert.match(check.stdout, /FAIL\s+integrity\s+.*is damaged/);
    assert.match(check.stdout, /→ run `experience-mcp doctor --repair`/);
    const json = JSON.parse(doctor(home, "--json").stdout) as { ok: boolean; checks: Array<{ name: string; status: string }> };
    assert.equal(json.ok, false);
    assert.equal(json.checks.find((c) => c.name === "integrity")?.status, "fail");

    const repaired = doctor(home, "--repair", "--json");
    assert.equal(repaired.code, 0, repaired.stdout);
    const report = JSON.parse(repaired.stdout) as { ok: boolean; repair: { repaired: boolean; method: string; kept: string; tables: Array<{ table: string; recovered: number; unreadable: number }> } };
    assert.equal(report.ok, true);
    assert.equal(report.repair.repaired, true);
    assert.equal(report.repair.method, "tables");
    assert.ok(existsSync(report.repair.kept), "the damaged file is kept");
    assert.ok(!existsSync(join(home, "experience.db.damaged")), "the damage marker is gone");
    const rows = report.repair.tables.find((t) => t.table === "rows")!;
    assert.deepEqual({ recovered: rows.recovered, unreadable: rows.unreadable }, { recovered: ROWS - 1, unreadable: 1 });
    assert.equal(report.repair.tables.find((t) => t.table === "fixes")?.recovered, 3);
    process.stdout.write(`# doctor --repair: ${JSON.stringify(report.repair.tables.filter((t) => t.recovered > 0))}\n`);

    // The recovered store answers and takes writes again.
    const c = await spawnClient(home);
    const found = await call(c.client, "recall", { query: keyOf(20), kinds: ["experience"] });
    assert.equal(found.isError, undefined, textOf(found));
    assert.match((found.structuredContent as { results: Array<{ value: string }> }).results[0]!.value, /^answer 20 /);
    const fix = await call(c.client, "recall", { query: "src/b.ts(9,9): error TS2302: Cannot find module 'm2'", kinds: ["fix"] });
    assert.match(textOf(fix), /npm install m2/);
    const stored = await call(c.client, "register_fix", { error: "TypeError: undefined is not a function at main.js:3", fix: "check the import" });
    assert.equal(stored.isError, undefined, textOf(stored));
    await c.client.close();
    assert.equal(doctor(home).code, 0);
  } finally {
    cleanup();
  }
});

/**
 * How root makes the data directory read-only for the server: run it as nobody (setpriv) when
 * nobody can reach the built CLI, else (a checkout in a private directory, as a CI clone may be)
 * in its own mount namespace where the directory is bind-mounted read-only.
 */
function readOnlyWay(): "nobody" | "ro-mount" {
  const r = spawnSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, "-e", `require("fs").accessSync(${JSON.stringify(CLI)}, 4)`]);
  return r.status === 0 ? "nobody" : "ro-mount";
}

/** A client for the built server with its data directory read-only (`asRoot`: see readOnlyWay), or as us when we are not root. */
async function clientAs(home: string, args: string[], asRoot: boolean): Promise<Client> {
  const way = asRoot ? readOnlyWay() : undefined;
  const transport =
    way === "nobody"
      ? new StdioClientTransport({ command: "setpriv", args: ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, CLI, ...args], env: serverEnv(home), stderr: "pipe" })
      : way === "ro-mount"
        ? new StdioClientTransport({
            command: "unshare",
            args: ["-m", "sh", "-c", 'mount --bind "$1" "$1" && mount -o remount,ro,bind "$1" && shift && exec "$@"', "sh", home, process.execPath, CLI, ...args],
            env: serverEnv(home),
            stderr: "pipe",
          })
        : new StdioClientTransport({ command: process.execPath, args: [CLI, ...args], env: serverEnv(home), stderr: "pipe" });
  const client = new Client({ name: "ro-test", version: "1" });
  await client.connect(transport);
  return client;
}

test("a read-only data directory: --read-only recalls, writing tools say the directory is read-only", { timeout: 60_000 }, async () => {
  const { home, cleanup } = tempHome();
  const root = process.getuid?.() === 0;
  try {
    const c = await spawnClient(home);
    assert.equal((await call(c.client, "remember", { key: "read only recall", value: "still answers" })).isError, undefined);
    await c.client.close();
    // Root may write anywhere: the server then runs as nobody, for whom this root-owned 0755 directory is read-only.
    chmodSync(home, root ? 0o755 : 0o500);

    const ro = await clientAs(home, ["--read-only"], root);
    const r = await call(ro, "recall", { query: "read only recall" });
    assert.equal(r.isError, undefined, textOf(r));
    assert.equal((r.structuredContent as { results: Array<{ value: string }> }).results[0]?.value, "still answers");
    await ro.close();

    const rw = await clientAs(home, [], root);
    const w = await call(rw, "remember", { key: "k", value: "v" });
    assert.equal(w.isError, true);
    assert.match(textOf(w), /data directory .* is (read-only for this user|on a read-only file system).*--read-only/s);
    assert.doesNotMatch(textOf(w), /EPERM|EACCES|chmod '/);
    await rw.close();
  } finally {
    chmodSync(home, 0o700);
    cleanup();
  }
});

test("git missing: tmux_session and run_harness say to install git, with no stack", { timeout: 60_000 }, async () => {
  const { home, cleanup } = tempHome();
  const bin = join(home, "bin");
  mkdirSync(bin);
  // A PATH with tmux and a shell but no git.
  for (const tool of ["tmux", "sh", "bash"]) {
    const found = spawnSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).stdout.trim();
    if (found) symlinkSync(found, join(bin, tool));
  }
  const socket = `xmcp-nogit-${process.pid}`;
  try {
    const c = await spawnClient(join(home, "data"), [], { PATH: bin, EXPERIENCE_MCP_TMUX_SOCKET: socket });
    for (const [name, args] of [
      ["tmux_session", { action: "create", session: "nogit" }],
      ["run_harness", { task: "print hello world", llm: "off", time_limit_s: 10 }],
    ] as const) {
      const r = await call(c.client, name, args);
      assert.equal(r.isError, true, `${name}: ${textOf(r)}`);
      assert.match(textOf(r), /^git is not installed or not on this server's PATH: install it/);
      assert.doesNotMatch(textOf(r), /ENOENT|\n\s+at /);
    }
    await c.client.close();
  } finally {
    spawnSync("tmux", ["-L", socket, "kill-server"], { stdio: "ignore" });
    cleanup();
  }
});

test("a data directory path that is a file (or inside one): a sentence, not a bare EEXIST", async () => {
  const { home, cleanup } = tempHome();
  try {
    const file = join(home, "not-a-dir");
    writeFileSync(file, "x");
    for (const [dir, message] of [
      [file, /data directory .*not-a-dir is a file, not a directory/],
      [join(file, "sub"), /is inside a file, not a directory|part of that path is a file/],
    ] as const) {
      const c = await spawnClient(dir);
      const r = await call(c.client, "recall", { query: "anything" });
      assert.equal(r.isError, true);
      assert.match(textOf(r), message);
      assert.doesNotMatch(textOf(r), /EEXIST|ENOTDIR/);
      await c.client.close();
      const cli = spawnSync(process.execPath, [CLI, "stats", "--home", dir], { env: serverEnv(dir), encoding: "utf8" });
      assert.equal(cli.status, 1);
      assert.match(cli.stderr, /^experience-mcp: .*(is a file|inside a file)/);
    }
    const d = doctor(file);
    assert.equal(d.code, 1);
    assert.match(d.stdout, /FAIL\s+data directory\s+.* is a file/);
  } finally {
    cleanup();
  }
});

test("doctor reports permissions, schema, tmux and git, as text and --json", async () => {
  const { home, cleanup } = tempHome();
  try {
    const c = await spawnClient(home);
    assert.equal((await call(c.client, "remember", { key: "k", value: "v" })).isError, undefined);
    await c.client.close();
    chmodSync(home, 0o755);
    const text = doctor(home);
    assert.equal(text.code, 0, text.stdout);
    assert.match(text.stdout, /WARN\s+permissions\s+.* mode 0755: other users can read/);
    assert.match(text.stdout, /→ chmod 700 /);
    assert.match(text.stdout, /OK\s+integrity/);
    assert.match(text.stdout, /OK\s+schema\s+version \d+/);
    assert.match(text.stdout, /OK\s+tmux\s+tmux \d/);
    assert.match(text.stdout, /OK\s+git\s+git version/);
    const json = JSON.parse(doctor(home, "--json").stdout) as { ok: boolean; checks: Array<{ name: string; status: string }> };
    assert.deepEqual(json.checks.map((x) => x.name), ["permissions", "data directory", "integrity", "schema", "tmux", "git"]);
    const nothing = JSON.parse(doctor(home, "--repair", "--json").stdout) as { repair: { repaired: boolean; detail: string } };
    assert.deepEqual(nothing.repair, { repaired: false, detail: "integrity_check is ok: nothing to repair" });
    assert.deepEqual(readdirSync(home).filter((f) => f.includes("damaged") || f.includes("recovered")), []);
  } finally {
    cleanup();
  }
});

test("the damage marker belongs to its file: moving the damaged database aside lets a fresh one take writes", async () => {
  const { home, cleanup } = tempHome();
  try {
    await populate(home);
    corruptRowPage(home, 5);
    const a = await spawnClient(home);
    assert.match(textOf(await call(a.client, "recall", { query: keyOf(4), kinds: ["experience"] })), /is damaged/);
    await a.client.close();
    assert.ok(existsSync(join(home, "experience.db.damaged")));
    for (const suffix of ["", "-wal", "-shm"]) if (existsSync(join(home, `experience.db${suffix}`))) renameSync(join(home, `experience.db${suffix}`), join(home, `aside.db${suffix}`));
    const b = await spawnClient(home);
    const r = await call(b.client, "remember", { key: "fresh start", value: "works" });
    assert.equal(r.isError, undefined, textOf(r));
    await b.client.close();
    assert.ok(!existsSync(join(home, "experience.db.damaged")), "the stale marker was dropped");
  } finally {
    cleanup();
  }
});
