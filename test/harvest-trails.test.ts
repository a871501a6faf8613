// Harvesting terminal trails: a real tmux session typed into through the Terminal, then harvested.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { openDatabase } from "../src/storage/db.js";
import { ExperienceStore } from "../src/experience/store.js";
import { harvestSources } from "../src/harvest/harvest.js";
import { buildTriples, groupSteps, harvestTrails, looksFailed, outputOf, type TrailHarvestReport } from "../src/harvest/trail.js";
import type { TrailCommit } from "../src/trail/read.js";
import { FixRegistry } from "../src/registry/registry.js";
import { Terminal } from "../src/tmux/terminal.js";
import { TmuxCli } from "../src/tmux/tmux.js";
import { connect } from "./helpers.js";
import { CLI, serverEnv } from "./spawn.js";
import { tempHome } from "./temp.js";

const SOCKET = `xmcp-trailh-${process.pid}`;
const TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8";

after(async () => {
  await new TmuxCli({ socket: SOCKET }).killServer();
});

/** A line after `line` on screen that ends like a shell prompt: the command has returned. */
function promptAfter(line: string): RegExp {
  const escaped = line.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`${escaped}\\n(?:.*\\n)*.*[$#%>]$`);
}

async function run(t: Terminal, session: string, line: string): Promise<void> {
  await t.sendText(session, line, { enter: true });
  await t.waitForText(session, promptAfter(line), { timeoutMs: 20_000 });
}

test("steps: typed lines run with Enter, editing keys inside them, lone keys, an unfinished line waits", () => {
  let seq = 0;
  const c = (kind: "text" | "key", payload: string): TrailCommit => ({ oid: "0".repeat(40), seq: ++seq, kind, payload, timestampMs: seq });
  const { steps, pending } = groupSteps([
    c("text", "git che"),
    c("key", "Tab"),
    c("text", " main"),
    c("key", "Enter"),
    c("key", "C-c"),
    c("text", "sleep 100"),
    c("key", "C-c"),
    c("text", "echo hi\n"),
    c("text", "half typed"),
  ]);
  assert.deepEqual(
    steps.map((s) => [s.first, s.last, s.decision, s.command]),
    [
      [1, 4, "text:git che<Tab> main", "git che<Tab> main"],
      [5, 5, "ctrl:C-c", "C-c"],
      [6, 7, "ctrl:C-c", "sleep 100<C-c>"],
      [8, 8, "text:echo hi", "echo hi"],
    ],
  );
  assert.equal(pending, 9);
});

test("failure detection reads the command's output only, and conservatively", () => {
  const screen = "$ ls nonexistent_dir\nls: cannot access 'nonexistent_dir': No such file or directory\n$";
  assert.equal(outputOf(screen, "ls nonexistent_dir"), "ls: cannot access 'nonexistent_dir': No such file or directory");
  assert.equal(looksFailed(outputOf(screen, "ls nonexistent_dir")), true);
  assert.equal(looksFailed(outputOf("$ ls x\nls: cannot access 'x': No such file or directory\n$ ls x\n$", "ls x")), false, "the earlier error is not this command's");
  assert.equal(looksFailed("bash: nosuchcmd: command not found"), true);
  assert.equal(looksFailed('Traceback (most recent call last):\n  File "a.py", line 1, in <module>\nKeyError: 1'), true);
  assert.equal(looksFailed("README.md  src  test"), false);
  assert.equal(looksFailed("3 errors were fixed, all good"), false);
});

