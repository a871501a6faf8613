// The hook's decisions, in-process over a real SQLite file and real git repositories.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, realpathSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { openDatabase, type Db } from "../src/storage/db.js";
import { FixRegistry } from "../src/registry/registry.js";
import { HookHandler, errorText } from "../src/hooks/hook.js";
import { bootstrapContext, estimateTokens } from "../src/hooks/bootstrap.js";
import { PENDING_WINDOW_MS } from "../src/hooks/pending.js";
import { repoOf } from "../src/storage/repo.js";
import { programOf, shapeOf } from "../src/hooks/command.js";
import { CLI, serverEnv } from "./spawn.js";
import { tempHome } from "./temp.js";
import { bashFailure, bashSuccess } from "./hook-events.js";

const TS2307 = (mod: string, file: string) =>
  `Exit code 2\n${file}(3,21): error TS2307: Cannot find module '${mod}' or its corresponding type declarations.\n`;
const KEYERROR = `Exit code 1\nTraceback (most recent call last):\n  File "/srv/app/settings.py", line 4, in <module>\n    print(cfg["db_host"])\nKeyError: 'db_host'\n`;

function git(cwd: string, ...args: string[]): string {
  const r = spawnSync("git", ["-c", "user.email=t@example.com", "-c", "user.name=t", ...args], { cwd, encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

function setup(t: { after: (fn: () => void) => void }): { db: Db; home: string; repo: string; clock: { t: number }; hook: HookHandler } {
  const { home, cleanup } = tempHome("xmcp-hooks-");
  const db = openDatabase(join(home, "data"));
  t.after(() => {
    db.close();
    cleanup();
  });
  const repo = join(home, "repo");
  mkdirSync(repo);
  git(repo, "init", "-q");
  const clock = { t: Date.UTC(2026, 10, 20, 10) };
  return { db, home, repo, clock, hook: new HookHandler(db, () => clock.t) };
}

const fail = (session: string, cwd: string, command: string, error: string) => bashFailure(session, cwd, command, error);
const ok = bashSuccess;
const edit = (session: string, cwd: string, file: string) => ({
  hook_event_name: "PostToolUse",
  session_id: session,
  cwd,
  tool_name: "Edit",
  tool_input: { file_path: join(cwd, file), old_string: "a", new_string: "b" },
});

test("a fix is learned as a candidate, shown on the next failure, and made active by a second occurrence", (t) => {
  const { db, repo, hook } = setup(t);
  assert.equal(hook.handle(fail("s1", repo, "npx tsc --noEmit", TS2307("express", "src/a.ts"))), undefined, "nothing known yet");
  hook.handle(ok("s1", repo, "npm install express"));
  hook.handle(edit("s1", repo, "src/a.ts"));
  hook.handle(ok("s1", repo, "npx tsc --noEmit"));

  const reg = new FixRegistry(db);
  const learned = reg.lookup(errorText(TS2307("express", "src/a.ts")))[0];
  assert.equal(learned?.status, "candidate");
  assert.equal(learned?.fix, "npm install express\nedit src/a.ts");
  assert.equal(learned?.repo, realpathSync(join(repo, ".git")));

  // Another session, another module: the same problem. The hook answers with the fix.
  const answer = hook.handle(fail("s2", repo, "npx tsc -p .", TS2307("lodash", "lib/b.ts")));
  assert.equal(answer?.hookSpecificOutput.hookEventName, "PostToolUseFailure");
  assert.match(answer?.hookSpecificOutput.additionalContext ?? "", /not yet confirmed[\s\S]*npm install express/);

  // Resolved again by other steps: the second occurrence promotes the candidate.
  hook.handle(ok("s2", repo, "npm install lodash"));
  hook.handle(ok("s2", repo, "npx tsc -p ."));
  const now = new FixRegistry(db).lookup(errorText(TS2307("lodash", "lib/b.ts")))[0];
  assert.equal(now?.status, "active");
  assert.equal(now?.fix, "npm install lodash");
});

test("running the fix that was shown confirms it (report_outcome success)", (t) => {
  const { db, repo, hook } = setup(t);
  const reg = new FixRegistry(db);
  const { signature } = reg.register({ error: errorText(KEYERROR), fix: "use cfg.get(key, default)", context: "python3", status: "candidate" });
  const answer = hook.handle(fail("s1", repo, "python3 settings.py", KEYERROR));
  assert.match(answer?.hookSpecificOutput.additionalContext ?? "", /cfg\.get/);
  hook.handle(ok("s1", repo, "use cfg.get(key, default)"));
  hook.handle(ok("s1", repo, "python3 settings.py"));
  const m = new FixRegistry(db).lookupSignature(signature);
  assert.equal(m?.status, "active");
  assert.equal(m?.successes, 1);
});

test("a plain retry, a stale failure, another session and a repeated failure teach nothing wrong", (t) => {
  const { db, repo, clock, hook } = setup(t);
  const reg = () => new FixRegistry(db);
  // passes on a plain retry: no steps, nothing learned
  hook.handle(fail("s1", repo, "python3 settings.py", KEYERROR));
  hook.handle(ok("s1", repo, "python3 settings.py"));
  assert.equal(reg().size, 0);

  // steps from another session do not count
  hook.handle(fail("s1", repo, "python3 settings.py", KEYERROR));
  hook.handle(ok("s2", repo, "echo unrelated"));
  hook.handle(ok("s1", repo, "python3 settings.py"));
  assert.equal(reg().size, 0);

  // the same command failing again drops what came before it: those steps did not fix it
  hook.handle(fail("s1", repo, "python3 settings.py", KEYERROR));
  hook.handle(ok("s1", repo, "git stash"));
  hook.handle(fail("s1", repo, "python3 settings.py", KEYERROR));
  hook.handle(ok("s1", repo, "pip install -r requirements.txt"));
  hook.handle(ok("s1", repo, "python3 settings.py"));
  assert.equal(reg().lookup(errorText(KEYERROR))[0]?.fix, "pip install -r requirements.txt");

  // outside the window the failure is forgotten
  hook.handle(fail("s3", repo, "npx tsc --noEmit", TS2307("zod", "src/c.ts")));
  hook.handle(ok("s3", repo, "npm install zod"));
  clock.t += PENDING_WINDOW_MS + 1;
  hook.handle(ok("s3", repo, "npx tsc --noEmit"));
  assert.equal(reg().lookup(errorText(TS2307("zod", "src/c.ts"))).length, 0);
});

test("the retry may differ in arguments when it runs in the same directory", (t) => {
  const { db, repo, hook } = setup(t);
  hook.handle(fail("s1", repo, "cd /x && npx tsc --noEmit", TS2307("pg", "src/db.ts")));
  hook.handle(ok("s1", repo, "npm i -D @types/pg"));
  hook.handle(ok("s1", join(repo, "sub"), "npx tsc --noEmit -p tsconfig.json")); // another directory: a step
  hook.handle(ok("s1", repo, "tsc --noEmit -p tsconfig.json"));
  assert.equal(new FixRegistry(db).lookup(errorText(TS2307("pg", "src/db.ts")))[0]?.fix, "npm i -D @types/pg\nnpx tsc --noEmit -p tsconfig.json");
  assert.equal(programOf("cd /x && FOO=1 npx tsc --noEmit"), "tsc");
  assert.equal(programOf("./deploy/up.sh staging"), "bash");
  assert.equal(shapeOf("cd app && npm run build -- --watch"), "npm run");
});

test("worktrees share one repository; the bootstrap puts this repository first and stays within its budget", (t) => {
  const { db, home, repo, hook } = setup(t);
  git(repo, "commit", "-q", "--allow-empty", "-m", "init");
  const tree = join(home, "tree");
  git(repo, "worktree", "add", "-q", tree);
  assert.equal(repoOf(tree), repoOf(repo));
  // what git itself says, from the worktree and from a subdirectory
  const common = git(tree, "rev-parse", "--git-common-dir").trim();
  assert.equal(repoOf(tree), realpathSync(resolve(tree, common)));
  mkdirSync(join(tree, "sub", "dir"), { recursive: true });
  assert.equal(repoOf(join(tree, "sub", "dir")), realpathSync(join(repo, ".git")));
  assert.equal(repoOf(join(home)), "");

  const reg = new FixRegistry(db);
  reg.register({ error: errorText(KEYERROR), fix: "elsewhere fix", status: "active", repo: "/other/.git" });
  for (let i = 0; i < 60; i++) {
    reg.register({ error: `src/m${i}.ts(1,1): error TS2307: Cannot find module 'x' in package${"abcdefghij"[i % 10]}${i} or its types.`, fix: `npm install pkg${i} ${"--save ".repeat(10)}`, repo: repoOf(repo) });
  }
  const text = bootstrapContext(db, repoOf(tree), 300);
  assert.ok(estimateTokens(text) <= 300, `${estimateTokens(text)} tokens`);
  const lines = text.split("\n").slice(1);
  assert.ok(lines.length > 3 && lines.length < 60, `${lines.length} lines: the budget binds`);
  const other = lines.findIndex((l) => l.includes("elsewhere fix"));
  for (const l of other === -1 ? lines : lines.slice(0, other)) assert.match(l, /, here, /, "this repository's pitfalls first");
  const full = bootstrapContext(db, repoOf(tree), 100_000);
  assert.match(full.split("\n").at(-1) ?? "", /, elsewhere, .*elsewhere fix/);
  assert.equal(bootstrapContext(db, repoOf(tree), 10), "");

  const start = hook.handle({ hook_event_name: "SessionStart", session_id: "s", cwd: tree, source: "startup" });
  assert.ok(estimateTokens(start?.hookSpecificOutput.additionalContext ?? "") <= 2000);
});

test("the hook process never fails the turn: bad input, unknown events and a broken database exit 0 silently", () => {
  const { home, cleanup } = tempHome("xmcp-hook-bad-");
  try {
    const run = (input: string, env: Record<string, string> = {}) =>
      spawnSync(process.execPath, [CLI, "hook"], { input, env: serverEnv(home, env), encoding: "utf8" });
    for (const input of ["", "not json", "[1,2]", '{"hook_event_name":"Stop"}', '{"hook_event_name":"PostToolUseFailure","tool_name":"Read"}']) {
      const r = run(input);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, "", input);
    }
    // the data directory lies under a plain file: opening the database fails, the hook still exits 0
    writeFileSync(join(home, "file"), "");
    const r = run(JSON.stringify(fail("s", home, "make", "Exit code 2\nmake: *** No rule to make target 'all'.  Stop.")), {
      EXPERIENCE_MCP_HOME: join(home, "file", "data"),
    });
    assert.equal(r.status, 0);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /hook: ignored an internal error/);
  } finally {
    cleanup();
  }
});
