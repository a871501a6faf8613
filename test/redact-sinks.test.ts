// Issue 11, item 2: a corpus of secret formats (random per run) planted through every write path of
// the real built server over stdio, the hook CLI and the training worker; then every file the
// server, the hook and the worker wrote is scanned (the database with its -wal/-shm, the trail's
// git objects inflated and packed ones through git, captures, casts, training files, logs): no
// planted secret may be found in any of them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { inflateSync } from "node:zlib";
import Database from "better-sqlite3";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { bashFailure } from "./hook-events.js";
import { corpusSeed, needles, secretCorpus, type SecretItem } from "./secret-corpus.js";
import { CLI, serverEnv, spawnClient } from "./spawn.js";
import { tempHome } from "./temp.js";
import { TmuxCli } from "../src/tmux/tmux.js";

const SESSION = "leaky";
const text = (r: CallToolResult) => r.content.map((c) => (c.type === "text" ? c.text : "")).join("\n");

async function ok<T = Record<string, unknown>>(client: Client, name: string, args: Record<string, unknown>): Promise<T> {
  const r = (await client.callTool({ name, arguments: args }, undefined, { timeout: 180_000 })) as CallToolResult;
  if (r.isError) throw new Error(`${name} failed: ${text(r).slice(0, 500)}`);
  return r.structuredContent as T;
}

/** Files under `dir`, recursively, except the paths `skip` says to leave out. */
function walk(dir: string, skip: (path: string) => boolean, out: string[] = []): string[] {
  for (const d of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, d.name);
    if (skip(path)) continue;
    if (d.isDirectory()) walk(path, skip, out);
    else if (d.isFile()) out.push(path);
  }
  return out;
}

/** Every readable form of a file: itself, and inflated when it is a loose git object. */
function contents(path: string): Buffer {
  const raw = readFileSync(path);
  if (/[/\\]\.(?:trail\.)?git[/\\]objects[/\\][0-9a-f]{2}[/\\][0-9a-f]{38}$/.test(path)) return Buffer.concat([raw, inflateSync(raw)]);
  return raw;
}

interface Leak {
  where: string;
  format: string;
  needle: string;
}

function scan(blobs: ReadonlyArray<readonly [string, Buffer | string]>, corpus: readonly SecretItem[]): Leak[] {
  const leaks: Leak[] = [];
  for (const [where, blob] of blobs) {
    const hay = (typeof blob === "string" ? blob : blob.toString("latin1")).toLowerCase();
    const utf8 = typeof blob === "string" ? hay : blob.toString("utf8").toLowerCase();
    for (const item of corpus) {
      for (const n of needles(item)) {
        if (hay.includes(n) || utf8.includes(n)) {
          leaks.push({ where, format: item.format, needle: n });
          break;
        }
      }
    }
  }
  return leaks;
}

/** Split texts into groups of at most `max` characters (joined by newlines). */
function groups(texts: readonly string[], max: number): string[] {
  const out: string[] = [];
  let cur = "";
  for (const t of texts) {
    if (cur && cur.length + t.length + 1 > max) {
      out.push(cur);
      cur = "";
    }
    cur = cur ? `${cur}\n${t}` : t;
  }
  if (cur) out.push(cur);
  return out;
}

