/**
 * The fix registry: error signature → fix, with strength that grows with successes, shrinks with
 * failures and decays with disuse.
 *
 * SQLite is the truth (several server processes share the file); each process keeps an in-memory
 * index over it so an exact lookup is a Map hit. The index stays coherent cheaply: every write bumps
 * a revision counter in `meta` and stamps the row with it, and before each lookup we ask SQLite for
 * `PRAGMA data_version`, which changes only when another connection committed. Only then do we read
 * the rows whose revision is newer than what we have (and, if anything was deleted, the key list).
 *
 * Decay is lazy: a row stores its strength and the epoch it was computed at; the strength now is
 * the closed form of `s ← s·0.97 − 0.001` applied once per elapsed epoch. Nothing sweeps the table.
 */
import type { Db } from "../experience/db.js";
import { redactSecrets } from "../experience/redact.js";
import { features, normalizeError, type NormalizedError } from "./normalize.js";
import { rawSignature, SIGNATURE_RE, structuredKey, structuredSignature, type SignatureFields } from "./signature.js";

export const STRENGTH = {
  initial: 1.0,
  initialCandidate: 0.5,
  success: 0.05,
  failure: 0.1,
  reinforce: 0.05,
  decayRate: 0.97,
  decayLinear: 0.001,
  prune: 0.01,
} as const;

export const DAY_MS = 86_400_000;
/** A similar match scoring below this is not returned. */
export const MIN_SIMILAR = 0.3;
/** The longest error sample kept in fix_history. */
const SAMPLE_CHARS = 4000;

export type FixStatus = "active" | "candidate";

export interface FixMatch {
  signature: string;
  match: "exact" | "similar";
  /** Confidence 0..1: 1 for an exact match. */
  score: number;
  error_type: string;
  fix: string;
  strength: number;
  successes: number;
  failures: number;
  template: string;
  context: string;
  status: FixStatus;
  /** The repository (git common dir) the fix was first learned in; "" when unknown. */
  repo: string;
}

export interface RegisterInput {
  /** Raw error output. */
  error?: string;
  /** A signature in experience-memory's terms; used instead of `error` when given. */
  signatureFields?: SignatureFields;
  fix: string;
  /** Tool or command the error came from, e.g. "tsc"; part of the signature. */
  context?: string;
  status?: FixStatus;
  /** The repository (git common dir) this happened in; kept from the first registration. */
  repo?: string;
}

/** Lookup scope: "repo" keeps only fixes learned in `repo`; "global" (default) ranks them first. */
export interface LookupOptions {
  context?: string;
  limit?: number;
  repo?: string;
  scope?: "global" | "repo";
}

export interface RegisterResult {
  signature: string;
  status: "created" | "reinforced";
  error_type: string;
  template: string;
}

export interface OutcomeResult {
  strength: number;
  successes: number;
  failures: number;
  pruned: boolean;
}

export interface HistoryEntry {
  fix: string;
  sample: string;
  created_at: number;
}

export interface FixRegistryOptions {
  /** Clock in ms (tests inject one). */
  now?: () => number;
  /** Length of a decay epoch in ms (default one day). */
  epochMs?: number;
  /**
   * Reads may serve the in-memory index for this long after it was last checked against the
   * database (default 1 ms; 0 checks on every read). Writes always read the database itself.
   */
  coherenceMs?: number;
  /**
   * Load only the fixes an error of this type can match confidently: those of the same type and
   * of the generic types (error, fatal, exit N). Between two specific types the similar score is
   * halved, so such a fix can reach 0.5 only with an identical feature set. For a one-shot reader
   * (the hook) that asks about one error: loading the whole registry grows with its size.
   * A generic type loads everything.
   */
  nearErrorType?: string;
  /**
   * For a process that looks up once and exits (the hook): no feature postings are built, and the
   * similar match scans the loaded fixes instead, with the same result. Building the postings
   * costs more than the one scan it would save.
   */
  oneShot?: boolean;
}

/** The input cannot be registered (no error text, empty fix…). The message says what to pass. */
export class FixInputError extends Error {
  override name = "FixInputError";
}

