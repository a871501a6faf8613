/**
 * The database: opening it (creating the private data directory, the driver, redaction of every
 * bound parameter), its schema migrations, and the damaged-database marker that doctor reads.
 *
 * One file: the migrations are one append-only list, and opening, migrating and marking a database
 * damaged must agree on it.
 */
import type Database from "better-sqlite3";
import { createRequire } from "node:module";
import { accessSync, chmodSync, constants, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync, type Stats } from "node:fs";
import { join } from "node:path";
import { redactStored } from "./redact.js";

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

/** An error about the store whose message is already the sentence the user needs. */
export class StoreError extends Error {
  override name = "StoreError";
}

/**
 * Create the data directory private to the user (0700), whatever the umask. An existing one only
 * loses group and other bits: its owner's bits are theirs (a directory made read-only on purpose
 * stays so), and a directory we may not chmod (not ours, a read-only mount) is used as it is.
 */
export function ensureHome(home: string): void {
  const found = statIfAny(home);
  if (found && !found.isDirectory()) {
    throw new StoreError(`The data directory ${home} is a file, not a directory: move that file away, or set EXPERIENCE_MCP_HOME (or --home) to a directory.`);
  }
  if (!found) {
    try {
      mkdirSync(home, { recursive: true, mode: 0o700 });
      chmodSync(home, 0o700);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "EEXIST" || code === "ENOTDIR") {
        throw new StoreError(`Cannot create the data directory ${home}: part of that path is a file, not a directory. Set EXPERIENCE_MCP_HOME (or --home) to another directory.`);
      }
      if (code === "EACCES" || code === "EPERM" || code === "EROFS") {
        throw new StoreError(`Cannot create the data directory ${home}: its parent is not writable (${code}). Set EXPERIENCE_MCP_HOME (or --home) to a directory you can write.`);
      }
      throw err;
    }
    return;
  }
  if ((found.mode & 0o077) !== 0) {
    try {
      chmodSync(home, found.mode & 0o700);
    } catch {
      // not ours to change: `experience-mcp doctor` reports the permissions
    }
  }
}

function statIfAny(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    if ((err as NodeJS.ErrnoException).code === "ENOTDIR") {
      throw new StoreError(`The data directory ${path} is inside a file, not a directory: set EXPERIENCE_MCP_HOME (or --home) to a directory.`);
    }
    throw err;
  }
}

