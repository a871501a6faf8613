import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, statSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { openDatabase, SCHEMA_VERSION } from "../src/storage/db.js";
import { ExperienceStore } from "../src/experience/store.js";
import { tokenize, tokenSet, jaccard } from "../src/experience/tokenize.js";
import { elementPath, exportTensor, importTensor } from "../src/experience/interop.js";
import { tempHome } from "./temp.js";

function withStore(fn: (store: ExperienceStore, home: string) => void): void {
  const { home, cleanup } = tempHome();
  const db = openDatabase(home);
  try {
    fn(new ExperienceStore(db), home);
  } finally {
    db.close();
    cleanup();
  }
}

test("tokenizer: lower-cased Unicode words, CJK by character, punctuation and emoji separate", () => {
  assert.deepEqual(tokenize("Cannot find module 'Express'!"), ["cannot", "find", "module", "express"]);
  assert.deepEqual(tokenize("找不到模块 express"), ["找", "不", "到", "模", "块", "express"]);
  assert.deepEqual(tokenize("ファイルが見つかりません"), [..."ファイルが見つかりません"]);
  assert.deepEqual(tokenize("Ünïcödé café ✨ naïve"), ["ünïcödé", "café", "naïve"]);
  // NFD input matches NFC input
  assert.deepEqual(tokenize("cafe\u0301"), tokenize("caf\u00e9"));
  assert.deepEqual(tokenize("error42 v1.2.3"), ["error42", "v1", "2", "3"]);
  assert.deepEqual(tokenize("   ;;; --- "), []);
  assert.deepEqual(tokenSet("a b a c b"), ["a", "b", "c"]);
});

test("jaccard is |A∩B| / |A∪B| over distinct tokens", () => {
  const { score, shared } = jaccard(new Set(["a", "b", "c"]), ["b", "c", "d", "d"]);
  assert.equal(score, 2 / 4);
  assert.deepEqual(shared, ["b", "c"]);
  assert.equal(jaccard(new Set(), []).score, 0);
});

test("database: WAL, busy timeout, migrated schema, private data directory", () => {
  const { home, cleanup } = tempHome();
  try {
    const db = openDatabase(join(home, "nested", "data"));
    assert.equal(db.pragma("journal_mode", { simple: true }), "wal");
    assert.equal(db.pragma("user_version", { simple: true }), SCHEMA_VERSION);
    assert.ok((db.pragma("busy_timeout", { simple: true }) as number) >= 5000);
    db.close();
    assert.equal(statSync(join(home, "nested", "data")).mode & 0o777, 0o700);
    // Re-opening does not migrate again.
    const again = openDatabase(join(home, "nested", "data"));
    assert.equal(again.pragma("user_version", { simple: true }), SCHEMA_VERSION);
    again.close();
  } finally {
    cleanup();
  }
});

test("database: a corrupt file is reported with what to do", () => {
  const { home, cleanup } = tempHome();
  try {
    writeFileSync(join(home, "experience.db"), "this is not sqlite ".repeat(500));
    assert.throws(() => openDatabase(home), /not a usable SQLite database.*Move it aside/s);
  } finally {
    cleanup();
  }
});

test("database: a schema newer than this build is refused, not clobbered", () => {
  const { home, cleanup } = tempHome();
  try {
    const raw = new Database(join(home, "experience.db"));
    raw.pragma("user_version = 999");
    raw.close();
    assert.throws(() => openDatabase(home), /newer than this experience-mcp/);
  } finally {
    cleanup();
  }
});

test("remember stores, an identical row reinforces, secrets are redacted", () => {
  withStore((store) => {
    const a = store.remember("default", { query: "npm install fails", key: "EACCES permission denied", value: "use a node version manager" });
    assert.equal(a.created, true);
    const b = store.remember("default", { query: "npm install fails", key: "EACCES permission denied", value: "use a node version manager" });
    assert.deepEqual(b, { ...a, created: false });
    const rows = store.rows("default");
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.hits, 2);
    const token = "ghp_" + "A1b2C3d4".repeat(5);
    store.remember("default", { query: "push", key: `git push with ${token}`, value: "ok" });
    const stored = store.rows("default").map((r) => r.key).join("\n");
    assert.ok(!stored.includes(token), "token must not be stored");
  });
});

test("recall ranks by Jaccard, breaks ties by row id, is deterministic and explains itself", () => {
  withStore((store) => {
    const first = store.remember("t", { query: "list files", key: "show the files here", value: "ls -la" }).id;
    const second = store.remember("t", { query: "list files", key: "show the files here please", value: "ls" }).id;
    store.remember("t", { query: "count lines", key: "how many lines in a file", value: "wc -l FILE" });
    store.remember("other", { query: "list files", key: "show the files here", value: "dir" });

    const hits = store.recall("list the files here", { tensor: "t", k: 5, explain: true });
    // The third row shares no token with the text, so it is not a candidate at all.
    assert.deepEqual(hits.map((h) => h.id), [first, second]);
    // Q = {list, the, files, here}; first row R = {list, files, show, the, here}: 4 / 5
    assert.equal(hits[0]!.score, 4 / 5);
    assert.equal(hits[0]!.explain?.formula, "4 / (4 + 5 - 4)");
    assert.deepEqual(hits[0]!.explain?.shared.sort(), ["files", "here", "list", "the"]);
    // Same data, same answer.
    assert.deepEqual(store.recall("list the files here", { tensor: "t" }), store.recall("list the files here", { tensor: "t" }));
    // Without a tensor every tensor is searched; an equal score is broken by the lower id.
    const all = store.recall("show the files here", { k: 10 });
    assert.deepEqual(all.slice(0, 2).map((h) => h.tensor), ["t", "other"]);
    assert.deepEqual(store.recall("nothing matches zzz", {}), []);
    assert.deepEqual(store.recall("!!!", {}), []);
  });
});

