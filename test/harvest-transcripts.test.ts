// Harvesting real-format Claude Code transcripts: fixtures copied into a temp ~/.claude/projects.
import { test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, cpSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { openDatabase } from "../src/storage/db.js";
import { ExperienceStore } from "../src/experience/store.js";
import { FixRegistry } from "../src/registry/registry.js";
import { harvest, parseSince, scoreFile } from "../src/harvest/harvest.js";
import { parseTranscript } from "../src/harvest/transcript.js";
import { connect } from "./helpers.js";
import { tempHome } from "./temp.js";

const FIXTURES = fileURLToPath(new URL("../../test/fixtures/transcripts/projects", import.meta.url));
const SID = "5f0c6a1e-2b7d-4c1a-9e3f-7a1b2c3d4e5f";
const TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8";

function setup(t: { after: (fn: () => void) => void }) {
  const { home, cleanup } = tempHome("xmcp-harvest-");
  const root = join(home, ".claude", "projects");
  cpSync(FIXTURES, root, { recursive: true });
  const db = openDatabase(join(home, "data"));
  t.after(() => {
    db.close();
    cleanup();
  });
  return { home, root, db, main: join(root, "-home-dev-app", `${SID}.jsonl`) };
}

const line = (o: Record<string, unknown>) => `${JSON.stringify({ sessionId: SID, cwd: "/home/dev/app", timestamp: "2026-11-20T11:00:00.000Z", ...o })}\n`;
const bash = (id: string, command: string) => line({ type: "assistant", message: { role: "assistant", content: [{ type: "tool_use", id, name: "Bash", input: { command } }] } });
const result = (id: string, content: string, isError = false) =>
  line({ type: "user", message: { role: "user", content: [{ type: "tool_result", tool_use_id: id, content, is_error: isError }] } });

test("harvest finds failure→fix pairs in sessions and subagents, dry-runs, and never stores a pair twice", (t) => {
  const { root, db, main } = setup(t);

  const dry = harvest(db, { root, dryRun: true });
  assert.equal(dry.files_found, 2);
  assert.equal(dry.lines_skipped, 1, "the truncated last line");
  assert.deepEqual(
    dry.pairs.map((p) => [p.command, p.error_type, p.fix, p.status]),
    [
      ["npm test", "ERR_MODULE_NOT_FOUND", "npm install zod", "new"],
      ["python3 scripts/report.py", "KeyError", "edit scripts/report.py", "new"],
    ],
  );
  assert.equal(new FixRegistry(db).size, 0, "a dry run stores nothing");

  const first = harvest(db, { root });
  assert.equal(first.pairs_stored, 2);
  const reg = new FixRegistry(db);
  const zod = reg.lookup("Error [ERR_MODULE_NOT_FOUND]: Cannot find package 'chalk' imported from /srv/x/index.js")[0];
  // the same error for another package: the fix comes adapted to it (issue 10)
  assert.equal(zod?.fix, "npm install chalk");
  assert.equal(zod?.adaptation?.registered_fix, "npm install zod");
  assert.equal(zod?.status, "candidate");

  const again = harvest(db, { root });
  assert.deepEqual([again.files_unchanged, again.files_read, again.pairs_stored], [2, 0, 0]);

  // The session goes on: the cut line is completed and a new failure is fixed with a secret in the
  // command. Only the new pair is stored, and the secret is not.
  const text = readFileSync(main, "utf8");
  writeFileSync(main, text.slice(0, text.lastIndexOf("\n") + 1));
  appendFileSync(
    main,
    result("toolu_08Bash", "added 1 package") +
      bash("toolu_20Bash", "gh release list") +
      result("toolu_20Bash", "Exit code 4\nTo get started with GitHub CLI, please run:  gh auth login\nAlternatively, populate the GH_TOKEN environment variable with a GitHub API authentication token.", true) +
      bash("toolu_21Bash", `export GH_TOKEN=${TOKEN}`) +
      result("toolu_21Bash", "") +
      bash("toolu_22Bash", "gh release list") +
      result("toolu_22Bash", "v1.2.0\tLatest\tv1.2.0\t2026-11-19"),
  );
  const grown = harvest(db, { root });
  assert.deepEqual([grown.files_unchanged, grown.files_read, grown.pairs_already, grown.pairs_stored], [1, 1, 1, 1]);
  const gh = new FixRegistry(db).lookup("To get started with GitHub CLI, please run:  gh auth login\nAlternatively, populate the GH_TOKEN environment variable with a GitHub API authentication token.")[0];
  assert.ok(gh, "the gh pair was stored");
  assert.doesNotMatch(gh.fix, /ghp_/);
  assert.match(gh.fix, /export GH_TOKEN=/);
  assert.equal(JSON.stringify(db.prepare("SELECT * FROM fix_history").all()).includes(TOKEN), false);
});

test("sessions are scored for harvest value, and --limit reads the best first", (t) => {
  const { root, db, main } = setup(t);
  const now = Date.now();
  // An old, long session without failures is worth less than a fresh one with failures.
  const dir = join(root, "-home-dev-other");
  mkdirSync(dir);
  const quiet = join(dir, "0a0a0a0a-0000-4000-8000-000000000000.jsonl");
  let body = "";
  for (let i = 0; i < 400; i++) body += bash(`toolu_q${i}`, `ls -la dir${i}`) + result(`toolu_q${i}`, `total ${i}\n${"x".repeat(400)}`);
  writeFileSync(quiet, body);
  const old = (now - 30 * 86_400_000) / 1000;
  utimesSync(quiet, old, old);

  const big = scoreFile(quiet, now);
  assert.ok(big.size > 256 * 1024, "large enough to be sampled");
  assert.ok(Math.abs(big.toolCalls - 400) <= 40, `estimated ${big.toolCalls} tool calls from head and tail`);
  assert.equal(big.failures, 0);
  const fresh = scoreFile(main, now);
  assert.equal(fresh.failures, 2);
  assert.ok(fresh.score > big.score, `${fresh.score} > ${big.score}`);

  const one = harvest(db, { root, limit: 1 });
  assert.equal(one.files_read, 1);
  assert.equal(one.pairs[0]?.file, main);
  const recent = harvest(db, { root, since: parseSince("7d", now) });
  assert.equal(recent.files_read, 1, "the 30-day-old session is left out; the harvested one is unchanged");
  assert.equal(recent.files_unchanged, 1);
  assert.throws(() => parseSince("last week"), /--since/);
});

test("the transcript reader keeps results with their calls and tolerates junk lines", () => {
  const parsed = parseTranscript(
    [
      "{not json\n",
      bash("a", "make"),
      line({ type: "user", message: { role: "user", content: [{ type: "tool_result", tool_use_id: "a", is_error: true, content: [{ type: "text", text: "Exit code 2" }, { type: "text", text: "make: *** No targets.  Stop." }] }] } }),
      bash("b", "make all"),
    ].join(""),
  );
  assert.equal(parsed.skipped, 1);
  assert.deepEqual(parsed.calls.map((c) => [c.id, c.result?.isError, c.result?.text]), [
    ["a", true, "Exit code 2\nmake: *** No targets.  Stop."],
    ["b", undefined, undefined],
  ]);
});

test("the harvest tool runs over MCP", async (t) => {
  const { root } = setup(t);
  const { home, cleanup } = tempHome("xmcp-harvest-tool-");
  const c = await connect({ home });
  t.after(async () => {
    await c.close();
    cleanup();
  });
  const dry = await c.ok<{ pairs_found: number; pairs_stored: number; dry_run: boolean }>("harvest", { root, dry_run: true });
  assert.deepEqual([dry.pairs_found, dry.pairs_stored, dry.dry_run], [2, 0, true]);
  const real = await c.ok<{ pairs_stored: number }>("harvest", { root });
  assert.equal(real.pairs_stored, 2);
  const bad = await c.call("harvest", { root, since: "yesterday-ish" });
  assert.equal(bad.isError, true);
});

test("successful Bash calls the assistant announced become (observation, decision, command) rows", (t) => {
  const { root, db, main } = setup(t);
  const say = (id: string, text: string, command: string) =>
    line({ type: "assistant", message: { role: "assistant", content: [{ type: "text", text }, { type: "tool_use", id, name: "Bash", input: { command } }] } });
  const text = readFileSync(main, "utf8");
  writeFileSync(main, text.slice(0, text.lastIndexOf("\n") + 1));
  appendFileSync(
    main,
    line({ type: "user", message: { role: "user", content: "run the integration tests against the staging database" } }) +
      say("toolu_30Bash", "The integration tests need the staging URL; I'll pass it inline.\n\nThen I'll read the summary.", `DATABASE_URL=postgres://app:${TOKEN}@staging/app npm run test:int`) +
      result("toolu_30Bash", "Tests: 41 passed, 41 total") +
      // Not announced: no decision, no triple. Failed: a pair's business, not a triple.
      bash("toolu_31Bash", "git status") +
      result("toolu_31Bash", "nothing to commit") +
      say("toolu_32Bash", "Let me build the docs.", "npm run docs") +
      result("toolu_32Bash", "Exit code 1\nsh: typedoc: not found", true),
  );

  const dry = harvest(db, { root, dryRun: true });
  assert.deepEqual(
    dry.triples.listed.map((x) => [x.decision, x.status]),
    [
      ["zod is not installed.", "new"],
      ["The integration tests need the staging URL; I'll pass it inline.", "new"],
    ],
  );
  assert.equal(dry.triples.listed[1]!.observation, "run the integration tests against the staging database");
  assert.match(dry.triples.listed[1]!.command, /npm run test:int/);
  assert.doesNotMatch(JSON.stringify(dry.triples), /ghp_/, "a report shows what the store keeps: no secret");
  assert.equal(db.prepare("SELECT count(*) FROM rows WHERE tensor = 'transcripts'").pluck().get(), 0, "a dry run stores nothing");

  const first = harvest(db, { root });
  assert.deepEqual([first.triples.found, first.triples.stored, first.triples.already], [2, 2, 0]);
  const store = new ExperienceStore(db);
  const hit = store.recall("Cannot find package 'zod' imported from src/config.js", { tensor: "transcripts", k: 1 })[0];
  assert.equal(hit?.value, "npm install zod");
  assert.equal(hit?.key, "zod is not installed.");
  const rows = JSON.stringify(store.rows("transcripts"));
  assert.doesNotMatch(rows, /ghp_/, "the secret in the command is redacted");
  assert.match(rows, /npm run test:int/);

  // The file grows: only its new triple is stored; the old ones are "already".
  appendFileSync(main, say("toolu_33Bash", "Now the linter.", "npm run lint") + result("toolu_33Bash", "0 problems"));
  const grown = harvest(db, { root });
  assert.deepEqual([grown.triples.found, grown.triples.stored, grown.triples.already], [3, 1, 2]);
  assert.equal(db.prepare("SELECT count(*) FROM rows WHERE tensor = 'transcripts'").pluck().get(), 3);
});