test("harvest trails: triples, rows recalled by a similar screen, a candidate fix, idempotent, continued, dry run, redacted", async (t) => {
  const { home, cleanup } = tempHome("xmcp-trailh-");
  const term = new Terminal({ home, socket: SOCKET });
  const db = openDatabase(home);
  t.after(async () => {
    await term.close();
    db.close();
    cleanup();
  });
  const root = join(home, "trails");
  const store = new ExperienceStore(db);

  // No trail repository yet: nothing, and no error.
  const none = await harvestTrails(db, { root });
  assert.deepEqual([none.sessions_found, none.triples_found], [0, 0]);

  await term.createSession({ session: "work" });
  await run(term, "work", "ls nonexistent_dir");
  await run(term, "work", "mkdir nonexistent_dir");
  await run(term, "work", "ls nonexistent_dir");
  await term.sendText("work", "sleep 30", { enter: true });
  await term.sendKeys("work", ["C-c"]);
  await term.waitForText("work", /\^C\n(?:.*\n)*.*[$#%>]$/, { timeoutMs: 20_000 });
  await term.sendText("work", "echo unfinished"); // no Enter yet: not a step until it is run

  const dry = await harvestTrails(db, { root, dryRun: true });
  assert.equal(dry.sessions_found, 1);
  assert.deepEqual(
    dry.triples.map((x) => [x.decision, x.command]),
    [
      ["text:ls nonexistent_dir", "ls nonexistent_dir"],
      ["text:mkdir nonexistent_dir", "mkdir nonexistent_dir"],
      ["text:ls nonexistent_dir", "ls nonexistent_dir"],
      ["text:sleep 30", "sleep 30"],
      ["ctrl:C-c", "C-c"],
    ],
  );
  const [fail, fix, ok, , ctrl] = dry.triples;
  assert.doesNotMatch(fail!.observation, /nonexistent_dir/, "the screen before the first command");
  assert.match(fail!.outcome, /ls: cannot access '?nonexistent_dir'?: No such file or directory/);
  assert.ok(fail!.outcome.split("\n").length <= 8);
  assert.match(fix!.observation, /cannot access/, "observation = the screen the previous command left");
  assert.doesNotMatch(ok!.outcome.split("\n").slice(-2).join("\n"), /cannot access/);
  assert.match(ctrl!.outcome, /\^C/);
  assert.deepEqual(
    dry.pairs.map((p) => [p.command, p.error_type, p.fix, p.status]),
    [["ls nonexistent_dir", "ENOENT", "mkdir nonexistent_dir", "new"]],
  );
  assert.equal(store.rows("trails").length, 0, "a dry run stores nothing");
  assert.equal(new FixRegistry(db).size, 0);

  const first = await harvestTrails(db, { root });
  assert.deepEqual([first.sessions_read, first.triples_found, first.triples_stored, first.pairs_stored], [1, 5, 5, 1]);
  const rows = store.rows("trails");
  assert.equal(rows.length, 5);
  assert.equal(rows[0]!.key, "text:ls nonexistent_dir");
  assert.match(rows[0]!.value, /^ls nonexistent_dir\n(?:.*\n)*ls: cannot access/);
  const repos = db.prepare("SELECT DISTINCT repo FROM rows WHERE tensor = 'trails'").pluck().all() as string[];
  assert.equal(repos.length, 1);
  assert.ok(repos[0]!.endsWith(join("trails", ".trail.git")), `scoped to the trail repository: ${repos[0]}`);

  // A similar screen recalls what was run there and what came of it.
  const hits = store.recall("$ ls: cannot access 'nonexistent_dir': No such file or directory", { tensor: "trails", k: 3 });
  assert.ok(hits.some((h) => h.key === "text:mkdir nonexistent_dir"), JSON.stringify(hits.map((h) => h.key)));

  const registry = new FixRegistry(db);
  const found = registry.lookup("ls: cannot access 'other_dir': No such file or directory")[0];
  // the same error with another directory: the fix comes adapted to it (issue 10)
  assert.equal(found?.fix, "mkdir other_dir");
  assert.equal(found?.adaptation?.registered_fix, "mkdir nonexistent_dir");
  assert.equal(found?.status, "candidate");

  const again = await harvestTrails(db, { root });
  assert.deepEqual([again.sessions_unchanged, again.triples_found, again.triples_stored, again.pairs_found], [1, 0, 0, 0]);
  assert.equal(store.rows("trails").length, 5);

  // The session goes on: the unfinished line is run, a secret is exported, a new failure is fixed.
  await term.sendKeys("work", ["Enter"]);
  await term.waitForText("work", promptAfter("echo unfinished\nunfinished"), { timeoutMs: 20_000 });
  await run(term, "work", `export GITHUB_TOKEN=${TOKEN}`);
  await run(term, "work", "cat notes.txt");
  await run(term, "work", "touch notes.txt");
  // Typing the next line settles the last run step's screen (it may have been captured before the prompt came back).
  await term.sendText("work", "cat notes.txt");

  const grown = await harvestTrails(db, { root });
  assert.equal(grown.triples_found, 4, "only the new steps");
  assert.deepEqual(
    grown.triples.map((x) => x.command.replace(/=.*REDACTED.*$/, "=<redacted>")),
    ["echo unfinished", "export GITHUB_TOKEN=<redacted>", "cat notes.txt", "touch notes.txt"],
  );
  assert.equal(grown.pairs_found, 0, "the failure is not fixed yet");
  assert.equal(store.rows("trails").length, 9);

  // The fix is confirmed in the next harvest: the failure, read again as context, pairs across the boundary.
  await term.sendKeys("work", ["Enter"]);
  await term.waitForText("work", /touch notes\.txt\n.*cat notes\.txt\n(?:.*\n)*.*[$#%>]$/, { timeoutMs: 20_000 });
  await term.sendText("work", "echo more");
  const closed = await harvestTrails(db, { root });
  assert.deepEqual(closed.triples.map((x) => x.decision), ["text:cat notes.txt"]);
  assert.deepEqual(
    closed.pairs.map((p) => [p.command, p.fix, p.status]),
    [["cat notes.txt", "touch notes.txt", "stored"]],
  );
  assert.equal(new FixRegistry(db).lookup("cat: todo.txt: No such file or directory")[0]?.fix, "touch notes.txt");

  const all = store.rows("trails");
  assert.equal(all.length, 10);
  for (const r of all) assert.ok(![r.query, r.key, r.value].join("\n").includes(TOKEN), "the token never reaches a row");
  assert.ok(!JSON.stringify(grown).includes(TOKEN));
  assert.match(all.find((r) => r.key.startsWith("text:export"))!.key, /REDACTED/);

  const last = await harvestTrails(db, { root });
  assert.deepEqual([last.triples_found, last.pairs_found], [0, 0]);
});

test("harvest tool over MCP with sources [\"trails\"]", async (t) => {
  const c = await connect({ tmuxSocket: SOCKET, toolsets: ["memory", "terminal"] });
  t.after(() => c.close());
  await c.ok("tmux_session", { action: "create", session: "mcp1" });
  await c.ok("tmux_session", { action: "create", session: "mcp2" });
  const type = async (session: string, line: string) => {
    await c.ok("send_text", { session, text: line, enter: true });
    await c.app.services.terminal.waitForText(session, promptAfter(line), { timeoutMs: 20_000 });
  };
  // Two sessions' commits interleaved on the trail's one history.
  await type("mcp1", "cat missing.txt");
  await type("mcp2", "echo side");
  await type("mcp1", "echo hi > missing.txt");
  await type("mcp1", "cat missing.txt");
  for (const session of ["mcp1", "mcp2"]) await c.ok("send_text", { session, text: "true" }); // settles the last step's screen

  // The CLI's dry run shows what would be stored and stores nothing.
  const cli = spawnSync(process.execPath, [CLI, "harvest", "--sources", "trails", "--session", "mcp1", "--dry-run", "--home", c.home], { env: serverEnv(c.home), encoding: "utf8" });
  assert.equal(cli.status, 0, cli.stderr);
  const printed = JSON.parse(cli.stdout) as Out;
  assert.deepEqual(printed.trails.triples.map((x) => x.decision), ["text:cat missing.txt", "text:echo hi > missing.txt", "text:cat missing.txt"]);
  assert.equal(printed.trails.pairs[0]?.status, "new");
  const bad = spawnSync(process.execPath, [CLI, "harvest", "--sources", "screens", "--home", c.home], { env: serverEnv(c.home), encoding: "utf8" });
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /choose from transcripts, trails/);

  interface Out {
    sources: string[];
    files_found: number;
    pairs: unknown[];
    trails: TrailHarvestReport;
  }
  const dry = await c.ok<Out>("harvest", { sources: ["trails"], session: "mcp1", dry_run: true });
  assert.deepEqual(dry.sources, ["trails"]);
  assert.equal(dry.files_found, 0, "transcripts were not read");
  assert.deepEqual(dry.pairs, []);
  assert.equal(dry.trails.triples_found, 3);
  assert.equal(dry.trails.triples_stored, 0);

  const real = await c.ok<Out>("harvest", { sources: ["trails"], session: "mcp1" });
  assert.deepEqual([real.trails.sessions_read, real.trails.triples_stored, real.trails.pairs_stored], [1, 3, 1]);
  assert.equal(real.trails.pairs[0]?.fix, "echo hi > missing.txt");
  const hits = await c.ok<{ results: Array<{ kind: string; key?: string }> }>("recall", { query: "$ cat: missing.txt: No such file or directory", tensor: "trails" });
  assert.ok(hits.results.some((h) => h.key === "text:echo hi > missing.txt"), JSON.stringify(hits));

  const again = await c.ok<Out>("harvest", { sources: ["trails"] });
  assert.deepEqual([again.trails.sessions_found, again.trails.sessions_unchanged, again.trails.triples_found], [2, 1, 1], "only mcp2's step is new");
  assert.deepEqual(again.trails.triples.map((x) => [x.session, x.decision]), [["mcp2", "text:echo side"]]);

  const both = await harvestSources(c.app.services.db, { sources: ["transcripts"], trailsRoot: join(c.home, "trails") });
  assert.equal(both.trails.sessions_found, 0, "trails not read when not asked for");
});

test("a password typed with secret: true teaches nothing: no triple, pair or row holds it or its placeholder", async (t) => {
  const c = await connect({ tmuxSocket: SOCKET, toolsets: ["memory", "terminal"] });
  t.after(() => c.close());
  await c.ok("tmux_session", { action: "create", session: "sec1" });
  await c.ok("send_text", { session: "sec1", text: "read -rs PW", enter: true });
  await c.ok("send_text", { session: "sec1", text: "opensesame-9f2c", secret: true, enter: true });
  await c.app.services.terminal.waitForShell("sec1", { timeoutMs: 20_000 });
  await c.ok("send_text", { session: "sec1", text: "echo visible", enter: true });
  await c.app.services.terminal.waitForText("sec1", promptAfter("echo visible"), { timeoutMs: 20_000 });
  await c.ok("send_text", { session: "sec1", text: "true" }); // settles the last step's screen
  const out = await c.ok<{ trails: TrailHarvestReport }>("harvest", { sources: ["trails"], session: "sec1" });
  assert.deepEqual(out.trails.triples.map((x) => x.decision), ["text:read -rs PW", "text:echo visible"]);
  const rows = c.app.services.db.prepare("SELECT query || key || value AS t FROM rows").pluck().all() as string[];
  assert.ok(rows.length > 0 && rows.every((r) => !r.includes("<secret:") && !r.includes("opensesame")), JSON.stringify(rows));
});

test("a last step captured before its output settled waits for the next step's screen", () => {
  const commits: TrailCommit[] = [
    { oid: "a".repeat(40), seq: 1, kind: "text", payload: "make", timestampMs: 1 },
    { oid: "b".repeat(40), seq: 2, kind: "key", payload: "Enter", timestampMs: 2 },
  ];
  const early = buildTriples("s", commits, new Map([[1, "$ make"], [2, "$ make"]]));
  assert.deepEqual([early.triples.length, early.pending], [0, 1]);
  const settled = buildTriples("s", commits, new Map([[1, "$ make"], [2, "$ make\nmake: *** No targets specified and no makefile found.  Stop.\n$"]]));
  assert.equal(settled.triples.length, 1);
  assert.deepEqual(settled.triples[0], { session: "s", seq: 1, observation: "$", decision: "text:make", command: "make", outcome: "$ make\nmake: *** No targets specified and no makefile found.  Stop.\n$" });
  assert.deepEqual(settled.failed, [true]);
  // The next keystroke's screen (chunk cut off) is the later, fuller view of what the step printed.
  const later = buildTriples("s", [...commits, { oid: "c".repeat(40), seq: 3, kind: "text", payload: "ls", timestampMs: 3 }], new Map([[1, "$ make"], [2, "$ make"], [3, "$ make\nmake: *** No targets.  Stop.\n$ ls"]]));
  assert.deepEqual([later.triples.length, later.pending, later.triples[0]!.outcome], [1, 3, "$ make\nmake: *** No targets.  Stop.\n$"]);
});
