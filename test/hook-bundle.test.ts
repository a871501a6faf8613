// The hook as it ships: the command install-hooks writes (node --no-regexp-tier-up dist/cjs/cli.js
// hook, which runs dist/hook.bundle.cjs), spawned through a shell with the event on stdin.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { openDatabase } from "../src/storage/db.js";
import { exactLookup, FixRegistry } from "../src/registry/registry.js";
import { CLI, runShell, serverEnv } from "./spawn.js";
import { tempHome } from "./temp.js";

const DIST = fileURLToPath(new URL("../../dist/", import.meta.url));
const TSC_ERROR = "src/invoice.ts(7,9): error TS2322: Type 'string' is not assignable to type 'number'.";
const FIX = "Convert the value with Number(x) or correct the annotation.";


test("the installed hook command runs the hook bundle and answers a failure with the registered fix", async (t) => {
  const { home, cleanup } = tempHome("xmcp-hook-bundle-");
  t.after(cleanup);
  const data = join(home, "data");
  const project = join(home, "app");
  mkdirSync(join(project, ".git"), { recursive: true });
  const db = openDatabase(data);
  try {
    const registry = new FixRegistry(db);
    registry.register({ error: TSC_ERROR, fix: FIX, context: "npx" });
    for (let i = 0; i < 50; i++) registry.register({ error: `Error: unknown option --flag${i} for tool${i}`, fix: `drop --flag${i}` });
  } finally {
    db.close();
  }

  const env = serverEnv(data, { HOME: home });
  const installed = spawnSync(process.execPath, [CLI, "install-hooks", "--user"], { env, encoding: "utf8" });
  assert.equal(installed.status, 0, installed.stderr);
  const settings = JSON.parse(readFileSync(join(home, ".claude", "settings.json"), "utf8")) as {
    hooks: Record<string, Array<{ hooks: Array<{ command: string }> }>>;
  };
  const command = settings.hooks.PostToolUseFailure?.[0]?.hooks[0]?.command ?? "";
  assert.ok(command.endsWith(`${join(DIST, "cjs", "cli.js")} hook`), command);
  assert.match(command, / --no-regexp-tier-up /);

  const event = {
    hook_event_name: "PostToolUseFailure",
    session_id: "s1",
    transcript_path: "/dev/null",
    cwd: project,
    tool_name: "Bash",
    tool_input: { command: "npx tsc --noEmit" },
    tool_use_id: "toolu_1",
    error: `Exit code 2\n${TSC_ERROR}`,
  };
  for (const run of [command, `${process.execPath} ${CLI} hook`]) {
    const r = await runShell(run, env, JSON.stringify(event));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "", run);
    const lines = r.stdout.split("\n").filter((l) => l !== "");
    assert.equal(lines.length, 1, r.stdout);
    const answer = JSON.parse(lines[0]!) as { hookSpecificOutput: { hookEventName: string; additionalContext: string } };
    assert.equal(answer.hookSpecificOutput.hookEventName, "PostToolUseFailure");
    assert.match(answer.hookSpecificOutput.additionalContext, /the same error \[TS2322\]/);
    assert.ok(answer.hookSpecificOutput.additionalContext.includes(FIX), answer.hookSpecificOutput.additionalContext);
  }

  // The failure is pending: the session's next success is recorded (nothing on stdout).
  const ok = await runShell(command, env, JSON.stringify({ hook_event_name: "PostToolUse", session_id: "s1", cwd: project, tool_name: "Bash", tool_input: { command: "git status" } }));
  assert.deepEqual([ok.code, ok.stdout, ok.stderr], [0, "", ""]);
  const check = openDatabase(data);
  try {
    const pending = check.prepare("SELECT steps FROM pending_failures WHERE session_id = 's1'").all() as Array<{ steps: string }>;
    assert.deepEqual(pending.map((p) => JSON.parse(p.steps) as string[]), [["git status"]]);
  } finally {
    check.close();
  }

  // Empty or broken input: exit 0, nothing on stdout.
  for (const input of ["", "{not json"]) {
    const r = await runShell(command, env, input);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "");
  }
});

test("the hook bundle leaves out the MCP SDK and zod", () => {
  const bundle = readFileSync(join(DIST, "hook.bundle.cjs"), "utf8");
  assert.ok(bundle.length < 200_000, `hook.bundle.cjs is ${bundle.length} bytes`);
  assert.doesNotMatch(bundle, /modelcontextprotocol|ZodError/);
});

test("exactLookup answers what the registry's lookup puts first, for exact matches, without loading the registry", (t) => {
  const { home, cleanup } = tempHome("xmcp-exact-lookup-");
  t.after(cleanup);
  const db = openDatabase(home);
  t.after(() => db.close());
  const registry = new FixRegistry(db);
  const err = (file: string) => `${file}(3,1): error TS2304: Cannot find name 'foo'.`;
  registry.register({ error: err("a.ts"), fix: "declare foo", context: "tsc", repo: "/r/one/.git" });
  registry.register({ error: err("b.ts"), fix: "import foo", context: "npx", repo: "/r/two/.git" });
  registry.register({ error: err("c.ts"), fix: "import foo again", context: "npx", repo: "/r/two/.git" }); // reinforced: stronger
  registry.register({ error: "fatal: not a git repository (or any of the parent directories): .git", fix: "git init" });
  for (const repo of ["", "/r/one/.git", "/r/two/.git", "/elsewhere/.git"]) {
    for (const text of [err("z.ts"), "fatal: not a git repository (or any of the parent directories): .git"]) {
      const full = new FixRegistry(db).lookup(text, { repo, limit: 3 }).find((m) => m.match === "exact");
      assert.deepEqual(exactLookup(db, text, { repo, limit: 3 }), full, `${repo} ${text}`);
    }
  }
  assert.equal(exactLookup(db, "error: something never seen", { limit: 3 }), undefined);
});
