// The redaction path at each sink (issue 11): database parameters, JSON kept valid, files, logs,
// values remembered from send_text, typed chunks and asciicast lines.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { openDatabase } from "../src/storage/db.js";
import { forgetRememberedSecrets, isSecretName, redact, redactFileText, redactStored, redactValue, rememberSecret } from "../src/storage/redact.js";
import { addLogSink, log } from "../src/log.js";
import { CastRecorder } from "../src/trail/cast.js";
import { chunkText } from "../src/tmux/chunk.js";
import { typedRecord } from "../src/tmux/typed-record.js";
import { tempHome } from "./temp.js";

const token = () => `ghp_${Math.random().toString(36).slice(2, 12).padEnd(10, "x")}${"A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5"}`.slice(0, 40);

test("isSecretName: names that hold secrets, and names that only describe them", () => {
  for (const n of ["DB_PASSWORD", "DB_PASS", "MYSQL_PWD", "SECRET_KEY_BASE", "apiKey", "AccountKey", "client-secret", "PGPASSWORD", "GITHUB_PAT", "BASIC_AUTH", "dbPassword", "GOOGLE_CREDENTIALS", "x_token"]) {
    assert.ok(isSecretName(n), n);
  }
  for (const n of ["PWD", "OLDPWD", "PATH", "max_tokens", "tokenizer", "token_type", "PASSWORD_MIN_LENGTH", "TOKEN_URL", "cache_key", "PUBLIC_KEY", "SSH_AUTH_SOCK", "BYPASS", "secretName", "user"]) {
    assert.ok(!isSecretName(n), n);
  }
});

test("redactStored: JSON stays valid JSON, a secret-named key loses its whole value, clean JSON is untouched", () => {
  const pat = token();
  const json = JSON.stringify({ cmd: `export DB_PASS="a\\"b" && echo ${pat}`, nested: [{ dbPassword: "correct horse" }], n: 1, ok: true });
  const out = redactStored(json);
  const parsed = JSON.parse(out) as { cmd: string; nested: Array<{ dbPassword: string }>; n: number };
  assert.ok(!out.includes(pat) && !out.includes("correct horse"), out);
  assert.equal(parsed.nested[0]!.dbPassword, "[REDACTED:secret-field]");
  assert.equal(parsed.n, 1);
  const clean = '{ "a": [1, 2],  "b": "text" }';
  assert.equal(redactStored(clean), clean, "unchanged JSON keeps its formatting");
  assert.equal(redactStored(`{"broken": "${pat}"`), redact(`{"broken": "${pat}"`), "not JSON: the patterns");
  assert.deepEqual(redactValue({ api_key: "${API_KEY}", token: null }), { api_key: "${API_KEY}", token: null }, "placeholders stay");
});

test("redactFileText: JSON Lines stay one valid object per line", () => {
  const pat = token();
  const text = `${JSON.stringify({ input: `t ${pat}`, expected: "x" })}\n${JSON.stringify({ secret: "s3cr3t-Value" })}\n`;
  const out = redactFileText(text);
  assert.ok(!out.includes(pat) && !out.includes("s3cr3t-Value"));
  const lines = out.trimEnd().split("\n");
  assert.equal(lines.length, 2);
  for (const l of lines) JSON.parse(l);
});

test("the database redacts every bound parameter: positional, named, JSON, and lookups compare redacted forms", (t) => {
  const { home, cleanup } = tempHome("xmcp-redact-db-");
  const db = openDatabase(home);
  t.after(() => {
    db.close();
    cleanup();
  });
  const pat = token();
  db.prepare("INSERT INTO meta (key, value) VALUES (?, ?)").run("k1", `export DB_PASSWORD=Tr0ub4dor&3horse ${pat}`);
  db.prepare("INSERT INTO meta (key, value) VALUES (@key, @value)").run({ key: "k2", value: JSON.stringify({ steps: [`mysql -pS3cretPw1 db`], db_pass: "hunter22" }) });
  const rows = db.prepare("SELECT key, value FROM meta WHERE key IN ('k1', 'k2') ORDER BY key").all() as Array<{ key: string; value: string }>;
  assert.equal(rows[0]!.value, "export DB_PASSWORD=[REDACTED:env-export] [REDACTED:github-token]");
  assert.deepEqual(JSON.parse(rows[1]!.value), { steps: ["mysql -p[REDACTED:cli-password-option] db"], db_pass: "[REDACTED:secret-field]" });
  // A lookup with the clear value finds the stored (redacted) one.
  const found = db.prepare("SELECT key FROM meta WHERE value = ?").pluck().get(`export DB_PASSWORD=Tr0ub4dor&3horse ${pat}`);
  assert.equal(found, "k1");
  db.pragma("wal_checkpoint(TRUNCATE)");
  const file = readFileSync(join(home, "experience.db")).toString("latin1");
  for (const s of [pat, "3horse", "S3cretPw1", "hunter22"]) assert.ok(!file.includes(s), s);
});