/** True when this process may create files in `dir`. */
export function isWritableDir(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Written next to the database when SQLite reports it damaged: every process then opens it
 * query-only, so nothing more is written to a damaged file; `experience-mcp doctor --repair`
 * removes it once a recovered copy is in place.
 */
export const DAMAGED_MARKER = "experience.db.damaged";

export function databaseFile(home: string): string {
  return join(home, "experience.db");
}

/**
 * The reason recorded when the database was found damaged, or undefined when it was not. The
 * marker names the file's inode: once that file is moved aside or replaced, the marker is stale.
 */
export function damagedReason(home: string): string | undefined {
  const marker = join(home, DAMAGED_MARKER);
  if (!existsSync(marker)) return undefined;
  let note: { inode?: number; reason?: string } = {};
  try {
    note = JSON.parse(readFileSync(marker, "utf8")) as typeof note;
  } catch {
    // unreadable or not ours: still a warning
  }
  let inode: number | undefined;
  try {
    inode = statSync(databaseFile(home)).ino;
  } catch {
    inode = undefined;
  }
  if (inode === undefined || (note.inode !== undefined && note.inode !== inode)) {
    try {
      rmSync(marker, { force: true });
    } catch {
      // read-only directory: ignored all the same
    }
    return undefined;
  }
  return note.reason ?? "damaged";
}

/** Record that the database is damaged and stop this connection from writing to it. */
export function markDamaged(home: string, reason: string, db?: Db): void {
  try {
    const marker = join(home, DAMAGED_MARKER);
    if (damagedReason(home) === undefined) {
      writeFileSync(marker, `${JSON.stringify({ at: new Date().toISOString(), inode: statSync(databaseFile(home)).ino, reason })}\n`, { mode: 0o600 });
    }
  } catch {
    // a read-only directory, or no file: this process still stops writing
  }
  try {
    if (db?.open) db.pragma("query_only = ON");
  } catch {
    // closed meanwhile
  }
}

/** SQLite's own words for a damaged file. */
export function isCorruption(err: unknown): boolean {
  const code = String((err as { code?: unknown })?.code ?? "");
  if (code.startsWith("SQLITE_CORRUPT") || code === "SQLITE_NOTADB") return true;
  return /database disk image is malformed|file is not a database/i.test(String((err as Error)?.message ?? ""));
}

export function damagedSentence(home: string, detail: string): string {
  return `The experience database ${databaseFile(home)} is damaged (${detail.split("\n")[0]!.slice(0, 200)}); nothing more is written to it. Run \`experience-mcp doctor --repair\` to recover what can be read into a new file (the damaged one is kept aside), then restart the server.`;
}

/**
 * A trigger that queues a sync op in the same transaction as the write on `fixes` (migration 9),
 * once sync is on and unless pulled ops are being applied. The op id is a random UUID (v4 shape).
 */
function syncTrigger(name: string, event: string, when: string, kind: string, row: "new" | "old", payload: string, key = `${row}.signature`): string {
  const on = "(SELECT value FROM meta WHERE key = 'sync_machine') IS NOT NULL AND (SELECT value FROM meta WHERE key = 'sync_applying') IS NULL";
  return `CREATE TRIGGER ${name} ${event}
  WHEN ${when ? `${when}\n    AND ` : ""}${on}
  BEGIN
    INSERT INTO sync_ops (id, machine, kind, signature, at, payload, pushed) VALUES (
      (SELECT substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-4' || substr(h, 14, 3) || '-a' || substr(h, 18, 3) || '-' || substr(h, 21, 12) FROM (SELECT lower(hex(randomblob(16))) AS h)),
      (SELECT value FROM meta WHERE key = 'sync_machine'), '${kind}', ${key},
      CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER),
      ${payload},
      0);
  END;`;
}

/** Migration 9's triggers on fixes (migration 10 rebuilds sync_ops and makes them again, unchanged). */
const FIX_SYNC_TRIGGERS = () => `
  ${syncTrigger("sync_fix_insert", "AFTER INSERT ON fixes", "", "fix.put", "new", FIX_PUT_PAYLOAD)}
  ${syncTrigger("sync_fix_reinforce", "AFTER UPDATE OF fix, occurrences ON fixes", "(new.occurrences <> old.occurrences OR new.fix <> old.fix)", "fix.put", "new", FIX_PUT_PAYLOAD)}
  ${syncTrigger("sync_fix_outcome", "AFTER UPDATE OF successes, failures ON fixes", "(new.successes <> old.successes OR new.failures <> old.failures)", "fix.outcome", "new", "json_object('s', new.successes - old.successes, 'f', new.failures - old.failures)")}
  ${syncTrigger("sync_fix_forget", "AFTER DELETE ON fixes", "", "fix.forget", "old", "json_object('repo', old.repo)")}
  `;

/**
 * Whether an experience row travels (migration 10): not private, in its tensor's active version
 * (training's staging copies stay local), and shared itself or in a shared tensor.
 */
const rowTravels = (r: "new" | "old"): string =>
  `${r}.private = 0 AND ${r}.version = (SELECT active_version FROM tensors WHERE name = ${r}.tensor) AND (${r}.shared = 1 OR (SELECT shared FROM tensors WHERE name = ${r}.tensor) = 1)`;
/** A row's identity across machines: its tensor and content hash (ids are per machine). */
const rowKey = (r: "new" | "old"): string => `'row ' || ${r}.tensor || ' ' || ${r}.hash`;
const ROW_PUT_PAYLOAD = "json_object('tensor', new.tensor, 'query', new.query, 'key', new.key, 'value', new.value, 'tags', new.tags, 'repo', new.repo)";

const FIX_PUT_PAYLOAD = `json_object('error_type', new.error_type, 'context', new.context, 'template', new.template, 'lines', new.lines, 'tokens', new.tokens,
        'fix', new.fix, 'structured', new.structured, 'status', new.status, 'repo', new.repo, 'names', new.names, 'traits', new.traits, 'parent', new.parent)`;

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
  // 7 (issue 10): what tells look-alike errors apart is kept per fix — the names behind the masked
  // placeholders and the distinguishing traits — a fix registered for a look-alike of another
  // becomes its sibling, and a failure reported for an error demotes the fix for errors like it.
  `
  ALTER TABLE fixes ADD COLUMN names TEXT NOT NULL DEFAULT '';
  ALTER TABLE fixes ADD COLUMN traits TEXT NOT NULL DEFAULT '';
  ALTER TABLE fixes ADD COLUMN parent TEXT NOT NULL DEFAULT '';
  CREATE TABLE fix_demotions (
    id          INTEGER PRIMARY KEY,
    signature   TEXT NOT NULL REFERENCES fixes (signature) ON DELETE CASCADE,
    -- the error the fix failed on: its template, names (newline separated) and traits (space separated)
    template    TEXT NOT NULL,
    names       TEXT NOT NULL DEFAULT '',
    traits      TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL
  );
  CREATE INDEX fix_demotions_by_signature ON fix_demotions (signature);
  `,
  // 8 (issue 15): an example from a run whose effect nothing checked is kept, marked unverified (0),
  // and training skips it unless asked; verified runs, train_model examples and demonstrations are 1.
  `
  ALTER TABLE examples ADD COLUMN verified INTEGER NOT NULL DEFAULT 1;
  `,
  // 9 (issue 12, team sync): every change to a fix becomes an op in the same transaction, by
  // trigger, once sync is on (meta 'sync_machine' set by the first sync); ops pulled from the hub
  // land in the same table (pushed NULL) and are applied with meta 'sync_applying' set, so
  // applying them queues nothing. sync_fix_clock remembers how much of the pooled remote ops a
  // fix row already holds, so re-applying is exact whatever order the ops came in.
  `
  CREATE TABLE sync_ops (
    id         TEXT PRIMARY KEY,
    machine    TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('fix.put', 'fix.outcome', 'fix.forget')),
    signature  TEXT NOT NULL,
    at         INTEGER NOT NULL,
    payload    TEXT NOT NULL,
    -- own ops: 0 until the hub has them, then 1; ops pulled from the hub: NULL
    pushed     INTEGER
  );
  CREATE INDEX sync_ops_unsent ON sync_ops (pushed) WHERE pushed = 0;
  CREATE INDEX sync_ops_by_signature ON sync_ops (signature, kind);
  CREATE TABLE sync_fix_clock (
    signature     TEXT PRIMARY KEY,
    applied_s     INTEGER NOT NULL DEFAULT 0,
    applied_f     INTEGER NOT NULL DEFAULT 0,
    applied_puts  INTEGER NOT NULL DEFAULT 0,
    text_at       INTEGER NOT NULL DEFAULT 0,
    text_id       TEXT NOT NULL DEFAULT ''
  );
  ${FIX_SYNC_TRIGGERS()}`,
  // 10 (issue 12, shared experience rows): remember {shared: true} marks a row, a shared tensor
  // shares all its rows, remember {private: true} keeps one on this machine whatever else says.
  // sync_ops loses its CHECK on kind (row ops join fix ops; the applier skips kinds it does not
  // know), rebuilt the way SQLite documents: the triggers that write it are made again after.
  `
  ALTER TABLE tensors ADD COLUMN shared INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE rows ADD COLUMN shared INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE rows ADD COLUMN private INTEGER NOT NULL DEFAULT 0;
  DROP TRIGGER sync_fix_insert;
  DROP TRIGGER sync_fix_reinforce;
  DROP TRIGGER sync_fix_outcome;
  DROP TRIGGER sync_fix_forget;
  CREATE TABLE sync_ops_v10 (
    id         TEXT PRIMARY KEY,
    machine    TEXT NOT NULL,
    kind       TEXT NOT NULL,
    -- a fix's signature, or 'row TENSOR HASH' for an experience row
    signature  TEXT NOT NULL,
    at         INTEGER NOT NULL,
    payload    TEXT NOT NULL,
    pushed     INTEGER
  );
  INSERT INTO sync_ops_v10 (rowid, id, machine, kind, signature, at, payload, pushed) SELECT rowid, id, machine, kind, signature, at, payload, pushed FROM sync_ops;
  DROP TABLE sync_ops;
  ALTER TABLE sync_ops_v10 RENAME TO sync_ops;
  CREATE INDEX sync_ops_unsent ON sync_ops (pushed) WHERE pushed = 0;
  CREATE INDEX sync_ops_by_signature ON sync_ops (signature, kind);
  ${FIX_SYNC_TRIGGERS()}
  ${syncTrigger("sync_row_insert", "AFTER INSERT ON rows", rowTravels("new"), "row.put", "new", ROW_PUT_PAYLOAD, rowKey("new"))}
  ${syncTrigger("sync_row_reinforce", "AFTER UPDATE OF hits, shared ON rows", `(new.hits <> old.hits OR new.shared <> old.shared) AND ${rowTravels("new")}`, "row.put", "new", ROW_PUT_PAYLOAD, rowKey("new"))}
  ${syncTrigger("sync_row_forget", "AFTER DELETE ON rows", rowTravels("old"), "row.forget", "old", "json_object('tensor', old.tensor)", rowKey("old"))}
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

export interface OpenOptions {
  /** Skip the migration lock when the schema is current (the hook: writes still work). */
  readonly?: boolean;
  /**
   * Open the file read-only and never migrate (`--read-only`). In a directory this process cannot
   * write, where SQLite cannot make the WAL index, a snapshot of the file is read into memory.
   */
  readOnlyFile?: boolean;
}

function driver(): typeof Database {
  DatabaseCtor ??= requireCjs("better-sqlite3") as typeof Database;
  return DatabaseCtor;
}

function driverOptions(extra: Database.Options = {}): Database.Options {
  return nativeBinding ? { timeout: 10_000, nativeBinding, ...extra } : { timeout: 10_000, ...extra };
}

/** Open (creating if needed) the experience database in WAL mode and bring its schema up to date. */
export function openDatabase(home: string, options: OpenOptions = {}): Db {
  if (options.readOnlyFile) return openReadOnly(home);
  ensureHome(home);
  const file = databaseFile(home);
  if (!isWritableDir(home)) {
    throw new StoreError(`The data directory ${home} is read-only for this user, so nothing can be stored: make it writable (chmod u+w), set EXPERIENCE_MCP_HOME to a writable directory, or start the server with --read-only to use recall and the other reading tools.`);
  }
  const damaged = damagedReason(home);
  let db: Db;
  try {
    db = new (driver())(file, driverOptions());
  } catch (err) {
    throw new StoreError(`Cannot open ${file}: ${(err as Error).message}. Check the path and its permissions, or set EXPERIENCE_MCP_HOME to another directory.`);
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
    if (damaged !== undefined) {
      // Found damaged before: read what can be read, write nothing.
      db.pragma("query_only = ON");
      return db;
    }
    if (!options.readonly) migrate(db);
    else if ((db.pragma("user_version", { simple: true }) as number) < SCHEMA_VERSION) migrate(db);
  } catch (err) {
    db.close();
    if (isCorruption(err)) {
      markDamaged(home, (err as Error).message);
      throw new StoreError(`${file} is not a usable SQLite database (${(err as Error).message}). Move it aside (or restore a backup) and restart, and experience-mcp will create a fresh one; or run \`experience-mcp doctor --repair\` to recover what can be read into a new file.`);
    }
    throw err;
  }
  return redactParameters(db);
}

