// Repository scope: fixes remember the repository they were learned in; recall prefers it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { openDatabase } from "../src/storage/db.js";
import { FixRegistry } from "../src/registry/registry.js";
import { repoOf } from "../src/storage/repo.js";
import { connect } from "./helpers.js";
import { tempHome } from "./temp.js";

const E = "Traceback (most recent call last):\n  File \"/srv/a.py\", line 3, in <module>\nKeyError: 'port'\n";
const OTHER = "make: *** No rule to make target 'install'.  Stop.\n";

test("lookup ranks this repository's fix first at equal confidence and can keep to it", (t) => {
  const { home, cleanup } = tempHome("xmcp-scope-");
  const db = openDatabase(home);
  t.after(() => {
    db.close();
    cleanup();
  });
  const reg = new FixRegistry(db);
  reg.register({ error: E, fix: "fix from A", context: "python3", repo: "/a/.git" });
  reg.register({ error: E, fix: "fix from B", context: "python", repo: "/b/.git" });
  assert.equal(reg.lookup(E, { repo: "/a/.git" })[0]?.fix, "fix from A");
  assert.equal(reg.lookup(E, { repo: "/b/.git" })[0]?.fix, "fix from B");
  assert.deepEqual(reg.lookup(E, { repo: "/b/.git", scope: "repo" }).map((m) => m.fix), ["fix from B"]);
  assert.deepEqual(reg.lookup(E, { repo: "/c/.git", scope: "repo" }), []);
  assert.equal(reg.lookup(E, { repo: "/c/.git" }).length, 2, "global scope still finds both");
  assert.equal(reg.lookup(E).length, 2);
});

test("recall takes scope: repo keeps the server's repository's fixes, global (default) finds all", async (t) => {
  const { home, cleanup } = tempHome("xmcp-scope-tool-");
  const c = await connect({ home });
  const db = openDatabase(home);
  t.after(async () => {
    db.close();
    await c.close();
    cleanup();
  });
  const here = repoOf(process.cwd());
  const reg = new FixRegistry(db);
  reg.register({ error: E, fix: "here fix", repo: here || "/not-a-repo" });
  reg.register({ error: OTHER, fix: "elsewhere fix", repo: join(home, "elsewhere", ".git") });
  type R = { results: Array<{ kind: string; fix?: string }> };
  const fixes = async (query: string, scope?: string) =>
    (await c.ok<R>("recall", { query, kinds: ["fix"], ...(scope ? { scope } : {}) })).results.map((r) => r.fix);
  assert.deepEqual(await fixes(OTHER), ["elsewhere fix"]);
  assert.deepEqual(await fixes(OTHER, "global"), ["elsewhere fix"]);
  assert.deepEqual(await fixes(OTHER, "repo"), []);
  if (here) assert.deepEqual(await fixes(E, "repo"), ["here fix"]);
});
