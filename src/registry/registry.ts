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
import type { Db } from "../storage/db.js";
import { redactSecrets } from "../storage/redact.js";
import { DAY_MS, decayStrength, STRENGTH } from "../storage/strength.js";
import { features, normalizeError, type NormalizedError } from "./normalize.js";
import { adapt, featureSet, GENERIC_TYPE, specificType, TUNING, tuningState, weight } from "./score.js";
import { rawSignature, SIGNATURE_RE, structuredKey, structuredSignature, type SignatureFields } from "./signature.js";
import { conflicts, DISTINGUISHING, HARD, traitsOf } from "./traits.js";

/** A similar match scoring below this is not returned at all (recall and the hook abstain below TUNING.recallMin). */
export const MIN_SIMILAR = 0.2;
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
  /** The fix this one was registered next to, for a look-alike error (same signature, other traits). */
  sibling_of?: string;
  /**
   * Same problem, other names: the registered error's names and this error's, and whether the fix
   * (then `fix`, with `registered_fix` the original) was adapted to them.
   */
  adaptation?: { status: "adapted" | "unadapted" | "generic"; registered_names: string[]; names: string[]; registered_fix: string };
  /** True when the fix was reported failing on an error at least as close to this one. */
  demoted?: boolean;
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
  status: "created" | "reinforced" | "sibling";
  error_type: string;
  template: string;
  /** For a sibling: the signature of the fix it stands next to. */
  sibling_of?: string;
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
  names: string;
  traits: string;
  parent: string;
}

/** An error a fix failed on (report_outcome with the error). */
interface Demotion {
  template: string;
  key: Set<string>;
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
  names: string[];
  traits: ReadonlySet<string>;
  parent: string;
  /** template, names and distinguishing traits: what the demotions are compared on. */
  key: Set<string>;
  demotions: Demotion[];
  /** Sum of the feature weights, and the registry size it was computed at (IDF drifts slowly). */
  norm: number;
  normAt: number;
  normVersion: number;
}

/** What the similar match knows about the error looked up. */
interface Query {
  norm: NormalizedError;
  context: string | undefined;
  names: string[];
  traits: ReadonlySet<string>;
  features: ReadonlySet<string>;
  key: Set<string>;
}

const COLUMNS = "signature, error_type, context, template, lines, fix, structured, status, strength, epoch, successes, failures, occurrences, repo, names, traits, parent";

// A feature shared by more than this share of the entries (and more than MIN_POSTING_CAP of
// them) is too common to find candidates with: "error", "not", "cannot" would list everything.
const POSTING_SHARE = 0.05;
const MIN_POSTING_CAP = 64;
const MAX_POSTING_CAP = 500;
// A word held by at most this share of the registered errors is rare enough to back typePrior.
const RARE_SHARE = 0.05;
// How many candidates (most shared weight first) get a full score.
const MAX_CANDIDATES = 300;