/** One bound parameter as the database may see it: text redacted (JSON stays valid JSON). */
function redactParameter(v: unknown): unknown {
  if (typeof v === "string") return redactStored(v);
  if (Array.isArray(v)) return v.map(redactParameter);
  if (v !== null && typeof v === "object" && !Buffer.isBuffer(v)) {
    // Named parameters ({ fix: ..., now: ... }).
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = redactParameter(x);
    return out;
  }
  return v;
}

const STATEMENT_METHODS = ["run", "get", "all", "iterate", "bind"] as const;

/**
 * The one redaction path to the database file (issue 11): every text bound to any statement
 * this connection prepares goes through the redactor, so no caller can store a secret by
 * forgetting to redact, and lookups compare against the stored, redacted form. SQL text itself
 * carries no values (they are always bound).
 */
function redactParameters(db: Db): Db {
  const prepare = db.prepare.bind(db);
  db.prepare = ((sql: string) => {
    const st = prepare(sql);
    for (const name of STATEMENT_METHODS) {
      const method = (st as unknown as Record<string, (...a: unknown[]) => unknown>)[name]!;
      Object.defineProperty(st, name, {
        value: function (this: unknown, ...params: unknown[]) {
          return method.apply(this, params.map(redactParameter));
        },
        configurable: true,
        writable: true,
      });
    }
    return st;
  }) as Db["prepare"];
  return db;
}

