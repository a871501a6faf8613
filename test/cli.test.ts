import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { openDatabase } from "../src/storage/db.js";
import { ExperienceStore } from "../src/experience/store.js";
import { CLI, serverEnv } from "./spawn.js";
import { tempHome } from "./temp.js";

function run(home: string, args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { env: serverEnv(home), encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test("CLI export then import round-trips a tensor through the seed layout", () => {
  const { home, cleanup } = tempHome();
  try {
    const db = openDatabase(home);
    const rows = [
      { query: "hello", key: "print hello world", value: "echo hello world" },
      { query: "files", key: "list the files", value: "ls -la" },
    ];
    new ExperienceStore(db).rememberMany("coder/command", rows);
    db.close();

    const dir = join(home, "exported");
    const out = run(home, ["export", "--tensor-dir", dir, "--tensor", "coder/command"]);
    assert.equal(out.code, 0, out.stderr);
    assert.deepEqual(JSON.parse(out.stdout), { tensor: "coder/command", rows: 2, dir });
    assert.equal(readFileSync(join(dir, "storage", "5", "data"), "utf8"), "ls -la");

    const back = run(home, ["import", "--tensor-dir", dir, "--tensor", "copy"]);
    assert.equal(back.code, 0, back.stderr);
    assert.deepEqual(JSON.parse(back.stdout), { tensor: "copy", rows: 2, created: 2 });

    const stats = JSON.parse(run(home, ["stats"]).stdout) as { tensors: Array<{ name: string; rows: number }> };
    assert.deepEqual(
      stats.tensors.map((t) => [t.name, t.rows]),
      [
        ["coder/command", 2],
        ["copy", 2],
      ],
    );
    const db2 = openDatabase(home);
    const copied = new ExperienceStore(db2).rows("copy").map(({ query, key, value }) => ({ query, key, value }));
    db2.close();
    assert.deepEqual(copied, rows);
  } finally {
    cleanup();
  }
});

test("CLI refuses bad arguments with a message and a non-zero exit", () => {
  const { home, cleanup } = tempHome();
  try {
    const bad = run(home, ["export", "--tensor-dir", join(home, "x"), "--tensor", "../etc"]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /invalid tensor name/);
    const missing = run(home, ["export", "--tensor-dir", join(home, "x"), "--tensor", "nope"]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /No tensor named "nope"/);
    const unknown = run(home, ["frobnicate"]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command/);
    const help = run(home, ["--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /experience-mcp \[serve\]/);
    const subHelp = run(home, ["install-hooks", "--help"]);
    assert.equal(subHelp.code, 0);
    assert.match(subHelp.stdout, /install-hooks \[--project\|--user\]/);
    assert.equal(run(home, ["serve", "--toolsets", "bogus"]).code, 1);
  } finally {
    cleanup();
  }
});