/** Unknown (or decayed away) signature. The message says how to find a valid one. */
export class FixNotFoundError extends Error {
  override name = "FixNotFoundError";
}

/** Strength after `epochs` decay steps of s ← s·r − d, in closed form: r^k·(s + d/(1−r)) − d/(1−r). */
export function decayStrength(strength: number, epochs: number): number {
  if (epochs <= 0) return strength;
  const fixedPoint = STRENGTH.decayLinear / (1 - STRENGTH.decayRate);
  return Math.pow(STRENGTH.decayRate, epochs) * (strength + fixedPoint) - fixedPoint;
}

interface Row {
  signature: string;
  error_type: string;
  context: string;
  template: string;
  lines: string;
  fix: string;
  structured: number;
  status: FixStatus;
  strength: number;
  epoch: number;
  successes: number;
  failures: number;
  occurrences: number;
  repo: string;
}

interface Entry {
  signature: string;
  error_type: string;
  context: string;
  template: string;
  lines: string[];
  features: ReadonlySet<string>;
  fix: string;
  structured: boolean;
  status: FixStatus;
  strength: number;
  epoch: number;
  successes: number;
  failures: number;
  repo: string;
}

const COLUMNS = "signature, error_type, context, template, lines, fix, structured, status, strength, epoch, successes, failures, occurrences, repo";

// A feature shared by more than this share of the entries (and more than MIN_POSTING_CAP of
// them) is too common to find candidates with: "error", "not", "cannot" would list everything.
const POSTING_SHARE = 0.05;
const MIN_POSTING_CAP = 64;
const MAX_POSTING_CAP = 500;
// How many candidates (most shared features first) get a full score.
const MAX_CANDIDATES = 1000;
// Error types that say nothing about the problem: a mismatch on them costs less.
const GENERIC_TYPE = /^(?:error|exit \d+|fatal)$/;

export class FixRegistry {
  private readonly now: () => number;
  private readonly epochMs: number;
  private readonly bySignature = new Map<string, Entry>();
  /** error_type + template → signatures (one per context). */
  private readonly byTemplate = new Map<string, Set<string>>();
  /** feature → signatures, for the similar match. */
  private readonly postings = new Map<string, Set<string>>();
  private readonly coherenceMs: number;
  private readonly nearType: string | undefined;
  private readonly oneShot: boolean;
  private checkedAt = -Infinity;
  private dataVersion = -1;
  private rev = -1;
  private deletes = -1;
  private readonly stmts;

  constructor(
    private readonly db: Db,
    options: FixRegistryOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.epochMs = options.epochMs ?? DAY_MS;
    this.coherenceMs = options.coherenceMs ?? 1;
    this.oneShot = options.oneShot === true;
    this.nearType = options.nearErrorType !== undefined && !GENERIC_TYPE.test(options.nearErrorType) ? options.nearErrorType : undefined;
    if (!(this.epochMs > 0)) throw new Error("epochMs must be a positive number of milliseconds");
    this.stmts = {
      dataVersion: db.prepare("PRAGMA data_version").pluck(),
      meta: db.prepare("SELECT value FROM meta WHERE key = ?").pluck(),
      bump: db
        .prepare("INSERT INTO meta (key, value) VALUES (?, '1') ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1 RETURNING CAST(value AS INTEGER)")
        .pluck(),
      changed: db.prepare(`SELECT ${COLUMNS} FROM fixes WHERE rev > ?`),
      // A superset of GENERIC_TYPE's types (GLOB has no "digits only"): loading more is safe.
      changedNear: db.prepare(`SELECT ${COLUMNS} FROM fixes WHERE rev > ? AND (error_type = ? OR error_type IN ('error', 'fatal') OR error_type GLOB 'exit [0-9]*')`),
      keys: db.prepare("SELECT signature FROM fixes").pluck(),
      get: db.prepare(`SELECT ${COLUMNS} FROM fixes WHERE signature = ?`),
      insert: db.prepare(
        `INSERT INTO fixes (signature, error_type, context, template, lines, tokens, fix, structured, status, strength, epoch, repo, rev, created_at, updated_at)
         VALUES (@signature, @error_type, @context, @template, @lines, @tokens, @fix, @structured, @status, @strength, @epoch, @repo, @rev, @now, @now)`,
      ),
      reinforce: db.prepare(
        `UPDATE fixes SET fix = @fix, status = @status, strength = @strength, epoch = @epoch, occurrences = occurrences + 1, rev = @rev, updated_at = @now
         WHERE signature = @signature`,
      ),
      outcome: db.prepare(
        `UPDATE fixes SET status = @status, strength = @strength, epoch = @epoch, successes = @successes, failures = @failures, rev = @rev, updated_at = @now
         WHERE signature = @signature`,
      ),
      delete: db.prepare("DELETE FROM fixes WHERE signature = ?"),
      addHistory: db.prepare("INSERT INTO fix_history (signature, fix, sample, created_at) VALUES (?, ?, ?, ?)"),
      history: db.prepare("SELECT fix, sample, created_at FROM fix_history WHERE signature = ? ORDER BY id"),
    };
    this.sync();
  }