function openReadOnly(home: string): Db {
  const file = databaseFile(home);
  const found = statIfAny(home);
  if (found && !found.isDirectory()) {
    throw new StoreError(`The data directory ${home} is a file, not a directory: move that file away, or set EXPERIENCE_MCP_HOME (or --home) to a directory.`);
  }
  if (!existsSync(file)) {
    throw new StoreError(`There is no experience database in ${home} yet, and --read-only does not create one: start the server once without --read-only (or point EXPERIENCE_MCP_HOME at an existing data directory).`);
  }
  let db: Db;
  try {
    db = openFileReadOnly(file);
  } catch (err) {
    if (isCorruption(err)) throw new StoreError(damagedSentence(home, (err as Error).message));
    throw err;
  }
  const version = db.pragma("user_version", { simple: true }) as number;
  if (version < SCHEMA_VERSION) {
    db.close();
    throw new StoreError(`${file} has schema version ${version}, older than this experience-mcp (${SCHEMA_VERSION}), and --read-only does not upgrade it: start the server once without --read-only.`);
  }
  db.pragma("cache_size = -65536");
  return db;
}

/**
 * Open a database file read-only without writing anything next to it. WAL needs its index file
 * (-shm) beside the database: in a directory this process may not write, a snapshot of the file is
 * read into memory instead (what the last writer checkpointed, which a clean close does).
 */
export function openFileReadOnly(file: string): Db {
  try {
    const db = new (driver())(file, driverOptions({ readonly: true, fileMustExist: true }));
    db.prepare("SELECT count(*) FROM sqlite_master").get();
    return db;
  } catch (err) {
    if (isCorruption(err)) throw err;
    let image: Buffer;
    try {
      image = readFileSync(file);
    } catch (readErr) {
      throw new StoreError(`Cannot read ${file} (${(readErr as NodeJS.ErrnoException).code ?? (readErr as Error).message}): check its permissions, or set EXPERIENCE_MCP_HOME to another directory.`);
    }
    // Bytes 18-19 say WAL; 1 = rollback journal, which a memory copy can read.
    if (image.length >= 20) image[18] = image[19] = 1;
    return new (driver())(image, driverOptions({ readonly: true }));
  }
}

/** Create the current schema in an empty database (doctor --repair builds the recovered file so). */
export function applySchema(db: Db): void {
  migrate(db);
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