test("planted through every write path, no secret of the corpus reaches the disk", { timeout: 600_000 }, async (t) => {
  const seed = corpusSeed();
  const corpus = secretCorpus(seed);
  t.diagnostic(`secret corpus: ${corpus.length} formats, seed ${seed} (rerun with SECRET_CORPUS_SEED=${seed})`);
  assert.ok(corpus.length >= 60);

  const { home, cleanup } = tempHome("xmcp-redact-sinks-");
  const socket = `xmcp-spawn-${process.pid}`;
  t.after(async () => {
    await new TmuxCli({ socket }).killServer();
    if (process.env.REDACT_SINKS_KEEP) t.diagnostic(`kept ${home}`);
    else cleanup();
  });
  const env = { EXPERIENCE_MCP_LOG: "debug" };
  const { client, stderr } = await spawnClient(home, [], env);
  let closed = false;
  t.after(async () => {
    if (!closed) await client.close();
  });

  // 1. remember: query, key, value and tags.
  const short = corpus.filter((i) => i.text.length <= 64 && !i.text.includes("\n"));
  for (const item of corpus) {
    await ok(client, "remember", { query: item.text, key: `when ${item.text}`, value: `use ${item.text}`, tags: ["t", ...short.slice(0, 31).map((s) => s.text)] });
  }

  // 2. register_fix: error, fix, context, signature_fields; then report_outcome on it and on a row.
  let signature = "";
  for (const item of corpus) {
    const context = item.text.length <= 200 ? item.text : "deploy";
    const r = await ok<{ signature: string }>(client, "register_fix", { error: `Error: authentication failed\n${item.text}`, fix: item.text, context });
    signature ||= r.signature;
    // Labels are bounded at 200 characters: a longer secret (a PEM block) goes in as its first line.
    const label = item.text.length <= 200 ? item.text : item.text.split("\n")[0]!.slice(0, 200);
    await ok(client, "register_fix", {
      signature_fields: { severity: "major", error_type: "E_AUTH", context: label, categories: [label, "auth"] },
      fix: `retry with ${item.text}`,
    });
  }
  await ok(client, "report_outcome", { signature, success: false });
  const recalled = await ok<{ results: Array<{ kind: string; id?: number }> }>(client, "recall", { query: corpus[0]!.text });
  const row = recalled.results.find((r) => r.id !== undefined);
  assert.ok(row, "recall finds a remembered row");
  await ok(client, "report_outcome", { id: row.id, success: true });

  // 3. train_model examples: the examples table, then the worker the server starts writes
  //    training/<id>/batch.jsonl, its manifest and worker.log.
  const train = await ok<{ request_id: string }>(client, "train_model", {
    tensor: "default",
    examples: corpus.map((i) => ({ input: `task: ${i.text}`, expected: i.text })),
  });
  let status = "queued";
  for (let i = 0; i < 240 && (status === "queued" || status === "running"); i++) {
    await new Promise((r) => setTimeout(r, 500));
    status = (await ok<{ status: string }>(client, "training_status", { request_id: train.request_id })).status;
  }
  assert.ok(["deployed", "rejected", "failed"].includes(status), `training ended: ${status}`);

  // 4. send_text: the corpus typed into a heredoc (captures, commit subjects, the cast, and the
  //    file it writes in the workspace, which the trail records); a secret:true password read by
  //    `read` and echoed back; send_keys on the screen that shows it.
  await ok(client, "tmux_session", { action: "create", session: SESSION });
  for (const [i, chunk] of groups(corpus.map((c) => c.text), 3500).entries()) {
    await ok(client, "send_text", { session: SESSION, text: `cat >${i ? ">" : ""} secrets.env <<'EOF'\n${chunk}\nEOF`, enter: true });
  }
  const password = `Pw${randomBytes(10).toString("hex")}`; // nothing but its owner can tell it is a secret
  const typedSecret: SecretItem = { format: "send_text secret:true", text: password, core: password };
  await ok(client, "send_text", { session: SESSION, text: "read PW", enter: true });
  const secretRun = await ok<{ chunks: string[] }>(client, "send_text", { session: SESSION, text: password, secret: true, enter: true });
  assert.deepEqual(secretRun.chunks, [`<secret: 16 chars>`, `<secret: ${password.length - 16} chars>`], "typed in two chunks, shown as placeholders");
  await ok(client, "send_text", { session: SESSION, text: 'echo "got $PW"', enter: true });
  await ok(client, "send_keys", { session: SESSION, keys: ["Enter"] });
  const screen = await ok<{ text?: string; screen?: string }>(client, "capture_pane", { session: SESSION });
  assert.match(JSON.stringify(screen), /got /, "the echo ran");

  // 5. run_harness (offline): the task holds a secret; a successful run records examples.
  const token = corpus.find((c) => c.format === "github classic pat")!;
  const run = await ok<{ success: boolean; recorded: number }>(client, "run_harness", {
    task: `print the text "${token.core}"`,
    llm: "off",
    time_limit_s: 60,
  });
  assert.ok(run.success, "the harness run succeeded");

  // 6. The hook CLI, fed PostToolUseFailure events: pending_failures.
  const project = join(home, "project");
  mkdirSync(project);
  for (const item of corpus.filter((c) => !c.text.includes("\n"))) {
    const event = bashFailure("hook-session", project, item.text, `Exit code 1\nerror: ${item.text}`);
    const r = spawnSync(process.execPath, [CLI, "hook"], { env: serverEnv(home, env), input: JSON.stringify(event), encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(scan([["hook stderr", r.stderr]], corpus).length, 0, "hook stderr");
  }

  // 7. harvest: a Claude Code transcript whose failure and fix hold secrets, and the trail.
  const root = join(home, "transcripts-input");
  const sid = "9a1b2c3d-0000-4000-8000-00000000abcd";
  mkdirSync(join(root, "-home-dev-app"), { recursive: true });
  const line = (o: Record<string, unknown>) => JSON.stringify({ sessionId: sid, cwd: "/home/dev/app", timestamp: "2026-11-20T11:00:00.000Z", ...o });
  const bash = (id: string, command: string) => line({ type: "assistant", message: { role: "assistant", content: [{ type: "tool_use", id, name: "Bash", input: { command } }] } });
  const result = (id: string, content: string, isError = false) => line({ type: "user", message: { role: "user", content: [{ type: "tool_result", tool_use_id: id, content, is_error: isError }] } });
  const transcript: string[] = [];
  for (const [i, item] of corpus.filter((c) => !c.text.includes("\n")).entries()) {
    transcript.push(
      bash(`f${i}`, `npm test -- --grep case${i}`),
      result(`f${i}`, `Exit code 1\nError [ERR_MODULE_NOT_FOUND]: Cannot find package 'pkg${i}' imported from /srv/x/index.js\n${item.text}`, true),
      bash(`x${i}`, `${item.text} && npm install pkg${i}`),
      result(`x${i}`, "added 1 package"),
      bash(`s${i}`, `npm test -- --grep case${i}`),
      result(`s${i}`, "ok"),
    );
  }
  writeFileSync(join(root, "-home-dev-app", `${sid}.jsonl`), `${transcript.join("\n")}\n`);
  const harvested = await ok<{ pairs_stored?: number; trails?: { triples_stored?: number } }>(client, "harvest", { root });
  t.diagnostic(`harvest: ${JSON.stringify(harvested).slice(0, 300)}`);

  // What was written while the server runs: the database with its -wal and -shm.
  const all = [...corpus, typedSecret];
  const dbFiles = ["experience.db", "experience.db-wal", "experience.db-shm"].map((f) => join(home, f)).filter((f) => existsSync(f));
  assert.ok(dbFiles.some((f) => f.endsWith("-wal")), "the WAL is there to scan");
  const live = scan(dbFiles.map((f) => [`${relative(home, f)} (server running)`, readFileSync(f)] as const), all);

  await client.close();
  closed = true;

  // The paths were really taken (a scan of nothing would prove nothing).
  const db = new Database(join(home, "experience.db"), { readonly: true });
  const count = (sql: string) => (db.prepare(sql).pluck().get() as number) ?? 0;
  const taken = {
    rows: count("SELECT count(*) FROM rows"),
    fixes: count("SELECT count(*) FROM fixes"),
    examples_given: count("SELECT count(*) FROM examples WHERE source = 'examples'"),
    examples_recorded: count("SELECT count(*) FROM examples WHERE source = 'runs'"),
    pending: count("SELECT count(*) FROM pending_failures"),
    harvested: count("SELECT count(*) FROM harvested_pairs"),
    redacted_rows: count("SELECT count(*) FROM rows WHERE key LIKE '%[REDACTED:%'"),
  };
  db.close();
  t.diagnostic(`paths taken: ${JSON.stringify(taken)}`);
  for (const [k, v] of Object.entries(taken)) assert.ok(v > 0, `nothing stored through ${k}`);
  const trailGit = join(home, "trails", ".trail.git");
  const subjects = spawnSync("git", ["--git-dir", trailGit, "log", "--format=%s", "main"], { encoding: "utf8" }).stdout;
  assert.match(subjects, /<secret: \d+ chars>/, "the secret:true text is recorded as a placeholder");
  assert.ok(subjects.split("\n").length > 100, "every chunk typed is a commit");
  const trainingFiles = walk(join(home, "training"), () => false);
  assert.ok(trainingFiles.some((f) => f.endsWith("batch.jsonl")) && trainingFiles.some((f) => f.endsWith("worker.log")), trainingFiles.join(", "));
  assert.ok(statSync(join(home, "casts", `${SESSION}.cast`)).size > 1000, "the cast recorded the session");
  assert.match(readFileSync(join(home, "casts", `${SESSION}.cast`), "utf8"), /REDACTED/, "the cast went through the redactor");

  // Every file under the data directory, except what the test itself wrote as input (the
  // transcripts) and the workspace the shell wrote to (secrets.env on disk is the user's file; its
  // copy in the trail's objects is scanned).
  const workspace = join(home, "trails") + sep;
  const files = walk(home, (p) => p.startsWith(root) || p === project || (p.startsWith(workspace) && !p.startsWith(trailGit)));
  const blobs: Array<readonly [string, Buffer | string]> = files.map((f) => [relative(home, f), contents(f)] as const);
  // Packed objects (none unless git gc ran): every object, through git.
  const packed = spawnSync("git", ["--git-dir", trailGit, "cat-file", "--batch-all-objects", "--batch"], { maxBuffer: 1 << 30 });
  assert.equal(packed.status, 0);
  blobs.push(["trail objects (git cat-file --batch-all-objects)", packed.stdout]);
  blobs.push(["server stderr (EXPERIENCE_MCP_LOG=debug)", stderr()]);
  assert.ok(files.some((f) => f.includes(`${sep}objects${sep}`)), "loose objects scanned");
  t.diagnostic(`scanned ${files.length} files and ${packed.stdout.length} bytes of git objects`);

  const leaks = [...live, ...scan(blobs, all)];
  const byPlace = new Map<string, Set<string>>();
  for (const l of leaks) {
    const place = l.where.replace(/objects\/[0-9a-f]{2}\/[0-9a-f]{38}/, "objects/*");
    byPlace.set(place, (byPlace.get(place) ?? new Set()).add(l.format));
  }
  for (const [place, formats] of byPlace) t.diagnostic(`leak in ${place}: ${[...formats].join(", ")}`);
  assert.deepEqual(
    leaks.slice(0, 40).map((l) => `${l.where}: ${l.format} (${l.needle})`),
    [],
    `${leaks.length} planted secrets found on disk`,
  );
});