  /** Current decay epoch. */
  epoch(): number {
    return Math.floor(this.now() / this.epochMs);
  }

  /** How many fixes the registry holds (including ones whose decay has not been written yet; with nearErrorType, those near it). */
  get size(): number {
    this.sync();
    return this.bySignature.size;
  }

  // -------------------------------------------------------------------------------------------
  // writes

  register(input: RegisterInput): RegisterResult {
    const fix = redactSecrets(input.fix.trim()).text;
    if (!fix) throw new FixInputError("fix is empty: say what resolved the error (a command, an edit, a setting)");
    let signature: string;
    let errorType: string;
    let context: string;
    let template: string;
    let lines: string[] = [];
    let sample = "";
    if (input.signatureFields) {
      const f = input.signatureFields;
      signature = structuredSignature(f);
      errorType = f.error_type;
      context = f.context;
      template = structuredKey(f);
    } else if (input.error !== undefined && input.error.trim() !== "") {
      // Redacted before normalizing, here and in lookup, so a secret never reaches the template and
      // the same output normalizes the same way on both paths.
      sample = redactSecrets(input.error).text;
      const norm: NormalizedError = normalizeError(sample);
      if (!norm.template) throw new FixInputError("the error output has no text once noise is removed: pass the lines that show the error");
      context = (input.context ?? "").trim();
      errorType = norm.error_type;
      template = norm.template;
      lines = norm.lines;
      signature = rawSignature(errorType, context, template);
      sample = sample.length > SAMPLE_CHARS ? sample.slice(0, SAMPLE_CHARS) : sample;
    } else {
      throw new FixInputError("give the raw error output (error) or the signature fields (signature_fields)");
    }
    const wanted: FixStatus = input.status ?? "active";
    const now = this.now();
    const epoch = this.epoch();

    const write = this.db.transaction((): Row & { created: boolean } => {
      let row = this.stmts.get.get(signature) as Row | undefined;
      if (row && decayStrength(row.strength, epoch - row.epoch) < STRENGTH.prune) {
        // Decayed away since it was last touched: it is gone; this registration starts afresh.
        this.stmts.delete.run(signature);
        this.stmts.bump.get("fixes_deletes");
        row = undefined;
      }
      const rev = this.stmts.bump.get("fixes_rev") as number;
      if (!row) {
        const created: Row = {
          signature,
          error_type: errorType,
          context,
          template,
          lines: lines.join("\n"),
          fix,
          structured: input.signatureFields ? 1 : 0,
          status: wanted,
          strength: wanted === "active" ? STRENGTH.initial : STRENGTH.initialCandidate,
          epoch,
          successes: 0,
          failures: 0,
          occurrences: 1,
          repo: input.repo ?? "",
        };
        this.stmts.insert.run({ ...created, tokens: features(lines).filter((f) => !f.includes(" ")).join(" "), rev, now });
        this.stmts.addHistory.run(signature, fix, sample, now);
        return { ...created, created: true };
      }
      const strength = Math.min(1, decayStrength(row.strength, epoch - row.epoch) + STRENGTH.reinforce);
      // An explicit (active) registration confirms a candidate; a candidate never demotes.
      const status: FixStatus = wanted === "active" ? "active" : row.status;
      // The newest fix is the one shown; every earlier one stays in fix_history.
      if (row.fix !== fix) this.stmts.addHistory.run(signature, fix, sample, now);
      this.stmts.reinforce.run({ signature, fix, status, strength, epoch, rev, now });
      return { ...row, fix, status, strength, epoch, occurrences: row.occurrences + 1, created: false };
    });
    const row = write.immediate();
    this.put(toEntry(row));
    return { signature, status: row.created ? "created" : "reinforced", error_type: errorType, template };
  }

