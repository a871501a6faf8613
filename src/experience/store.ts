/**
 * The experience store: tensors with versions, their rows (query, key → value) with strength, and
 * recall over a version's rows (candidates from FTS5 postings, then exact scoring).
 *
 * One file: ExperienceStore's writes and its recall share the version scopes and the postings the
 * writes maintain; tokenizing and export/import already live in tokenize.ts and interop.ts.
 */
import { createHash } from "node:crypto";
import type Database from "better-sqlite3";
import type { Db } from "../storage/db.js";
import { redactSecrets } from "../storage/redact.js";
import { jaccard, tokenSet } from "./tokenize.js";
import { STRENGTH } from "../storage/strength.js";

export interface ExperienceRow {
  id: number;
  tensor: string;
  version: number;
  query: string;
  key: string;
  value: string;
  tags: string[];
  hits: number;
  strength: number;
  successes: number;
  failures: number;
  created_at: number;
  updated_at: number;
  /** The repository the row was learned in ("" when unknown); absent where a caller built the row. */
  repo?: string;
}

/** Which rows `listRows` returns: those of active versions, newest first. */
export interface RowFilter {
  tensor?: string;
  repo?: string;
  /** Only rows written (or reinforced) at or after this time, in ms. */
  since?: number;
  minStrength?: number;
  limit?: number;
  offset?: number;
}

export interface NewRow {
  query: string;
  key: string;
  value: string;
  tags?: readonly string[];
  /** The repository (git common dir) the row was learned in; "" when unknown. */
  repo?: string;
  /** Team sync (issue 12): the row travels to the team even if its tensor is not shared. */
  shared?: boolean;
  /** The row never leaves this machine, even in a shared tensor (wins over shared). */
  private?: boolean;
}

export interface RecallExplain {
  /** Distinct query tokens that the row also has. */
  shared: string[];
  query_tokens: number;
  row_tokens: number;
  formula: string;
}

export interface RecallHit {
  id: number;
  tensor: string;
  score: number;
  query: string;
  key: string;
  value: string;
  explain?: RecallExplain;
}

export interface RecallOptions {
  tensor?: string;
  /** Read this version of `tensor` instead of the active one (training evaluates staging versions this way). */
  version?: number;
  k?: number;
  explain?: boolean;
  /** The caller's repository: among equal scores its rows come first. */
  repo?: string;
  /** "repo": only rows learned in `repo`; "global" (default): every row, `repo`'s first on ties. */
  scope?: "global" | "repo";
  /** Tensors left out when no `tensor` is named (recall leaves harness modules' own tensors out by default). */
  exclude?: ReadonlySet<string>;
  /** Rows scoring below this are not returned (default 0: every row that shares a token). */
  minScore?: number;
}

export interface VersionInfo {
  version: number;
  status: "active" | "staging" | "retired";
  created_at: number;
  note: string;
  /** The LLM this version answers with when one is configured (a fine-tuned model); null = the configured model. */
  model: string | null;
  rows: number;
}

export interface TensorInfo {
  name: string;
  active_version: number;
  rows: number;
}

/** A token found in more rows of the searched scope than this is "common": it does not pick candidates. */
export const POSTING_CAP = 250;
/** At most this many postings are read per recall, so a pasted screen costs no more than a short query. */
export const POSTINGS_BUDGET = 8000;
/** How many candidate rows are scored exactly. */
export const CANDIDATES = 150;
/** Rows tied with the last candidate are kept up to this many. */
export const MAX_CANDIDATES = 300;
/** Query tokens beyond this many (distinct) are ignored. */
export const MAX_QUERY_TOKENS = 64;

type RawRow = Omit<ExperienceRow, "tags"> & { tags: string; scope: string; hash?: string; shared?: number; private?: number };

function rowHash(query: string, key: string, value: string): string {
  // Length-prefixed so ("a b", "c") and ("a", "b c") differ.
  return createHash("sha256").update(`${query.length}:${query}\u0000${key.length}:${key}\u0000${value}`).digest("hex");
}