test("log: the message and its detail are redacted before any sink or stderr", () => {
  const pat = token();
  const seen: string[] = [];
  const remove = addLogSink((_l, message, detail) => seen.push(`${message} ${detail}`));
  try {
    log("error", `push failed with ${pat}`, { command: "curl -u admin:hunter22 https://x" });
  } finally {
    remove();
  }
  assert.equal(seen.length, 1);
  assert.ok(!seen[0]!.includes(pat) && !seen[0]!.includes("hunter22"), seen[0]);
});

test("rememberSecret: a value is scrubbed wherever it shows later, also the end of it at a screen's top", (t) => {
  t.after(forgetRememberedSecrets);
  const value = `Pw${Math.random().toString(36).slice(2, 10)}Zq9`;
  assert.equal(redact(`echo ${value}`), `echo ${value}`, "unknown: nothing says it is a secret");
  rememberSecret(value);
  assert.equal(redact(`got ${value}\n$ `), "got [REDACTED:typed-secret]\n$ ");
  assert.equal(redact(`${value.slice(3)}\n$ ls`), "[REDACTED:typed-secret]\n$ ls", "a wrapped line scrolled off");
  rememberSecret("abc");
  assert.equal(redact("abc abc"), "abc abc", "values under 4 characters are not searched for");
});

test("typedRecord: chunk payloads joined give the redacted text; secret:true records placeholders; half-typed secrets are scrubbed", (t) => {
  t.after(forgetRememberedSecrets);
  const pat = token();
  const text = `export GH_TOKEN=${pat} && gh repo list`;
  const chunks = chunkText(text);
  const r = typedRecord(text, chunks, false);
  assert.equal(r.payloads.length, chunks.length, "one payload per commit");
  assert.equal(r.payloads.join(""), redact(text));
  for (const p of r.payloads) assert.ok(!p.includes(pat.slice(4, 14)) && !p.includes(pat.slice(-10)), p);
  // After the chunk that ends inside the token, the screen shows its start: that part is scrubbed.
  const inside = chunks.findIndex((_c, i) => chunks.slice(0, i + 1).join("").length > text.indexOf(pat) + 4);
  assert.ok(r.scrub(inside).some((s) => pat.startsWith(s) && s.length >= 4), JSON.stringify(r.scrub(inside)));

  const pw = `Pw${Math.random().toString(36).slice(2, 12)}!x7`;
  const s = typedRecord(pw, chunkText(pw), true);
  assert.deepEqual(s.payloads, chunkText(pw).map((c) => `<secret: ${c.length} chars>`));
  assert.equal(redact(`$ ${pw}`), "$ [REDACTED:typed-secret]", "remembered for later screens");
});

test("CastRecorder: a secret echoed across output events is redacted; clean lines keep their events", (t) => {
  const { home, cleanup } = tempHome("xmcp-redact-cast-");
  t.after(cleanup);
  const path = join(home, "s.cast");
  const cast = new CastRecorder(path, { width: 80, height: 24 }, true);
  const pat = token();
  cast.output("$ ls\r\n");
  cast.output("a b\r\n$ ");
  for (const piece of [`export GH_TOKEN=${pat.slice(0, 9)}`, pat.slice(9, 25), `${pat.slice(25)}\r\n`]) cast.output(piece);
  cast.output("$ partial line without end");
  cast.close();
  const lines = readFileSync(path, "utf8").trimEnd().split("\n").slice(1);
  const events = lines.map((l) => JSON.parse(l) as [number, string, string]);
  const all = events.map((e) => e[2]).join("");
  assert.ok(!all.includes(pat.slice(4, 14)) && !all.includes(pat.slice(-10)), all);
  assert.match(all, /export GH_TOKEN=\[REDACTED:/);
  assert.ok(all.endsWith("$ partial line without end"), "close writes what was held");
  assert.equal(events[0]![2], "$ ls\r\n", "a clean line is written as it came");
  for (let i = 1; i < events.length; i++) assert.ok(events[i]![0] >= events[i - 1]![0], "times never go back");
});