  /** Success: +0.05 (cap 1), a candidate becomes active. Failure: −0.10. Below 0.01 the fix is deleted. */
  reportOutcome(signature: string, success: boolean): OutcomeResult {
    const now = this.now();
    const epoch = this.epoch();
    type Outcome = { kind: "missing" } | { kind: "expired"; strength: number } | { kind: "ok"; row: Row; pruned: boolean };
    const write = this.db.transaction((): Outcome => {
      const row = this.stmts.get.get(signature) as Row | undefined;
      if (!row) return { kind: "missing" };
      const decayed = decayStrength(row.strength, epoch - row.epoch);
      if (decayed < STRENGTH.prune) {
        this.deleteRow(signature);
        return { kind: "expired", strength: decayed };
      }
      const strength = success ? Math.min(1, decayed + STRENGTH.success) : decayed - STRENGTH.failure;
      const next: Row = {
        ...row,
        strength,
        epoch,
        status: success ? "active" : row.status,
        successes: row.successes + (success ? 1 : 0),
        failures: row.failures + (success ? 0 : 1),
      };
      if (strength < STRENGTH.prune) {
        this.deleteRow(signature);
        return { kind: "ok", row: next, pruned: true };
      }
      const rev = this.stmts.bump.get("fixes_rev") as number;
      this.stmts.outcome.run({ ...next, rev, now });
      return { kind: "ok", row: next, pruned: false };
    });
    const result = write.immediate();
    if (result.kind === "missing") {
      this.unput(signature);
      throw new FixNotFoundError(
        `No fix with signature ${signature}. Find signatures with recall (pass the error output as query, kinds: ["fix"]) or register one with register_fix.`,
      );
    }
    if (result.kind === "expired") {
      this.unput(signature);
      throw new FixNotFoundError(
        `The fix ${signature} went unused until its strength decayed below ${STRENGTH.prune} and it was pruned. Register the fix again with register_fix.`,
      );
    }
    if (result.pruned) this.unput(signature);
    else this.put(toEntry(result.row));
    const { strength, successes, failures } = result.row;
    return { strength: round(Math.max(0, strength)), successes, failures, pruned: result.pruned };
  }

  /** Delete a fix and its history. Returns the number of fixes removed (0 or 1). */
  remove(signature: string): number {
    const removed = this.db.transaction(() => this.deleteRow(signature)).immediate();
    this.unput(signature);
    return removed;
  }

  private deleteRow(signature: string): number {
    const changes = this.stmts.delete.run(signature).changes;
    if (changes > 0) {
      this.stmts.bump.get("fixes_rev");
      this.stmts.bump.get("fixes_deletes");
    }
    return changes;
  }

  // -------------------------------------------------------------------------------------------
  // reads

  /** Fixes for an error output (or a 16-hex signature): exact match first, then similar ones. */
  lookup(text: string, options: LookupOptions = {}): FixMatch[] {
    const limit = Math.max(1, options.limit ?? 5);
    const trimmed = text.trim();
    const repo = options.repo ?? "";
    const inScope = (m: FixMatch) => options.scope !== "repo" || m.repo === repo;
    if (SIGNATURE_RE.test(trimmed)) {
      const m = this.lookupSignature(trimmed);
      return m && inScope(m) ? [m] : [];
    }
    this.sync();
    const norm = normalizeError(redactSecrets(text).text);
    if (!norm.template) return [];
    if (!repo && options.scope !== "repo") return this.match(norm, options.context?.trim(), limit);
    // This repository's fixes first at equal confidence; a better match elsewhere still wins.
    const all = this.match(norm, options.context?.trim(), options.scope === "repo" ? Number.MAX_SAFE_INTEGER : limit * 4).filter(inScope);
    const here = (m: FixMatch) => (m.repo === repo ? 1 : 0);
    all.sort((a, b) => b.score - a.score || here(b) - here(a) || b.strength - a.strength || (a.signature < b.signature ? -1 : 1));
    return all.slice(0, limit);
  }