/**
 * The prefix of a tensor version's FTS terms: "s", 8 hex digits, "x". Letters and digits only, so
 * the FTS tokenizer keeps prefix+token as one term; the "x" (not a hex digit) ends the prefix, so
 * no two (scope, token) pairs give the same term.
 */
export function scopePrefix(tensor: string, version: number): string {
  return `s${createHash("sha256").update(`${tensor}\u0000${version}`).digest("hex").slice(0, 8)}x`;
}

function toRow(r: RawRow): ExperienceRow {
  const { scope: _scope, hash: _hash, shared: _shared, private: _private, tags, ...rest } = r;
  return { ...rest, tags: JSON.parse(tags) as string[] };
}

/** A tensor that cannot be rolled back; the message says why (the caller's to fix). */
export class RollbackError extends Error {
  override name = "RollbackError";
}

/** Experience tensors: named tables of (query, key, value) rows with versions, in SQLite. */
export class ExperienceStore {
  private readonly st: {
    tensor: Database.Statement<[string], { active_version: number }>;
    activeTensors: Database.Statement<[], { name: string; active_version: number }>;
    insertTensor: Database.Statement<[string, number, number]>;
    insertVersion: Database.Statement<[string, number, string, number, string]>;
    byHash: Database.Statement<[string, number, string], { id: number; tags: string }>;
    reinforce: Database.Statement<[string, number, number, number, number]>;
    insertRow: Database.Statement<[string, number, string, string, string, string, string, string, string, number, number, number, number]>;
    repoOf: Database.Statement<[number], string>;
    index: Database.Statement<[number, string]>;
    terms: Database.Statement<[number, string]>;
    postings: Database.Statement<[string, number], number>;
    candidate: Database.Statement<[number], string>;
    full: Database.Statement<[number], RawRow>;
    deleteRow: Database.Statement<[number]>;
  };

