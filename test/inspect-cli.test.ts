import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { openDatabase } from "../src/storage/db.js";
import { ExperienceStore } from "../src/experience/store.js";
import { FixRegistry } from "../src/registry/registry.js";
import { enqueue } from "../src/train/queue.js";
import { connect } from "./helpers.js";
import { serverEnv } from "./spawn.js";
import { tempHome } from "./temp.js";

// The installed binary (package.json "bin"), as people run it.
const BIN = fileURLToPath(new URL("../../dist/cjs/cli.js", import.meta.url));

function run(home: string, args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args, "--home", home], { env: serverEnv(home), encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function seed(home: string) {
  const db = openDatabase(home);
  try {
    const store = new ExperienceStore(db);
    const user = store.remember("default", { query: "docs", key: "deploy the docs", value: "mkdocs gh-deploy --force", repo: "/src/site/.git" });
    const other = store.remember("notes", { query: "", key: "restart the api after a config change with a very long explanation that a table must cut", value: "systemctl restart api" });
    const fix = new FixRegistry(db).register({ error: "error TS2307: Cannot find module 'express' or its corresponding type declarations.", fix: "npm i -D @types/express", context: "tsc" });
    const request = enqueue(db, { tensor: "notes", backend: "experience", gates: {}, examples: [{ input: "a", expected: "b" }] }).request;
    return { user: user.id, other: other.id, signature: fix.signature, request: request.id };
  } finally {
    db.close();
  }
}

test("list fixes|tensors|rows|requests: a table for people, --json for scripts, filters (issue 13)", () => {
  const { home, cleanup } = tempHome();
  try {
    const ids = seed(home);
    const fixes = run(home, ["list", "fixes"]);
    assert.equal(fixes.code, 0, fixes.stderr);
    const [head, line, ...rest] = fixes.stdout.trimEnd().split("\n");
    assert.match(head!, /^SIGNATURE\s+STRENGTH\s+OK\/FAIL\s+TYPE\s+FIX\s+UPDATED$/);
    assert.match(line!, new RegExp(`^${ids.signature}\\s+1\\.00\\s+0/0\\s+TS2307\\s+npm i -D @types/express\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d$`));
    assert.deepEqual(rest, []);
    const asJson = JSON.parse(run(home, ["list", "fixes", "--json"]).stdout) as Array<{ signature: string; strength: number }>;
    assert.deepEqual(asJson.map((f) => [f.signature, f.strength]), [[ids.signature, 1]]);
    assert.deepEqual(JSON.parse(run(home, ["list", "fixes", "--json", "--min-strength", "1.5"]).stdout), []);

    const rows = run(home, ["list", "rows"]);
    assert.equal(rows.code, 0, rows.stderr);
    const lines = rows.stdout.trimEnd().split("\n");
    assert.equal(lines.length, 3);
    // Fixed columns: every line is at most as wide as the header's columns, and a long key is cut.
    assert.equal(new Set(lines.slice(1).map((l) => l.length)).size, 1, rows.stdout);
    assert.match(rows.stdout, /restart the api after a config chan…/);
    const onlyDefault = JSON.parse(run(home, ["list", "rows", "--tensor", "default", "--json"]).stdout) as Array<{ id: number; repo: string }>;
    assert.deepEqual(onlyDefault.map((r) => [r.id, r.repo]), [[ids.user, "/src/site/.git"]]);
    assert.deepEqual((JSON.parse(run(home, ["list", "rows", "--repo", "/src/site/.git", "--json"]).stdout) as Array<{ id: number }>).map((r) => r.id), [ids.user]);
    assert.equal((JSON.parse(run(home, ["list", "rows", "--limit", "1", "--json"]).stdout) as unknown[]).length, 1);
    assert.deepEqual(JSON.parse(run(home, ["list", "rows", "--since", "2999-01-01", "--json"]).stdout), []);

    const tensors = JSON.parse(run(home, ["list", "tensors", "--json"]).stdout) as Array<{ name: string; rows: number; versions: number }>;
    assert.deepEqual(tensors.map((t) => [t.name, t.rows, t.versions]), [["default", 1, 1], ["notes", 1, 1]]);
    const requests = run(home, ["list", "requests"]);
    assert.match(requests.stdout, new RegExp(`${ids.request}\\s+notes\\s+queued\\s+experience`));

    const bad = run(home, ["list", "everything"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^experience-mcp list: list what\? one of fixes, tensors, rows, sessions, requests\n/);
    assert.equal(run(home, ["list", "rows", "--limit", "-3"]).code, 2);
  } finally {
    cleanup();
  }
});

test("show a fix, a row, a request and a tensor; an unknown name exits 1 with one line", () => {
  const { home, cleanup } = tempHome();
  try {
    const ids = seed(home);
    const fix = run(home, ["show", ids.signature]);
    assert.equal(fix.code, 0, fix.stderr);
    assert.match(fix.stdout, /^signature\s+[0-9a-f]{16}\n/);
    assert.match(fix.stdout, /\nfix:\nnpm i -D @types\/express\n/);
    assert.match(fix.stdout, /\nerror:\nerror TS2307: Cannot find module <q>/);
    const fixJson = JSON.parse(run(home, ["show", ids.signature, "--json"]).stdout) as { fix: string; history: Array<{ fix: string }> };
    assert.deepEqual(fixJson.history.map((h) => h.fix), ["npm i -D @types/express"]);
    const row = JSON.parse(run(home, ["show", String(ids.user), "--json"]).stdout) as { key: string; value: string };
    assert.deepEqual([row.key, row.value], ["deploy the docs", "mkdocs gh-deploy --force"]);
    assert.match(run(home, ["show", ids.request]).stdout, /^id\s+tr_.*\ntensor\s+notes\nstatus\s+queued/m);
    assert.match(run(home, ["show", "notes"]).stdout, /v1 {2}active\s+1 rows/);
    const missing = run(home, ["show", "0000000000000000"]);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr.split("\n").filter(Boolean).length, 1);
  } finally {
    cleanup();
  }
});

test("edit and forget correct a fix and a row through the store's redaction; recall sees the change", async () => {
  const { home, cleanup } = tempHome();
  try {
    const ids = seed(home);
    const secret = "sk-abcdefghijklmnopqrstuvwxyz0123456789ABCD";
    const edited = run(home, ["edit", ids.signature, "--fix", `npm i -D @types/express  # key ${secret}`]);
    assert.equal(edited.code, 0, edited.stderr);
    assert.ok(!edited.stdout.includes(secret));
    const shown = JSON.parse(run(home, ["show", ids.signature, "--json"]).stdout) as { fix: string; history: Array<{ fix: string }> };
    assert.match(shown.fix, /REDACTED/);
    assert.equal(shown.history.length, 2, "the old fix stays in the history");

    const row = run(home, ["edit", String(ids.user), "--value", "mkdocs gh-deploy"]);
    assert.equal(row.code, 0, row.stderr);
    const newId = Number(/replaced by row (\d+)/.exec(row.stdout)?.[1]);
    assert.equal(run(home, ["show", String(ids.user)]).code, 1, "the old row is gone");
    assert.equal((JSON.parse(run(home, ["show", String(newId), "--json"]).stdout) as { value: string }).value, "mkdocs gh-deploy");
    assert.equal(run(home, ["edit", String(newId), "--fix", "x"]).code, 2, "a row takes --value");

    // A running server (another process's registry) sees the edit and the forget.
    const c = await connect({ home, toolsets: ["memory"] });
    try {
      type Recalled = { results: Array<{ kind: string; fix?: string; signature?: string; value?: string }> };
      const before = await c.ok<Recalled>("recall", { query: "error TS2307: Cannot find module 'express' or its corresponding type declarations." });
      assert.match(before.results.find((r) => r.kind === "fix")?.fix ?? "", /REDACTED/);
      assert.equal(run(home, ["forget", ids.signature]).stdout, `forgot ${ids.signature}\n`);
      assert.equal(run(home, ["forget", String(newId)]).code, 0);
      const after = await c.ok<Recalled>("recall", { query: "error TS2307: Cannot find module 'express' or its corresponding type declarations. deploy the docs" });
      assert.deepEqual(after.results.filter((r) => r.kind === "fix" || r.value === "mkdocs gh-deploy"), []);
    } finally {
      await c.close();
    }
    assert.equal(run(home, ["forget", ids.signature]).code, 1);
  } finally {
    cleanup();
  }
});

test("list sessions and show a session: steps, the last screen and the recording (real tmux and git)", async () => {
  const { home, cleanup } = tempHome();
  try {
    const c = await connect({ home, toolsets: ["terminal"] });
    try {
      await c.ok("tmux_session", { action: "create", session: "insp1" });
      await c.ok("send_text", { session: "insp1", text: "echo inspected-$((6*7))", enter: true });
      await c.ok("tmux_session", { action: "kill", session: "insp1" });
    } finally {
      await c.close();
    }
    const list = JSON.parse(run(home, ["list", "sessions", "--json"]).stdout) as Array<{ name: string; steps: number; cast_bytes: number | null }>;
    const s = list.find((x) => x.name === "insp1");
    assert.ok(s && s.steps >= 1 && (s.cast_bytes ?? 0) > 0, JSON.stringify(list));
    const shown = run(home, ["show", "insp1"]);
    assert.equal(shown.code, 0, shown.stderr);
    // send_text types in chunks that tmux cannot expand: each is a step.
    assert.match(shown.stdout, /\n {3}1 {2}\d{4}-\d\d-\d\d \d\d:\d\d {2}text {2}"echo inspected-\$"\n/);
    assert.match(shown.stdout, /key {3}"Enter"/);
    assert.match(shown.stdout, /screen after the last step:\n[\s\S]*inspected-42/);
  } finally {
    cleanup();
  }
});