  /** The fix registered under this signature, if it is alive. O(1). */
  lookupSignature(signature: string): FixMatch | undefined {
    this.sync();
    const e = this.bySignature.get(signature);
    if (!e) return undefined;
    const strength = decayStrength(e.strength, this.epoch() - e.epoch);
    return strength < STRENGTH.prune ? undefined : toMatch(e, "exact", 1, strength);
  }

  /** Every fix ever registered for a signature, oldest first. */
  history(signature: string): HistoryEntry[] {
    return this.stmts.history.all(signature) as HistoryEntry[];
  }

  private match(norm: NormalizedError, context: string | undefined, limit: number): FixMatch[] {
    const epoch = this.epoch();
    const out: FixMatch[] = [];
    const seen = new Set<string>();
    const alive = (e: Entry) => decayStrength(e.strength, epoch - e.epoch);

    // Exact: same error_type and template; with a context given, the same context too.
    for (const sig of this.byTemplate.get(templateKey(norm.error_type, norm.template)) ?? []) {
      const e = this.bySignature.get(sig);
      if (!e || (context && e.context !== context)) continue;
      const s = alive(e);
      if (s < STRENGTH.prune) continue;
      out.push(toMatch(e, "exact", 1, s));
      seen.add(sig);
    }

    const query = new Set(features(norm.lines));
    for (const { entry, score } of this.similar(query, norm.error_type, context)) {
      if (seen.has(entry.signature)) continue;
      const s = alive(entry);
      if (s < STRENGTH.prune) continue;
      out.push(toMatch(entry, "similar", round(score), s));
    }
    out.sort((a, b) => b.score - a.score || b.strength - a.strength || (a.signature < b.signature ? -1 : 1));
    return out.slice(0, limit);
  }

  /**
   * Score the entries that share features with the query. Counting postings gives each
   * candidate's overlap directly; features too common to list (posting over the cap) are checked
   * on the candidates only.
   */
  private similar(query: ReadonlySet<string>, errorType: string, context: string | undefined): { entry: Entry; score: number }[] {
    if (query.size === 0) return [];
    if (this.oneShot) return this.similarByScan(query, errorType, context);
    const shared = new Map<string, number>();
    const common: string[] = [];
    const cap = Math.min(MAX_POSTING_CAP, Math.max(MIN_POSTING_CAP, this.bySignature.size * POSTING_SHARE));
    for (const f of query) {
      const list = this.postings.get(f);
      if (!list) continue;
      if (list.size > cap) {
        common.push(f);
        continue;
      }
      for (const sig of list) shared.set(sig, (shared.get(sig) ?? 0) + 1);
    }
    let candidates = [...shared];
    if (candidates.length > MAX_CANDIDATES) candidates = candidates.sort((a, b) => b[1] - a[1]).slice(0, MAX_CANDIDATES);
    const scored: { entry: Entry; score: number }[] = [];
    for (const [sig, count] of candidates) {
      const entry = this.bySignature.get(sig);
      if (!entry) continue;
      let inter = count;
      for (const f of common) if (entry.features.has(f)) inter++;
      const score = similarity(inter, query.size, errorType, context, entry);
      if (score >= MIN_SIMILAR) scored.push({ entry, score });
    }
    return scored;
  }