  constructor(private readonly db: Db) {
    this.st = {
      tensor: db.prepare("SELECT active_version FROM tensors WHERE name = ?"),
      activeTensors: db.prepare("SELECT name, active_version FROM tensors ORDER BY name"),
      insertTensor: db.prepare("INSERT INTO tensors (name, active_version, created_at) VALUES (?, ?, ?)"),
      insertVersion: db.prepare("INSERT INTO tensor_versions (tensor, version, status, created_at, note) VALUES (?, ?, ?, ?, ?)"),
      byHash: db.prepare("SELECT id, tags FROM rows WHERE tensor = ? AND version = ? AND hash = ?"),
      // Marks only add up: a row once private stays private, once shared stays shared.
      reinforce: db.prepare("UPDATE rows SET hits = hits + 1, tags = ?, updated_at = ?, shared = max(shared, ?), private = max(private, ?) WHERE id = ?"),
      insertRow: db.prepare(
        "INSERT INTO rows (tensor, version, query, key, value, tags, scope, hash, repo, created_at, updated_at, shared, private) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      ),
      index: db.prepare("INSERT INTO rows_fts (rowid, doc) VALUES (?, ?)"),
      repoOf: db.prepare<[number], string>("SELECT repo FROM rows WHERE id = ?").pluck(),
      terms: db.prepare("INSERT INTO row_terms (id, tokens) VALUES (?, ?)"),
      // rowid order = insertion order, so a capped read is deterministic
      postings: db.prepare<[string, number], number>("SELECT rowid FROM rows_fts WHERE rows_fts MATCH ? ORDER BY rowid LIMIT ?").pluck(),
      candidate: db.prepare<[number], string>("SELECT tokens FROM row_terms WHERE id = ?").pluck(),
      full: db.prepare("SELECT * FROM rows WHERE id = ?"),
      deleteRow: db.prepare("DELETE FROM rows WHERE id = ?"),
    };
  }

  activeVersion(tensor: string): number | undefined {
    return this.st.tensor.get(tensor)?.active_version;
  }

  /** The active version of `tensor`, creating the tensor (version 1) if it does not exist. Call inside a transaction. */
  private ensureTensor(tensor: string, now: number): number {
    const existing = this.activeVersion(tensor);
    if (existing !== undefined) return existing;
    this.st.insertTensor.run(tensor, 1, now);
    this.st.insertVersion.run(tensor, 1, "active", now, "created");
    return 1;
  }

  /** Insert or reinforce one row; must run inside a write transaction. */
  private upsert(tensor: string, version: number, row: NewRow, now: number): { id: number; created: boolean } {
    const query = redactSecrets(row.query).text;
    const key = redactSecrets(row.key).text;
    const value = redactSecrets(row.value).text;
    const tags = [...new Set(row.tags ?? [])];
    const hash = rowHash(query, key, value);
    const existing = this.st.byHash.get(tensor, version, hash);
    if (existing) {
      const merged = [...new Set([...(JSON.parse(existing.tags) as string[]), ...tags])];
      this.st.reinforce.run(JSON.stringify(merged), now, Number(row.shared ?? false), Number(row.private ?? false), existing.id);
      return { id: existing.id, created: false };
    }
    const tokens = tokenSet(`${query} ${key}`);
    const scope = scopePrefix(tensor, version);
    const info = this.st.insertRow.run(tensor, version, query, key, value, JSON.stringify(tags), scope, hash, row.repo ?? "", now, now, Number(row.shared ?? false), Number(row.private ?? false));
    const id = Number(info.lastInsertRowid);
    this.st.terms.run(id, tokens.join(" "));
    this.st.index.run(id, tokens.map((t) => scope + t).join(" "));
    return { id, created: true };
  }

  /** Store a row in the tensor's active version; an identical row is reinforced, not duplicated. */
  remember(tensor: string, row: NewRow): { id: number; tensor: string; created: boolean } {
    const run = this.db.transaction(() => {
      const now = Date.now();
      const version = this.ensureTensor(tensor, now);
      return this.upsert(tensor, version, row, now);
    });
    return { ...run.immediate(), tensor };
  }

  /** Add one row to `version` of an existing tensor (a staging version in training); an identical row is reinforced. */
  addRow(tensor: string, version: number, row: NewRow): { id: number; created: boolean } {
    return this.db.transaction(() => this.upsert(tensor, version, row, Date.now())).immediate();
  }

  /** Bulk insert into the active version (or a given version) in one transaction. Returns rows created. */
  rememberMany(tensor: string, rows: readonly NewRow[], version?: number): number {
    const run = this.db.transaction(() => {
      const now = Date.now();
      const v = version ?? this.ensureTensor(tensor, now);
      let created = 0;
      for (const row of rows) if (this.upsert(tensor, v, row, now).created) created++;
      return created;
    });
    return run.immediate();
  }

  /**
   * Rows whose query/key best fit `text`, best first.
   *
   * score = |Q ∩ R| / |Q ∪ R| over distinct tokens (Q of the text, R of the row's query and key);
   * ties go to the lower row id. Scoring is exact, over candidates chosen deterministically:
   * each query token's rows are read from the FTS index (longest tokens first, at most
   * POSTING_CAP + 1 per token, POSTINGS_BUDGET in all); tokens found in ≤ POSTING_CAP rows are
   * "rare", and the CANDIDATES rows sharing the most rare tokens (and rows tied with the last of
   * them, up to MAX_CANDIDATES) are scored. When every token is
   * common, the rows read for the common tokens are the candidates. A row that shares only very
   * common words with the text can therefore be missed in a huge tensor — that is the price of a
   * bounded recall time.
   */
  recall(text: string, options: RecallOptions = {}): RecallHit[] {
    const k = options.k ?? 5;
    const queryTokens = tokenSet(text).slice(0, MAX_QUERY_TOKENS);
    if (queryTokens.length === 0) return [];

    let active: Array<{ name: string; active_version: number }>;
    if (options.tensor) {
      const v = options.version ?? this.activeVersion(options.tensor);
      if (v === undefined) return [];
      active = [{ name: options.tensor, active_version: v }];
    } else {
      active = this.st.activeTensors.all().filter((t) => !options.exclude?.has(t.name));
    }
    if (active.length === 0) return [];
    const prefixes = active.map((t) => scopePrefix(t.name, t.active_version));

    const order = [...queryTokens].sort((a, b) => b.length - a.length || (a < b ? -1 : a > b ? 1 : 0));
    const rareHits = new Map<number, number>();
    const commonHits = new Map<number, number>();
    let read = 0;
    for (const token of order) {
      if (read >= POSTINGS_BUDGET) break;
      const match = prefixes.map((p) => `"${p}${token}"`).join(" OR ");
      const ids = this.st.postings.all(match, POSTING_CAP + 1);
      read += ids.length;
      const into = ids.length <= POSTING_CAP ? rareHits : commonHits;
      for (const id of ids) into.set(id, (into.get(id) ?? 0) + 1);
    }
    const pool = rareHits.size > 0 ? rareHits : commonHits;
    // Rank by rare tokens shared, then by common tokens seen with the row (a free signal from
    // postings already read), then by id. Rows still tied with the last of the CANDIDATES are kept
    // up to MAX_CANDIDATES: cutting a tie by id would drop rows as good as the ones kept.
    const secondary = pool === rareHits ? commonHits : rareHits;
    const ranked = [...pool]
      .map(([id, n]) => [id, n * 1024 + (secondary.get(id) ?? 0)] as [number, number])
      .sort((a, b) => b[1] - a[1] || a[0] - b[0]);
    let cut = Math.min(CANDIDATES, ranked.length);
    const floor = ranked[cut - 1]?.[1];
    while (cut < ranked.length && cut < MAX_CANDIDATES && ranked[cut]![1] === floor) cut++;
    // Read the chosen rows in id order: neighbouring ids share pages.
    const candidates = ranked.slice(0, cut).sort((a, b) => a[0] - b[0]);

    const q = new Set(queryTokens);
    const scored: Array<{ id: number; score: number; shared: string[]; rowTokens: number }> = [];
    for (const [id] of candidates) {
      const tokens = this.st.candidate.get(id);
      if (tokens === undefined) continue;
      const rowTokens = tokens ? tokens.split(" ") : [];
      const { score, shared } = jaccard(q, rowTokens);
      if (score > 0 && score >= (options.minScore ?? 0)) scored.push({ id, score, shared, rowTokens: rowTokens.length });
    }
    scored.sort((a, b) => b.score - a.score || a.id - b.id);

    let chosen = scored.slice(0, k);
    if (options.repo || options.scope === "repo") {
      // The caller's repository first among equal scores (scope "repo": only its rows). Reading
      // each candidate's repo is one small lookup; a window of 4k keeps it bounded.
      const repo = options.repo ?? "";
      const window = scored.slice(0, options.scope === "repo" ? CANDIDATES : 4 * k).map((s) => ({ ...s, here: this.st.repoOf.get(s.id) === repo }));
      chosen = window
        .filter((s) => options.scope !== "repo" || s.here)
        .sort((a, b) => b.score - a.score || Number(b.here) - Number(a.here) || a.id - b.id)
        .slice(0, k);
    }

    const hits: RecallHit[] = [];
    for (const s of chosen) {
      const r = this.st.full.get(s.id);
      if (!r) continue;
      const hit: RecallHit = { id: r.id, tensor: r.tensor, score: s.score, query: r.query, key: r.key, value: r.value };
      if (options.explain) {
        hit.explain = {
          shared: s.shared,
          query_tokens: q.size,
          row_tokens: s.rowTokens,
          formula: `${s.shared.length} / (${q.size} + ${s.rowTokens} - ${s.shared.length})`,
        };
      }
      hits.push(hit);
    }
    return hits;
  }

  /**
   * Record whether a recalled row worked, with the fix registry's arithmetic: success +0.05
   * (capped at 1), failure −0.10, and a row whose strength falls below 0.01 is deleted.
   * Returns undefined when there is no such row.
   */
  reportOutcome(id: number, success: boolean): { strength: number; successes: number; failures: number; pruned: boolean } | undefined {
    const run = this.db.transaction(() => {
      const row = this.db.prepare("SELECT strength, successes, failures FROM rows WHERE id = ?").get(id) as
        | { strength: number; successes: number; failures: number }
        | undefined;
      if (!row) return undefined;
      const strength = success ? Math.min(1, row.strength + STRENGTH.success) : row.strength - STRENGTH.failure;
      const successes = row.successes + (success ? 1 : 0);
      const failures = row.failures + (success ? 0 : 1);
      if (strength < STRENGTH.prune) {
        this.st.deleteRow.run(id);
        return { strength: Math.max(0, strength), successes, failures, pruned: true };
      }
      this.db.prepare("UPDATE rows SET strength = ?, successes = ?, failures = ?, updated_at = ? WHERE id = ?").run(strength, successes, failures, Date.now(), id);
      return { strength, successes, failures, pruned: false };
    });
    return run.immediate();
  }

  /** Delete rows by id; returns how many existed. */
  forget(ids: readonly number[]): number {
    const run = this.db.transaction(() => {
      let removed = 0;
      for (const id of ids) removed += this.st.deleteRow.run(id).changes;
      return removed;
    });
    return run.immediate();
  }

  /** Every row of a tensor version (default: active), in id order. */
  rows(tensor: string, version?: number): ExperienceRow[] {
    const v = version ?? this.activeVersion(tensor);
    if (v === undefined) return [];
    const raw = this.db.prepare("SELECT * FROM rows WHERE tensor = ? AND version = ? ORDER BY id").all(tensor, v) as RawRow[];
    return raw.map(toRow);
  }

  /** One row by id, whatever its version; undefined when there is none. */
  row(id: number): ExperienceRow | undefined {
    const r = this.st.full.get(id);
    return r ? toRow(r) : undefined;
  }

  /** Rows of the active versions that pass `filter`, newest first (for people and tools that browse). */
  listRows(filter: RowFilter = {}): ExperienceRow[] {
    const where = ["r.version = t.active_version"];
    const params: Array<string | number> = [];
    if (filter.tensor !== undefined) (where.push("r.tensor = ?"), params.push(filter.tensor));
    if (filter.repo !== undefined) (where.push("r.repo = ?"), params.push(filter.repo));
    if (filter.since !== undefined) (where.push("r.updated_at >= ?"), params.push(filter.since));
    if (filter.minStrength !== undefined) (where.push("r.strength >= ?"), params.push(filter.minStrength));
    params.push(filter.limit ?? -1, filter.offset ?? 0);
    const raw = this.db
      .prepare(`SELECT r.* FROM rows r JOIN tensors t ON t.name = r.tensor WHERE ${where.join(" AND ")} ORDER BY r.updated_at DESC, r.id DESC LIMIT ? OFFSET ?`)
      .all(...params) as RawRow[];
    return raw.map(toRow);
  }

  listTensors(): TensorInfo[] {
    return this.db
      .prepare(
        `SELECT t.name, t.active_version, (SELECT count(*) FROM rows r WHERE r.tensor = t.name AND r.version = t.active_version) AS rows
         FROM tensors t ORDER BY t.name`,
      )
      .all() as TensorInfo[];
  }

  // ---- versions (training writes a staging version, deploy switches the active pointer) ----------

  /**
   * Share a tensor with the team (issue 12): its active rows, and those written later, travel
   * (private rows excepted). Unsharing stops new rows; rows already sent stay with the team.
   * Returns false when there is no such tensor.
   */
  setShared(tensor: string, shared: boolean): boolean {
    return this.db
      .transaction(() => {
        if (this.db.prepare("UPDATE tensors SET shared = ? WHERE name = ?").run(Number(shared), tensor).changes === 0) return false;
        // Marking the rows queues them (the sync triggers of migration 10).
        if (shared) this.db.prepare("UPDATE rows SET shared = 1 WHERE tensor = ? AND version = (SELECT active_version FROM tensors WHERE name = ?) AND private = 0").run(tensor, tensor);
        return true;
      })
      .immediate();
  }

  /** Every version of a tensor, newest first, with its row count. */
  versions(tensor: string): VersionInfo[] {
    return this.db
      .prepare(
        `SELECT v.version, v.status, v.created_at, v.note, v.model,
                (SELECT count(*) FROM rows r WHERE r.tensor = v.tensor AND r.version = v.version) AS rows
         FROM tensor_versions v WHERE v.tensor = ? ORDER BY v.version DESC`,
      )
      .all(tensor) as VersionInfo[];
  }

  /**
   * A new staging version holding a copy of the active version's rows (counters and strength
   * included). Invisible to recall until deployed. Returns its number.
   */
  createStaging(tensor: string, note: string): number {
    const run = this.db.transaction(() => {
      const active = this.activeVersion(tensor);
      if (active === undefined) throw new Error(`unknown tensor ${tensor}`);
      // Numbers are never reused, even after a dropped staging version: a version names one content.
      const max = this.db.prepare("SELECT max(version) AS v FROM tensor_versions WHERE tensor = ?").get(tensor) as { v: number };
      const metaKey = `last_version:${tensor}`;
      const last = this.db.prepare("SELECT value FROM meta WHERE key = ?").pluck().get(metaKey) as string | undefined;
      const version = Math.max(max.v, Number(last ?? 0)) + 1;
      this.db.prepare("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(metaKey, String(version));
      const now = Date.now();
      this.st.insertVersion.run(tensor, version, "staging", now, note);
      // The staging version answers with the active one's model until a backend sets another.
      this.db.prepare("UPDATE tensor_versions SET model = (SELECT model FROM tensor_versions WHERE tensor = ? AND version = ?) WHERE tensor = ? AND version = ?").run(tensor, active, tensor, version);
      const scope = scopePrefix(tensor, version);
      const copy = this.db.prepare(
        `INSERT INTO rows (tensor, version, query, key, value, tags, scope, hash, hits, strength, successes, failures, repo, created_at, updated_at, shared, private)
         SELECT tensor, ?, query, key, value, tags, ?, hash, hits, strength, successes, failures, repo, created_at, updated_at, shared, private FROM rows WHERE id = ?`,
      );
      for (const row of this.db.prepare("SELECT id FROM rows WHERE tensor = ? AND version = ? ORDER BY id").pluck().all(tensor, active) as number[]) {
        const id = Number(copy.run(version, scope, row).lastInsertRowid);
        const tokens = this.st.candidate.get(row) ?? "";
        this.st.terms.run(id, tokens);
        this.st.index.run(id, tokens ? tokens.split(" ").map((t) => scope + t).join(" ") : "");
      }
      return version;
    });
    return run.immediate();
  }

  /** Replace row `id` (of a staging version) by `row`, in the same version. Returns the new row's id. */
  replaceRow(id: number, row: NewRow): number {
    const run = this.db.transaction(() => {
      const old = this.st.full.get(id);
      if (!old) throw new Error(`no row ${id}`);
      this.st.deleteRow.run(id);
      // A private row stays private when training rewrites it (and a shared one shared).
      return this.upsert(old.tensor, old.version, { ...row, shared: row.shared || old.shared === 1, private: row.private || old.private === 1 }, Date.now()).id;
    });
    return run.immediate();
  }

  /**
   * Make `version` the active version of `tensor`: the old active one becomes retired. Throws when
   * the active version is no longer `expectedActive` (someone deployed or rolled back meanwhile).
   * Runs in the caller's transaction when there is one (so a deploy can commit other state with it).
   */
  activate(tensor: string, version: number, expectedActive: number): void {
    const run = this.db.transaction(() => {
      const active = this.activeVersion(tensor);
      if (active !== expectedActive) throw new Error(`the active version of ${tensor} changed from ${expectedActive} to ${active ?? "none"} meanwhile`);
      const target = this.db.prepare("SELECT status FROM tensor_versions WHERE tensor = ? AND version = ?").get(tensor, version) as { status: string } | undefined;
      if (!target) throw new Error(`${tensor} has no version ${version}`);
      this.db.prepare("UPDATE tensor_versions SET status = 'retired' WHERE tensor = ? AND version = ?").run(tensor, active);
      this.db.prepare("UPDATE tensor_versions SET status = 'active' WHERE tensor = ? AND version = ?").run(tensor, version);
      this.db.prepare("UPDATE tensors SET active_version = ? WHERE name = ?").run(version, tensor);
    });
    run.immediate();
  }

  /** Restore the newest retired version older than the active one. Returns {from, to}; a RollbackError says why not. */
  rollback(tensor: string): { from: number; to: number } {
    const run = this.db.transaction(() => {
      const active = this.activeVersion(tensor);
      if (active === undefined) throw new RollbackError(`unknown tensor ${tensor}`);
      const prev = this.db
        .prepare("SELECT max(version) AS v FROM tensor_versions WHERE tensor = ? AND status = 'retired' AND version < ?")
        .get(tensor, active) as { v: number | null };
      if (prev.v === null) throw new RollbackError(`${tensor} has no older version to roll back to (active: ${active})`);
      this.activate(tensor, prev.v, active);
      this.db.prepare("UPDATE tensor_versions SET note = note || ' (rolled back)' WHERE tensor = ? AND version = ?").run(tensor, active);
      return { from: active, to: prev.v };
    });
    return run.immediate();
  }

  /** The model `version` (default: the active one) of `tensor` answers with; undefined = the configured model. */
  modelOf(tensor: string, version?: number): string | undefined {
    const v = version ?? this.activeVersion(tensor);
    if (v === undefined) return undefined;
    const model = this.db.prepare("SELECT model FROM tensor_versions WHERE tensor = ? AND version = ?").pluck().get(tensor, v) as string | null | undefined;
    return model ?? undefined;
  }

  /** Record the model a staging version answers with (set by the openai backend before the gates). */
  setStagingModel(tensor: string, version: number, model: string): void {
    const info = this.db.prepare("UPDATE tensor_versions SET model = ? WHERE tensor = ? AND version = ? AND status = 'staging'").run(model, tensor, version);
    if (info.changes !== 1) throw new Error(`${tensor} has no staging version ${version}`);
  }

  /** Delete a staging version and its rows (an abandoned training run). Active and retired versions are kept. */
  dropStaging(tensor: string, version: number): number {
    const run = this.db.transaction(() => {
      const info = this.db.prepare("DELETE FROM tensor_versions WHERE tensor = ? AND version = ? AND status = 'staging'").run(tensor, version);
      if (info.changes === 0) return 0;
      return this.db.prepare("DELETE FROM rows WHERE tensor = ? AND version = ?").run(tensor, version).changes;
    });
    return run.immediate();
  }

  /** Keep the `keep` newest non-staging versions (the active one always); delete older retired ones. Returns the versions deleted. */
  prune(tensor: string, keep = 3): number[] {
    const run = this.db.transaction(() => {
      const active = this.activeVersion(tensor);
      const kept = this.db
        .prepare("SELECT version FROM tensor_versions WHERE tensor = ? AND status != 'staging' ORDER BY version DESC")
        .pluck()
        .all(tensor) as number[];
      const drop = kept.slice(Math.max(1, keep)).filter((v) => v !== active);
      for (const v of drop) {
        this.db.prepare("DELETE FROM rows WHERE tensor = ? AND version = ?").run(tensor, v);
        this.db.prepare("DELETE FROM tensor_versions WHERE tensor = ? AND version = ?").run(tensor, v);
      }
      return drop;
    });
    return run.immediate();
  }
}