export class FixRegistry {
  private readonly now: () => number;
  private readonly epochMs: number;
  private readonly bySignature = new Map<string, Entry>();
  /** error_type + template → signatures (one per context). */
  private readonly byTemplate = new Map<string, Set<string>>();
  /** feature → signatures, for the similar match. */
  private readonly postings = new Map<string, Set<string>>();
  /** feature → how many raw errors have it: the IDF of the weights. */
  private readonly df = new Map<string, number>();
  /** How many raw (not structured) errors are indexed. */
  private rawCount = 0;
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
        `INSERT INTO fixes (signature, error_type, context, template, lines, tokens, fix, structured, status, strength, epoch, repo, names, traits, parent, rev, created_at, updated_at)
         VALUES (@signature, @error_type, @context, @template, @lines, @tokens, @fix, @structured, @status, @strength, @epoch, @repo, @names, @traits, @parent, @rev, @now, @now)`,
      ),
      reinforce: db.prepare(
        `UPDATE fixes SET fix = @fix, names = @names, status = @status, strength = @strength, epoch = @epoch, occurrences = occurrences + 1, rev = @rev, updated_at = @now
         WHERE signature = @signature`,
      ),
      outcome: db.prepare(
        `UPDATE fixes SET status = @status, strength = @strength, epoch = @epoch, successes = @successes, failures = @failures, rev = @rev, updated_at = @now
         WHERE signature = @signature`,
      ),
      delete: db.prepare("DELETE FROM fixes WHERE signature = ?"),
      addHistory: db.prepare("INSERT INTO fix_history (signature, fix, sample, created_at) VALUES (?, ?, ?, ?)"),
      history: db.prepare("SELECT fix, sample, created_at FROM fix_history WHERE signature = ? ORDER BY id"),
      demote: db.prepare("INSERT INTO fix_demotions (signature, template, names, traits, created_at) VALUES (?, ?, ?, ?, ?)"),
      demotions: db.prepare("SELECT template, names, traits FROM fix_demotions WHERE signature = ? ORDER BY id"),
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
    let names: string[] = [];
    let traits: string[] = [];
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
      ({ names, traits } = traitsOf(sample, norm, context));
      signature = rawSignature(errorType, context, template);
      sample = sample.length > SAMPLE_CHARS ? sample.slice(0, SAMPLE_CHARS) : sample;
    } else {
      throw new FixInputError("give the raw error output (error) or the signature fields (signature_fields)");
    }
    const wanted: FixStatus = input.status ?? "active";
    const now = this.now();
    const epoch = this.epoch();

    let parent = "";
    const write = this.db.transaction((): Row & { created: boolean } => {
      let row = this.stmts.get.get(signature) as Row | undefined;
      // A look-alike of the registered error (other distinguishing traits), or the error the
      // registered fix failed on, with another fix: a sibling, told apart by what differs.
      if (row && row.fix !== fix && !input.signatureFields) {
        const sibling = this.siblingOf(row, template, names, traits);
        if (sibling) {
          parent = row.signature;
          signature = sibling;
          row = this.stmts.get.get(signature) as Row | undefined;
        }
      }
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
          names: names.join("\n"),
          traits: traits.join(" "),
          parent,
        };
        this.stmts.insert.run({ ...created, tokens: features(lines).filter((f) => !f.includes(" ") && !f.startsWith("(")).join(" "), rev, now });
        this.stmts.addHistory.run(signature, fix, sample, now);
        return { ...created, created: true };
      }
      const strength = Math.min(1, decayStrength(row.strength, epoch - row.epoch) + STRENGTH.reinforce);
      // An explicit (active) registration confirms a candidate; a candidate never demotes.
      const status: FixStatus = wanted === "active" ? "active" : row.status;
      // The newest fix is the one shown; every earlier one stays in fix_history.
      if (row.fix !== fix) this.stmts.addHistory.run(signature, fix, sample, now);
      // The names are those of the error the shown fix was given for: its slots refer to them.
      const rowNames = input.signatureFields ? row.names : names.join("\n");
      this.stmts.reinforce.run({ signature, fix, names: rowNames, status, strength, epoch, rev, now });
      return { ...row, fix, names: rowNames, status, strength, epoch, occurrences: row.occurrences + 1, created: false };
    });
    const row = write.immediate();
    this.put(this.toEntry(row));
    const status = row.created ? (parent ? "sibling" : "created") : "reinforced";
    return { signature, status, error_type: errorType, template, ...(parent ? { sibling_of: parent } : {}) };
  }

  /**
   * The signature a new fix for an error with this template takes next to `row` (same signature),
   * or undefined when it replaces row's fix: when the distinguishing traits differ, or when the
   * fix was reported failing on an error like this one, the two stand side by side.
   */
  private siblingOf(row: Row, template: string, names: string[], traits: string[]): string | undefined {
    const mine = distinguishing(traits);
    // Only a disagreement counts: a detail one error shows and the other does not is no evidence.
    const differs = conflicts(new Set(traits), new Set(row.traits ? row.traits.split(" ") : [])) > 0;
    const failedHere =
      row.failures > 0 &&
      (this.stmts.demotions.all(row.signature) as { template: string; names: string; traits: string }[]).some(
        (d) => d.template === template && d.names === names.join("\n") && distinguishing(d.traits.split(" ")).join(" ") === mine.join(" "),
      );
    if (!differs && !failedHere) return undefined;
    const key = failedHere ? `${mine.join(" ")}\u0000${names.join("\n")}` : mine.join(" ");
    return rawSignature(row.error_type, row.context, `${template}\u0000${key}`);
  }

  /**
   * Success: +0.05 (cap 1), a candidate becomes active. Failure: −0.10. Below 0.01 the fix is deleted.
   * A failure with the error the fix was tried on also demotes the fix for errors like that one
   * (at least as close to it as to the fix's own error), and a fix registered next for it becomes a sibling.
   */
  reportOutcome(signature: string, success: boolean, error?: string): OutcomeResult {
    const now = this.now();
    let failedOn: { template: string; names: string; traits: string } | undefined;
    if (!success && error !== undefined && error.trim() !== "") {
      const sample = redactSecrets(error).text;
      const norm = normalizeError(sample);
      if (norm.template) {
        const t = traitsOf(sample, norm, this.bySignature.get(signature)?.context);
        failedOn = { template: norm.template, names: t.names.join("\n"), traits: t.traits.join(" ") };
      }
    }
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
      if (failedOn) this.stmts.demote.run(signature, failedOn.template, failedOn.names, failedOn.traits, now);
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
    else this.put(this.toEntry(result.row));
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
    const sample = redactSecrets(text).text;
    const norm = normalizeError(sample);
    if (!norm.template) return [];
    if (!repo && options.scope !== "repo") return this.match(norm, sample, options.context?.trim(), limit);
    // This repository's fixes first at equal confidence; a better match elsewhere still wins.
    const all = this.match(norm, sample, options.context?.trim(), options.scope === "repo" ? Number.MAX_SAFE_INTEGER : limit * 4).filter(inScope);
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

  private match(norm: NormalizedError, sample: string, context: string | undefined, limit: number): FixMatch[] {
    const epoch = this.epoch();
    const t = traitsOf(sample, norm, context);
    const q: Query = {
      norm,
      context,
      names: t.names,
      traits: new Set(t.traits),
      features: featureSet(norm.lines, norm.error_type, t.traits, t.names),
      key: keyOf(norm.template, t.names, t.traits),
    };
    const n = this.rawCount;
    // Names count only where they are shared (see rate()): a new error's names are new as a rule.
    let qNorm = 0;
    for (const f of q.features) if (!f.startsWith("name:")) qNorm += weight(f, this.df.get(f) ?? 0, n);
    const out: FixMatch[] = [];
    for (const [entry, shared] of this.candidates(q, n)) {
      const strength = decayStrength(entry.strength, epoch - entry.epoch);
      if (strength < STRENGTH.prune) continue;
      const m = this.rate(q, qNorm, shared, entry, n, strength);
      if (m && (m.match === "exact" || m.score >= MIN_SIMILAR)) out.push(m);
    }
    out.sort((a, b) => b.score - a.score || b.strength - a.strength || (a.signature < b.signature ? -1 : 1));
    return out.slice(0, limit);
  }

  /**
   * The entries worth scoring, each with the weight of the features it shares with the query.
   * Indexed: summed from the postings; features too common to list (posting over the cap) are
   * added on the best candidates only. One-shot: one pass over the loaded entries. Errors with the
   * query's template are always candidates.
   */
  private candidates(q: Query, n: number): Map<Entry, number> {
    const w = (f: string) => weight(f, this.df.get(f) ?? 0, n);
    const result = new Map<Entry, number>();
    if (this.oneShot) {
      const qs = [...q.features].map((f) => [f, w(f)] as const);
      for (const entry of this.bySignature.values()) {
        if (entry.structured) continue;
        let shared = 0;
        for (const [f, wf] of qs) if (entry.features.has(f)) shared += wf;
        if (shared > 0) result.set(entry, shared);
      }
      return result;
    }
    const shared = new Map<string, number>();
    const common: string[] = [];
    const cap = Math.min(MAX_POSTING_CAP, Math.max(MIN_POSTING_CAP, this.rawCount * POSTING_SHARE));
    for (const f of q.features) {
      const list = this.postings.get(f);
      if (!list) continue;
      if (list.size > cap) {
        common.push(f);
        continue;
      }
      const wf = w(f);
      for (const sig of list) shared.set(sig, (shared.get(sig) ?? 0) + wf);
    }
    for (const sig of this.byTemplate.get(templateKey(q.norm.error_type, q.norm.template)) ?? []) if (!shared.has(sig)) shared.set(sig, 0);
    let list = [...shared];
    if (list.length > MAX_CANDIDATES) list = list.sort((a, b) => b[1] - a[1]).slice(0, MAX_CANDIDATES);
    const commonWeights = common.map((f) => [f, w(f)] as const);
    for (const [sig, s] of list) {
      const entry = this.bySignature.get(sig);
      if (!entry) continue;
      let total = s;
      for (const [f, wf] of commonWeights) if (entry.features.has(f)) total += wf;
      result.set(entry, total);
    }
    return result;
  }

  /** How sure `entry` fits the query (see score.ts), as a match; undefined when it shares nothing. */
  private rate(q: Query, qNorm: number, shared: number, entry: Entry, n: number, strength: number): FixMatch | undefined {
    // The same name is weak evidence for; another name is none against (it is what differs
    // between two prints of one problem): names weigh in both norms only when shared.
    let sharedNames = 0;
    for (const f of new Set(q.names.map((name) => `name:${name.toLowerCase()}`))) {
      if (entry.features.has(f)) sharedNames += weight(f, this.df.get(f) ?? 0, n);
    }
    const eNorm = this.normOf(entry, n) + sharedNames;
    qNorm += sharedNames;
    if (qNorm + eNorm <= 0) return undefined;
    let score = (1 - TUNING.coverage) * ((2 * shared) / (qNorm + eNorm)) + TUNING.coverage * (eNorm > 0 ? Math.min(1, shared / eNorm) : 0);
    // Same specific type (exception class, tool code, message kind), reworded: evidence in
    // proportion to how few registered errors share the type.
    const specific = specificType(q.features, q.norm.error_type);
    // A broad type (SyntaxError, SQLITE_ERROR) names many problems: the two must also share a
    // word few registered errors have ("zero", "json"), besides the type.
    if (TUNING.typePrior > 0 && specific !== undefined && entry.features.has(specific) && this.sharesRareWord(q, entry, n)) {
      score = Math.max(score, TUNING.typePrior / Math.max(1, this.df.get(specific) ?? 1));
    }
    const type = q.norm.error_type;
    if (entry.error_type !== type) score *= GENERIC_TYPE.test(entry.error_type) || GENERIC_TYPE.test(type) ? TUNING.otherGenericType : TUNING.otherType;
    score *= TUNING.conflict ** conflicts(q.traits, entry.traits, HARD);
    const originDiffers = conflicts(q.traits, entry.traits, ["origin"]) > 0;
    let match: FixMatch["match"] = "similar";
    let adaptation: FixMatch["adaptation"];
    let fix = entry.fix;
    if (entry.error_type === type && entry.template === q.norm.template && sameProblem(q.traits, entry.traits)) {
      // Same template, nothing distinguishing differs: the same problem, perhaps with other names.
      const a = entry.names.length ? adapt(entry.fix, entry.names, q.names) : undefined;
      const sameContext = !q.context || !entry.context || q.context === entry.context;
      if (!a && sameContext && !originDiffers) {
        match = "exact";
        score = 1;
      } else {
        // (Names weigh only where shared, so the overlap alone would say 1: the confidence is the rule's.)
        score = TUNING.sameTemplate * (a?.status === "unadapted" ? TUNING.unadapted : 1);
        if (a) {
          adaptation = { status: a.status, registered_names: entry.names, names: q.names, registered_fix: entry.fix };
          fix = a.fix;
        }
      }
    }
    if (originDiffers) score *= TUNING.originConflict;
    const demoted = this.demotedFor(q, entry);
    if (demoted) {
      score *= TUNING.demoted;
      match = "similar";
    }
    const m = toMatch(entry, match, round(Math.min(1, score)), strength);
    m.fix = fix;
    if (adaptation) m.adaptation = adaptation;
    if (demoted) m.demoted = true;
    return m;
  }

  /** The two share a headline word (not a pair, type, trait or name) held by few registered errors. */
  private sharesRareWord(q: Query, entry: Entry, n: number): boolean {
    const rare = Math.max(2, n * RARE_SHARE);
    // The type printed as a word ("zerodivisionerror") is the type again, not a second clue.
    const typeWords = new Set(q.norm.error_type.toLowerCase().split(/\W+/));
    for (const f of q.features) {
      if (f.includes(" ") || f.includes(":") || f.startsWith("(") || typeWords.has(f) || !entry.features.has(f)) continue;
      if ((this.df.get(f) ?? 0) <= rare) return true;
    }
    return false;
  }

  /** The fix failed on an error at least as close to the query as the fix's own error is. */
  private demotedFor(q: Query, entry: Entry): boolean {
    if (entry.demotions.length === 0) return false;
    const own = jaccard(q.key, entry.key);
    return entry.demotions.some((d) => {
      const s = jaccard(q.key, d.key);
      return s > 0 && s >= own;
    });
  }

  /** Sum of an entry's feature weights but its names', recomputed once the registry grew or shrank by 5 %. */
  private normOf(entry: Entry, n: number): number {
    if (entry.normAt > 0 && entry.normVersion === tuningState.version && Math.abs(entry.normAt - n) <= 0.05 * n) return entry.norm;
    let sum = 0;
    for (const f of entry.features) if (!f.startsWith("name:")) sum += weight(f, this.df.get(f) ?? 0, n);
    entry.norm = sum;
    entry.normAt = n;
    entry.normVersion = tuningState.version;
    return sum;
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
      for (const row of rows as IterableIterator<Row>) this.put(this.toEntry(row));
      if (deletes !== this.deletes) {
        const present = new Set(this.stmts.keys.all() as string[]);
        for (const sig of [...this.bySignature.keys()]) if (!present.has(sig)) this.unput(sig);
      }
      this.rev = rev;
      this.deletes = deletes;
    })();
  };

  /** toEntry, with the errors the fix failed on (only a fix with failures can have any). */
  private toEntry(row: Row): Entry {
    const e = toEntry(row);
    if (row.failures > 0) {
      for (const d of this.stmts.demotions.all(row.signature) as { template: string; names: string; traits: string }[]) {
        e.demotions.push({ template: d.template, key: keyOf(d.template, d.names ? d.names.split("\n") : [], d.traits ? d.traits.split(" ") : []) });
      }
    }
    return e;
  }

  private put(entry: Entry): void {
    const old = this.bySignature.get(entry.signature);
    if (old) {
      if (old.names.join("\n") !== entry.names.join("\n")) {
        // Re-registered with other names: its name features changed, re-index it.
        this.unput(entry.signature);
      } else {
        // Only the mutable fields can have changed: keep the indexes, swap the entry.
        this.bySignature.set(entry.signature, entry);
        return;
      }
    }
    this.bySignature.set(entry.signature, entry);
    if (entry.structured) return;
    const key = templateKey(entry.error_type, entry.template);
    let set = this.byTemplate.get(key);
    if (!set) this.byTemplate.set(key, (set = new Set()));
    set.add(entry.signature);
    this.rawCount++;
    for (const f of entry.features) this.df.set(f, (this.df.get(f) ?? 0) + 1);
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
    if (entry.structured) return;
    this.rawCount--;
    for (const f of entry.features) {
      const d = (this.df.get(f) ?? 0) - 1;
      if (d > 0) this.df.set(f, d);
      else this.df.delete(f);
    }
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
  const sample = redactSecrets(text).text;
  const norm = normalizeError(sample);
  if (!norm.template) return undefined;
  const epoch = Math.floor((options.now ?? Date.now()) / (options.epochMs ?? DAY_MS));
  const rows = db.prepare(`SELECT ${COLUMNS} FROM fixes WHERE error_type = ? AND template = ? AND structured = 0`).all(norm.error_type, norm.template) as Row[];
  const limit = Math.max(1, options.limit ?? 5);
  // lookup() ranks at most limit·4 matches by repository: with more exact ones, let it decide.
  if (rows.length === 0 || rows.length > limit * 4) return undefined;
  // A fix that failed somewhere may be demoted for this error: only the full lookup can tell.
  if (rows.some((r) => r.failures > 0)) return undefined;
  const t = traitsOf(sample, norm, undefined);
  const traits = new Set(t.traits);
  const names = t.names.join("\n");
  const repo = options.repo ?? "";
  const here = (m: FixMatch) => (repo && m.repo === repo ? 1 : 0);
  const alive: FixMatch[] = [];
  for (const row of rows) {
    const e = toEntry({ ...row, lines: "" });
    // Exact only when nothing distinguishing differs and the names are the same.
    if (!sameProblem(traits, e.traits) || (e.names.length > 0 && row.names !== names)) continue;
    const s = decayStrength(row.strength, epoch - row.epoch);
    if (s >= STRENGTH.prune) alive.push(toMatch(e, "exact", 1, s));
  }
  alive.sort((a, b) => here(b) - here(a) || b.strength - a.strength || (a.signature < b.signature ? -1 : 1));
  return alive[0];
}

