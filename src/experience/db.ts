import type Database from "better-sqlite3";
import { createRequire } from "node:module";
import { chmodSync, mkdirSync } from "node:fs";
import { join } from "node:path";

export type Db = Database.Database;

// Required on first open rather than imported: the server answers `initialize` without it.
const requireCjs = createRequire(import.meta.url);
let DatabaseCtor: typeof Database | undefined;
let nativeBinding: string | undefined;

/**
 * Open databases with this copy of better-sqlite3's JavaScript and this native addon (an absolute
 * path to better_sqlite3.node) instead of requiring the package: the hook bundle carries the
 * JavaScript, which spares the hook process resolving and loading a dozen files and `bindings`'
 * search for the addon.
 */
export function useSqliteDriver(ctor: typeof Database, addon: string): void {
  DatabaseCtor = ctor;
  nativeBinding = addon;
}

/** Create the data directory private to the user (0700), whatever the umask. */
export function ensureHome(home: string): void {
  mkdirSync(home, { recursive: true, mode: 0o700 });
  chmodSync(home, 0o700);
}

/**
 * Schema migrations, applied in order and tracked with PRAGMA user_version.
 * Append new entries; never edit one that has shipped.
 */
const MIGRATIONS: readonly string[] = [
  // 1: experience tensors with versions, FTS5 candidates, fix registry.
  `
  CREATE TABLE tensors (
    name            TEXT PRIMARY KEY,
    active_version  INTEGER NOT NULL,
    created_at      INTEGER NOT NULL
  );
  CREATE TABLE tensor_versions (
    tensor      TEXT NOT NULL,
    version     INTEGER NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('active', 'staging', 'retired')),
    created_at  INTEGER NOT NULL,
    note        TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (tensor, version)
  );
  CREATE TABLE rows (
    id          INTEGER PRIMARY KEY,
    tensor      TEXT NOT NULL,
    version     INTEGER NOT NULL,
    query       TEXT NOT NULL,
    key         TEXT NOT NULL,
    value       TEXT NOT NULL,
    tags        TEXT NOT NULL DEFAULT '[]',
    -- prefix of this row's FTS terms, naming its (tensor, version)
    scope       TEXT NOT NULL,
    -- sha256 of (query, key, value): an identical remember reinforces instead of duplicating
    hash        TEXT NOT NULL,
    hits        INTEGER NOT NULL DEFAULT 1,
    -- outcomes reported for this row (report_outcome with an id), same arithmetic as fixes
    strength    REAL NOT NULL DEFAULT 1.0,
    successes   INTEGER NOT NULL DEFAULT 0,
    failures    INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
  );
  CREATE UNIQUE INDEX rows_identity ON rows (tensor, version, hash);
  CREATE INDEX rows_by_tensor ON rows (tensor, version, id);
  -- Contentless, rowids only (detail=none): recall needs just "which rows have token t".
  -- The store indexes each row itself, every token prefixed with the row's scope (see
  -- ExperienceStore.indexRow), so one term lookup stays inside one tensor version.
  CREATE VIRTUAL TABLE rows_fts USING fts5 (
    doc, content = '', contentless_delete = 1, detail = 'none',
    tokenize = 'unicode61 remove_diacritics 0'
  );
  -- The distinct tokens of each row's query+key, apart from the wide rows table: scoring a
  -- recall candidate then touches a small, densely packed row.
  CREATE TABLE row_terms (
    id      INTEGER PRIMARY KEY,
    tokens  TEXT NOT NULL
  );
  CREATE TRIGGER rows_ad AFTER DELETE ON rows BEGIN
    DELETE FROM rows_fts WHERE rowid = old.id;
    DELETE FROM row_terms WHERE id = old.id;
  END;

  CREATE TABLE fixes (
    signature     TEXT PRIMARY KEY,
    error_type    TEXT NOT NULL,
    context       TEXT NOT NULL DEFAULT '',
    -- the masked headline (raw errors) or the hashed key (structured signatures)
    template      TEXT NOT NULL,
    -- masked diagnostic lines, newline separated: the similar match compares their words
    lines         TEXT NOT NULL DEFAULT '',
    -- distinct words of those lines, space separated
    tokens        TEXT NOT NULL DEFAULT '',
    fix           TEXT NOT NULL,
    structured    INTEGER NOT NULL DEFAULT 0,
    status        TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'candidate')),
    strength      REAL NOT NULL,
    -- decay epoch at which strength was last materialized (decay is applied lazily)
    epoch         INTEGER NOT NULL,
    successes     INTEGER NOT NULL DEFAULT 0,
    failures      INTEGER NOT NULL DEFAULT 0,
    occurrences   INTEGER NOT NULL DEFAULT 1,
    repo          TEXT NOT NULL DEFAULT '',
    -- value of meta 'fixes_rev' when the row was last written: other processes read what changed
    rev           INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
  );
  CREATE INDEX fixes_by_type ON fixes (error_type);
  CREATE INDEX fixes_by_rev ON fixes (rev);
  -- every fix ever given for a signature: re-registration reinforces, it never overwrites
  CREATE TABLE fix_history (
    id          INTEGER PRIMARY KEY,
    signature   TEXT NOT NULL REFERENCES fixes (signature) ON DELETE CASCADE,
    fix         TEXT NOT NULL,
    sample      TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL
  );
  CREATE INDEX fix_history_by_signature ON fix_history (signature, id);
  CREATE TABLE meta (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
  );
  `,
  // 2: training examples (input -> expected output for a tensor), e.g. recorded by run_harness.
  `
  CREATE TABLE examples (
    id          INTEGER PRIMARY KEY,
    tensor      TEXT NOT NULL,
    input       TEXT NOT NULL,
    expected    TEXT NOT NULL,
    source      TEXT NOT NULL CHECK (source IN ('runs', 'examples', 'trail')),
    -- the run_harness run (or other producer) that gave the example
    run_id      TEXT,
    created_at  INTEGER NOT NULL,
    -- set when a training run has consumed the example
    used_at     INTEGER
  );
  CREATE INDEX examples_unused ON examples (tensor, source, used_at, id);
  `,
  // 3: training requests (the queue the train worker drains) and the worker lock.
  `
  CREATE TABLE train_requests (
    id            TEXT PRIMARY KEY,
    tensor        TEXT NOT NULL,
    -- which examples feed the run: 'runs' | 'trail' | 'examples', NULL = all
    source        TEXT,
    backend       TEXT NOT NULL,
    gates         TEXT NOT NULL DEFAULT '{}',
    status        TEXT NOT NULL CHECK (status IN ('queued', 'running', 'deployed', 'rejected', 'failed')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    worker        TEXT,
    heartbeat_at  INTEGER,
    base_version  INTEGER,
    -- the staging version this run wrote (deployed or not)
    version       INTEGER,
    metrics       TEXT,
    gate_results  TEXT,
    error         TEXT,
    created_at    INTEGER NOT NULL,
    started_at    INTEGER,
    finished_at   INTEGER
  );
  -- at most one queued-or-running request per tensor: a second one is a duplicate
  CREATE UNIQUE INDEX train_requests_open ON train_requests (tensor) WHERE status IN ('queued', 'running');
  CREATE INDEX train_requests_by_status ON train_requests (status, created_at);
  -- the one live worker: who holds the queue and when it last said so
  CREATE TABLE train_lock (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    worker        TEXT NOT NULL,
    pid           INTEGER NOT NULL,
    heartbeat_at  INTEGER NOT NULL
  );
  -- set when a run over the example was rejected by the quality gates: later runs skip it
  ALTER TABLE examples ADD COLUMN rejected_at INTEGER;
  `,
  // 4 (hooks, harvest): failures awaiting the command that resolves them, and transcripts read.
  `
  CREATE TABLE pending_failures (
    id           INTEGER PRIMARY KEY,
    session_id   TEXT NOT NULL,
    command      TEXT NOT NULL,
    cwd          TEXT NOT NULL DEFAULT '',
    repo         TEXT NOT NULL DEFAULT '',
    error        TEXT NOT NULL,
    -- signature of the fix the hook showed for this failure, '' if none
    suggested    TEXT NOT NULL DEFAULT '',
    -- JSON array of the commands and edits made since the failure
    steps        TEXT NOT NULL DEFAULT '[]',
    created_at   INTEGER NOT NULL
  );
  CREATE INDEX pending_by_session ON pending_failures (session_id, created_at);
  -- one row per transcript file state harvested: the same file, size and mtime is read once
  CREATE TABLE harvested (
    file         TEXT NOT NULL,
    size         INTEGER NOT NULL,
    mtime_ms     INTEGER NOT NULL,
    pairs        INTEGER NOT NULL DEFAULT 0,
    harvested_at INTEGER NOT NULL,
    PRIMARY KEY (file, size, mtime_ms)
  );
  -- tool_use ids whose failure→fix pair is stored: a file that grew is re-read without duplicates
  CREATE TABLE harvested_pairs (
    tool_use_id  TEXT PRIMARY KEY,
    signature    TEXT NOT NULL,
    harvested_at INTEGER NOT NULL
  );
  `,
  // 5: experience rows remember the repository (git common dir) they were learned in, like fixes.
  `
  ALTER TABLE rows ADD COLUMN repo TEXT NOT NULL DEFAULT '';
  `,
  // 6 (openai backend): the model a tensor version answers with, e.g. a fine-tuned one; NULL = the configured model.
  `
  ALTER TABLE tensor_versions ADD COLUMN model TEXT;
  `,
  // 7 (issue 15): an example from a run whose effect nothing checked is kept, marked unverified (0),
  // and training skips it unless asked; verified runs, train_model examples and demonstrations are 1.
  `
  ALTER TABLE examples ADD COLUMN verified INTEGER NOT NULL DEFAULT 1;
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

export interface OpenOptions {
  readonly?: boolean;
}

/** Open (creating if needed) the experience database in WAL mode and bring its schema up to date. */
export function openDatabase(home: string, options: OpenOptions = {}): Db {
  ensureHome(home);
  const file = join(home, "experience.db");
  let db: Db;
  try {
    DatabaseCtor ??= requireCjs("better-sqlite3") as typeof Database;
    db = new DatabaseCtor(file, nativeBinding ? { timeout: 10_000, nativeBinding } : { timeout: 10_000 });
  } catch (err) {
    throw new Error(`Cannot open ${file}: ${(err as Error).message}. Check the path and its permissions, or set EXPERIENCE_MCP_HOME to another directory.`);
  }
  try {
    db.pragma("busy_timeout = 10000");
    db.pragma("journal_mode = WAL");
    // NORMAL is durable across process crashes in WAL mode (only an OS crash can lose the last commits).
    db.pragma("synchronous = NORMAL");
    db.pragma("foreign_keys = ON");
    // Recall reads scattered rows; a larger cache and memory-mapped reads keep them off syscalls.
    db.pragma("cache_size = -65536");
    db.pragma("mmap_size = 1073741824");
    if (!options.readonly) migrate(db);
    else if ((db.pragma("user_version", { simple: true }) as number) < SCHEMA_VERSION) migrate(db);
  } catch (err) {
    db.close();
    const message = (err as Error).message;
    if (/not a database|malformed|corrupt/i.test(message)) {
      throw new Error(`${file} is not a usable SQLite database (${message}). Move it aside (or restore a backup) and restart; experience-mcp will create a fresh one.`);
    }
    throw err;
  }
  return db;
}

function migrate(db: Db): void {
  // BEGIN IMMEDIATE takes the write lock first, so two processes starting together migrate once.
  const run = db.transaction(() => {
    const current = db.pragma("user_version", { simple: true }) as number;
    if (current > MIGRATIONS.length) {
      throw new Error(`experience.db has schema version ${current}, newer than this experience-mcp (${MIGRATIONS.length}); upgrade experience-mcp`);
    }
    for (let v = current; v < MIGRATIONS.length; v++) {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    }
  });
  run.immediate();
}