  /**
   * similar() without postings: one pass finds, per fix, the query features it has, and each
   * feature's document frequency; then the same rule applies (a candidate shares a feature that is
   * not too common; common ones count on candidates only). Beyond MAX_CANDIDATES, ties in shared
   * count may be cut in another order than the indexed path's.
   */
  private similarByScan(query: ReadonlySet<string>, errorType: string, context: string | undefined): { entry: Entry; score: number }[] {
    const cap = Math.min(MAX_POSTING_CAP, Math.max(MIN_POSTING_CAP, this.bySignature.size * POSTING_SHARE));
    const df = new Map<string, number>();
    const hits: { entry: Entry; has: string[] }[] = [];
    const queryList = [...query];
    for (const entry of this.bySignature.values()) {
      if (entry.structured) continue;
      let has: string[] | undefined;
      for (const f of queryList) {
        if (!entry.features.has(f)) continue;
        (has ??= []).push(f);
        df.set(f, (df.get(f) ?? 0) + 1);
      }
      if (has) hits.push({ entry, has });
    }
    let candidates: { entry: Entry; count: number; inter: number }[] = [];
    for (const { entry, has } of hits) {
      const count = has.reduce((n, f) => n + ((df.get(f) ?? 0) > cap ? 0 : 1), 0);
      if (count > 0) candidates.push({ entry, count, inter: has.length });
    }
    if (candidates.length > MAX_CANDIDATES) candidates = candidates.sort((a, b) => b.count - a.count).slice(0, MAX_CANDIDATES);
    const scored: { entry: Entry; score: number }[] = [];
    for (const { entry, inter } of candidates) {
      const score = similarity(inter, query.size, errorType, context, entry);
      if (score >= MIN_SIMILAR) scored.push({ entry, score });
    }
    return scored;
  }

  // -------------------------------------------------------------------------------------------
  // in-memory index

  /**
   * Bring the index up to date if another connection has committed since we last looked.
   * Asking SQLite costs a few µs, more than the Map lookup itself, so a burst of reads within
   * coherenceMs shares one check: a read is never more than that much behind other processes.
   */
  private sync(): void {
    if (this.coherenceMs > 0) {
      const t = monotonicMs();
      if (t - this.checkedAt < this.coherenceMs) return;
      this.checkedAt = t;
    }
    const version = this.stmts.dataVersion.get() as number;
    if (version === this.dataVersion) return;
    this.dataVersion = version;
    this.refresh();
  }

  private readonly refresh = (): void => {
    // One read transaction: a consistent snapshot of the counters and the rows.
    this.db.transaction(() => {
      const rev = Number(this.stmts.meta.get("fixes_rev") ?? 0);
      const deletes = Number(this.stmts.meta.get("fixes_deletes") ?? 0);
      if (rev === this.rev && deletes === this.deletes) return;
      const rows = this.nearType === undefined ? this.stmts.changed.iterate(this.rev) : this.stmts.changedNear.iterate(this.rev, this.nearType);
      for (const row of rows as IterableIterator<Row>) this.put(toEntry(row));
      if (deletes !== this.deletes) {
        const present = new Set(this.stmts.keys.all() as string[]);
        for (const sig of [...this.bySignature.keys()]) if (!present.has(sig)) this.unput(sig);
      }
      this.rev = rev;
      this.deletes = deletes;
    })();
  };

  private put(entry: Entry): void {
    const old = this.bySignature.get(entry.signature);
    if (old) {
      // Only the mutable fields can have changed: keep the indexes, swap the entry.
      this.bySignature.set(entry.signature, entry);
      return;
    }
    this.bySignature.set(entry.signature, entry);
    if (entry.structured) return;
    const key = templateKey(entry.error_type, entry.template);
    let set = this.byTemplate.get(key);
    if (!set) this.byTemplate.set(key, (set = new Set()));
    set.add(entry.signature);
    if (this.oneShot) return;
    for (const f of entry.features) {
      let list = this.postings.get(f);
      if (!list) this.postings.set(f, (list = new Set()));
      list.add(entry.signature);
    }
  }

  private unput(signature: string): void {
    const entry = this.bySignature.get(signature);
    if (!entry) return;
    this.bySignature.delete(signature);
    const key = templateKey(entry.error_type, entry.template);
    const set = this.byTemplate.get(key);
    set?.delete(signature);
    if (set?.size === 0) this.byTemplate.delete(key);
    for (const f of entry.features) {
      const list = this.postings.get(f);
      list?.delete(signature);
      if (list?.size === 0) this.postings.delete(f);
    }
  }
}

