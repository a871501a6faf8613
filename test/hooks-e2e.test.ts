// The loop end to end, as Claude Code runs it: hooks installed in a settings file under a
// temporary HOME, one `sh -c <installed command>` process per event with the event JSON on stdin.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { hookEventFor, parseTranscript } from "../src/harvest/transcript.js";
import { CLI, runShell, serverEnv } from "./spawn.js";
import { tempHome } from "./temp.js";

const FIXTURE = fileURLToPath(
  new URL("../../test/fixtures/transcripts/projects/-home-dev-app/5f0c6a1e-2b7d-4c1a-9e3f-7a1b2c3d4e5f.jsonl", import.meta.url),
);

/** HOME is the temp dir; EXPERIENCE_MCP_HOME is unset so the default ~/.experience-mcp is used. */
function envFor(home: string): Record<string, string> {
  const env = serverEnv(home, { HOME: home });
  delete env.EXPERIENCE_MCP_HOME;
  return env;
}

function cli(home: string, args: string[], cwd?: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { env: envFor(home), cwd, encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function runHook(command: string, home: string, event: unknown): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runShell(command, envFor(home), JSON.stringify(event));
}

interface Settings {
  hooks: Record<string, Array<{ matcher?: string; hooks: Array<{ type: string; command: string }> }>>;
}

/** The command the settings file runs for this event and tool, as Claude Code would pick it. */
function installedCommand(settings: Settings, event: string, tool?: string): string | undefined {
  for (const group of settings.hooks[event] ?? []) {
    if (group.matcher && tool && !new RegExp(`^(?:${group.matcher})$`).test(tool)) continue;
    for (const h of group.hooks) if (h.command.endsWith(" hook")) return h.command;
  }
  return undefined;
}

test("with the hooks installed, a transcript that fails, fixes and fails again gets the fix on the second failure", async (t) => {
  const { home, cleanup } = tempHome("xmcp-hooks-e2e-");
  t.after(cleanup);
  const project = join(home, "app");
  mkdirSync(project);
  assert.equal(spawnSync("git", ["init", "-q", project]).status, 0);

  const installed = cli(home, ["install-hooks", "--user"]);
  assert.equal(installed.code, 0, installed.stderr);
  const settings = JSON.parse(readFileSync(join(home, ".claude", "settings.json"), "utf8")) as Settings;

  const { calls, skipped } = parseTranscript(readFileSync(FIXTURE, "utf8"));
  assert.equal(skipped, 1, "the truncated last line is skipped");
  const answers: Array<{ id: string; context: string }> = [];
  for (const call of calls) {
    const event = hookEventFor({ ...call, cwd: project });
    if (!event) continue;
    const command = installedCommand(settings, String(event.hook_event_name), call.name);
    if (!command) continue; // Read, Grep…: no hook is installed for them
    const r = await runHook(command, home, event);
    assert.equal(r.code, 0, r.stderr);
    if (r.stdout.trim()) {
      const answer = JSON.parse(r.stdout) as { hookSpecificOutput: { hookEventName: string; additionalContext: string } };
      assert.equal(answer.hookSpecificOutput.hookEventName, "PostToolUseFailure");
      answers.push({ id: call.id, context: answer.hookSpecificOutput.additionalContext });
    }
  }
  // The first failure (zod missing) had nothing to go on; the second (yaml missing) got zod's fix.
  assert.equal(answers.length, 1, JSON.stringify(answers));
  assert.equal(answers[0]!.id, "toolu_07Bash");
  assert.match(answers[0]!.context, /npm install zod/);

  // A new session in the same repository starts with that pitfall.
  const start = installedCommand(settings, "SessionStart");
  assert.ok(start);
  const r = await runHook(start, home, { hook_event_name: "SessionStart", session_id: "next", cwd: project, source: "startup" });
  const boot = JSON.parse(r.stdout) as { hookSpecificOutput: { hookEventName: string; additionalContext: string } };
  assert.equal(boot.hookSpecificOutput.hookEventName, "SessionStart");
  assert.match(boot.hookSpecificOutput.additionalContext, /ERR_MODULE_NOT_FOUND, here, unconfirmed\].*npm install zod/);
});

test("install-hooks merges, is idempotent and dry-runs; uninstall-hooks removes only ours", (t) => {
  const { home, cleanup } = tempHome("xmcp-hooks-install-");
  t.after(cleanup);
  const project = join(home, "proj");
  const file = join(project, ".claude", "settings.json");
  mkdirSync(join(project, ".claude"), { recursive: true });
  const theirs = {
    model: "opus",
    hooks: {
      PostToolUse: [{ matcher: "Write", hooks: [{ type: "command", command: "prettier --write \"$FILE\"" }] }],
      Stop: [{ hooks: [{ type: "command", command: "notify-send done" }] }],
    },
  };
  const original = `${JSON.stringify(theirs, null, 2)}\n`;
  writeFileSync(file, original);

  const dry = cli(home, ["install-hooks", "--project", "--dry-run"], project);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /^\+ .*"PostToolUseFailure"/m);
  assert.match(dry.stdout, /^\+ .*cli\.js hook"/m);
  assert.equal(readFileSync(file, "utf8"), original, "a dry run writes nothing");

  const first = cli(home, ["install-hooks", "--project"], project);
  assert.equal(first.code, 0, first.stderr);
  assert.equal((JSON.parse(first.stdout) as { changed: boolean }).changed, true);
  const after = JSON.parse(readFileSync(file, "utf8")) as Settings & { model: string };
  assert.equal(after.model, "opus");
  assert.deepEqual(after.hooks.Stop, theirs.hooks.Stop);
  assert.equal(after.hooks.PostToolUse?.[0]?.hooks[0]?.command, "prettier --write \"$FILE\"");
  assert.ok(installedCommand(after, "PostToolUseFailure", "Bash"));
  assert.ok(installedCommand(after, "PostToolUse", "Bash"));
  assert.ok(installedCommand(after, "SessionStart"));
  assert.equal(installedCommand(after, "PostToolUseFailure", "Read"), undefined);

  const installedText = readFileSync(file, "utf8");
  const second = cli(home, ["install-hooks", "--project"], project);
  assert.equal((JSON.parse(second.stdout) as { changed: boolean }).changed, false);
  assert.equal(readFileSync(file, "utf8"), installedText, "installing twice changes nothing");

  const removed = cli(home, ["uninstall-hooks", "--project"], project);
  assert.equal(removed.code, 0, removed.stderr);
  assert.deepEqual(JSON.parse(readFileSync(file, "utf8")), theirs);

  writeFileSync(file, "{ not json");
  const broken = cli(home, ["install-hooks", "--project"], project);
  assert.equal(broken.code, 1);
  assert.match(broken.stderr, /not valid JSON/);
  assert.equal(readFileSync(file, "utf8"), "{ not json", "a file it cannot read is left alone");
});