test("recall finds CJK rows by character", () => {
  withStore((store) => {
    store.remember("zh", { query: "", key: "找不到模块", value: "npm install" });
    store.remember("zh", { query: "", key: "权限被拒绝", value: "chmod +x" });
    const hits = store.recall("错误：找不到模块 'x'", { tensor: "zh" });
    assert.equal(hits[0]?.value, "npm install");
  });
});

test("recall reads only the active version", () => {
  withStore((store, _home) => {
    store.remember("v", { query: "alpha", key: "alpha", value: "one" });
    // A staging version's rows are invisible until deployed.
    store.rememberMany("v", [{ query: "alpha", key: "alpha", value: "two" }], 2);
    assert.deepEqual(store.recall("alpha", { tensor: "v" }).map((h) => h.value), ["one"]);
  });
});

test("forget removes rows by id and reports how many existed", () => {
  withStore((store) => {
    const { id } = store.remember("default", { query: "q", key: "k", value: "v" });
    assert.equal(store.forget([id, 987654]), 1);
    assert.equal(store.forget([id]), 0);
    assert.deepEqual(store.recall("q k", {}), []);
  });
});

test("export/import round-trips the seed's on-disk tensor layout", () => {
  withStore((store, home) => {
    const rows = Array.from({ length: 12 }, (_, i) => ({ query: `q${i} words`, key: `key ${i}\nline two`, value: i === 3 ? "" : `value ${i} ✓` }));
    store.rememberMany("coder/command", rows);
    const dir = join(home, "export", "uid-1");
    const r = exportTensor(store, "coder/command", dir);
    assert.equal(r.rows, 12);
    assert.deepEqual(JSON.parse(readFileSync(join(dir, "shape"), "utf8")), [12, 3]);
    // Element 35 = 3·11 + 2 = row 11's value, stored one directory per digit.
    assert.equal(elementPath(dir, 35), join(dir, "storage", "3", "5", "data"));
    assert.equal(readFileSync(join(dir, "storage", "3", "5", "data"), "utf8"), "value 11 ✓");
    assert.equal(readFileSync(join(dir, "storage", "1", "data"), "utf8"), "key 0\nline two");

    const imported = importTensor(store, "copy", dir);
    assert.deepEqual(imported, { tensor: "copy", rows: 12, created: 12 });
    const back = store.rows("copy").map(({ query, key, value }) => ({ query, key, value }));
    assert.deepEqual(back, rows);
    // Importing again adds nothing: rows are identical.
    assert.equal(importTensor(store, "copy", dir).created, 0);
  });
});

test("import reads a tensor written by the seed (missing element files are empty)", () => {
  withStore((store, home) => {
    const dir = join(home, "seed-tensor");
    const put = (i: number, text: string) => {
      const file = elementPath(dir, i);
      mkdirSync(join(file, ".."), { recursive: true });
      writeFileSync(file, text);
    };
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "shape"), "[2, 3]");
    put(0, "greeting");
    put(1, "say hello");
    put(2, "echo hello");
    put(4, "list directory");
    put(5, "ls");
    assert.equal(existsSync(elementPath(dir, 3)), false);
    importTensor(store, "seed", dir);
    assert.deepEqual(
      store.rows("seed").map(({ query, key, value }) => [query, key, value]),
      [
        ["greeting", "say hello", "echo hello"],
        ["", "list directory", "ls"],
      ],
    );
    writeFileSync(join(dir, "shape"), "[2, 4]");
    assert.throws(() => importTensor(store, "seed", dir), /shape \[N, 3\]/);
    assert.throws(() => importTensor(store, "seed", join(home, "nope")), /no "shape" file/);
  });
});

test("recall puts the caller's repository first among equal scores; scope=repo keeps only its rows", () => {
  withStore((store) => {
    const elsewhere = store.remember("t", { query: "", key: "run the unit tests", value: "make test", repo: "/other/.git" }).id;
    const here = store.remember("t", { query: "", key: "run the unit tests", value: "npm test", repo: "/mine/.git" }).id;
    store.remember("t", { query: "", key: "run the unit tests quickly", value: "npm test -- --bail", repo: "/other/.git" });
    // Without a repository: ties by id, so the older row first.
    assert.deepEqual(store.recall("run the unit tests", { tensor: "t", k: 2 }).map((h) => h.id), [elsewhere, here]);
    // From /mine: its row first at the same score; a better score elsewhere would still win.
    assert.deepEqual(store.recall("run the unit tests", { tensor: "t", k: 2, repo: "/mine/.git" }).map((h) => h.id), [here, elsewhere]);
    assert.deepEqual(store.recall("run the unit tests", { tensor: "t", repo: "/mine/.git", scope: "repo" }).map((h) => h.value), ["npm test"]);
  });
});