/**
 * The first match `new FixRegistry(db).lookup(text, { repo, limit })` would return when it is an
 * exact one, read with one indexed query instead of loading the whole registry: what a one-shot
 * process (the hook) needs when the error was met before. undefined when there is no exact match
 * (or when only the full lookup can tell the order): ask lookup() then.
 */
export function exactLookup(db: Db, text: string, options: { repo?: string; limit?: number; now?: number; epochMs?: number } = {}): FixMatch | undefined {
  const trimmed = text.trim();
  if (SIGNATURE_RE.test(trimmed)) return undefined;
  const norm = normalizeError(redactSecrets(text).text);
  if (!norm.template) return undefined;
  const epoch = Math.floor((options.now ?? Date.now()) / (options.epochMs ?? DAY_MS));
  const rows = db.prepare(`SELECT ${COLUMNS} FROM fixes WHERE error_type = ? AND template = ? AND structured = 0`).all(norm.error_type, norm.template) as Row[];
  const limit = Math.max(1, options.limit ?? 5);
  // lookup() ranks at most limit·4 matches by repository: with more exact ones, let it decide.
  if (rows.length === 0 || rows.length > limit * 4) return undefined;
  const repo = options.repo ?? "";
  const here = (m: FixMatch) => (repo && m.repo === repo ? 1 : 0);
  const alive: FixMatch[] = [];
  for (const row of rows) {
    const s = decayStrength(row.strength, epoch - row.epoch);
    if (s >= STRENGTH.prune) alive.push(toMatch(toEntry({ ...row, lines: "" }), "exact", 1, s));
  }
  alive.sort((a, b) => here(b) - here(a) || b.strength - a.strength || (a.signature < b.signature ? -1 : 1));
  return alive[0];
}

/** The error type the registry classifies `text` as (what `nearErrorType` takes). */
export function errorTypeOf(text: string): string {
  return normalizeError(redactSecrets(text).text).error_type;
}

/** Confidence that `entry` is the same problem as the query (0..1). */
/**
 * Confidence (0..1) that `entry` is the problem the query describes, from the number of features
 * they share: the mean of the Jaccard overlap and of how much of the registered error the query
 * contains, discounted for a different error_type (look-alike problems usually differ there) and
 * for a different context.
 */
function similarity(inter: number, querySize: number, errorType: string, context: string | undefined, entry: Entry): number {
  const size = entry.features.size;
  if (inter === 0 || size === 0) return 0;
  const jaccard = inter / (querySize + size - inter);
  const covered = inter / size;
  let score = (jaccard + covered) / 2;
  if (entry.error_type !== errorType) score *= GENERIC_TYPE.test(entry.error_type) || GENERIC_TYPE.test(errorType) ? 0.75 : 0.5;
  if (context && entry.context && entry.context !== context) score *= 0.85;
  return score;
}

/** Milliseconds on a monotonic clock. Not performance.now(): its first use loads perf_hooks, a few ms of the hook process's start. */
function monotonicMs(): number {
  const [s, ns] = process.hrtime();
  return s * 1e3 + ns / 1e6;
}

function templateKey(errorType: string, template: string): string {
  return `${errorType}\u0000${template}`;
}

function toEntry(row: Row): Entry {
  const lines = row.lines ? row.lines.split("\n") : [];
  return {
    signature: row.signature,
    error_type: row.error_type,
    context: row.context,
    template: row.template,
    lines,
    features: new Set(row.structured ? [] : features(lines)),
    fix: row.fix,
    structured: row.structured === 1,
    status: row.status,
    strength: row.strength,
    epoch: row.epoch,
    successes: row.successes,
    failures: row.failures,
    repo: row.repo ?? "",
  };
}

function toMatch(e: Entry, match: FixMatch["match"], score: number, strength: number): FixMatch {
  return {
    signature: e.signature,
    match,
    score,
    error_type: e.error_type,
    fix: e.fix,
    strength: round(strength),
    successes: e.successes,
    failures: e.failures,
    template: e.template,
    context: e.context,
    status: e.status,
    repo: e.repo,
  };
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