/** The error type the registry classifies `text` as (what `nearErrorType` takes). */
export function errorTypeOf(text: string): string {
  return normalizeError(redactSecrets(text).text).error_type;
}

/**
 * Nothing distinguishing differs between the two errors: for each distinguishing family that both
 * have, the same traits (the tool/runtime: at least one in common). Rows registered before traits
 * were kept have none: they match on the template alone, as they did.
 */
function sameProblem(query: ReadonlySet<string>, entry: ReadonlySet<string>): boolean {
  if (entry.size === 0) return true;
  for (const fam of HARD) {
    const a = [...query].filter((t) => t.startsWith(`${fam}:`));
    const b = [...entry].filter((t) => t.startsWith(`${fam}:`));
    if (a.length === 0 || b.length === 0) continue;
    if (fam === "rt" ? !a.some((t) => entry.has(t)) : a.length !== b.length || !a.every((t) => entry.has(t))) return false;
  }
  return true;
}

/** The distinguishing traits of a trait list, sorted. */
function distinguishing(traits: readonly string[]): string[] {
  return traits.filter((t) => DISTINGUISHING.some((f) => t.startsWith(`${f}:`))).sort();
}

/** What tells two errors of one template apart: the template, the names, the distinguishing traits. */
function keyOf(template: string, names: readonly string[], traits: readonly string[]): Set<string> {
  return new Set([`tpl:${template}`, ...names.map((n) => `name:${n}`), ...distinguishing(traits)]);
}

function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  let inter = 0;
  for (const x of a) if (b.has(x)) inter++;
  const union = a.size + b.size - inter;
  return union === 0 ? 0 : inter / union;
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
  const names = row.names ? row.names.split("\n") : [];
  const traits = row.traits ? row.traits.split(" ") : [];
  return {
    signature: row.signature,
    error_type: row.error_type,
    context: row.context,
    template: row.template,
    lines,
    features: row.structured ? new Set() : featureSet(lines, row.error_type, traits, names),
    fix: row.fix,
    structured: row.structured === 1,
    status: row.status,
    strength: row.strength,
    epoch: row.epoch,
    successes: row.successes,
    failures: row.failures,
    repo: row.repo ?? "",
    names,
    traits: new Set(traits),
    parent: row.parent ?? "",
    key: keyOf(row.template, names, traits),
    demotions: [],
    norm: 0,
    normAt: 0,
    normVersion: 0,
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
    ...(e.parent ? { sibling_of: e.parent } : {}),
  };
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
