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
 *
 * This file is the read/write API; the index and the similar match are fix-index.ts, the row and
 * entry shapes entry.ts. One file: every write, and the sync that keeps the index coherent, share
 * the prepared statements and the revision counters; split, each half would need the other's.
 */
import type { Db } from "../storage/db.js";
import { redactSecrets } from "../storage/redact.js";
import { DAY_MS, decayStrength, STRENGTH } from "../storage/strength.js";
import { features, normalizeError, type NormalizedError } from "./normalize.js";
import { COLUMNS, distinguishing, keyOf, round, sameProblem, toEntry, toMatch, type Entry, type FixMatch, type FixStatus, type Row } from "./entry.js";
import { FixIndex } from "./fix-index.js";
import { GENERIC_TYPE } from "./score.js";
import { rawSignature, SIGNATURE_RE, structuredKey, structuredSignature, type SignatureFields } from "./signature.js";
import { conflicts, traitsOf } from "./traits.js";

export { MIN_SIMILAR, type FixMatch, type FixStatus } from "./entry.js";

/** The longest error sample kept in fix_history. */
const SAMPLE_CHARS = 4000;

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

export class FixRegistry {
  private readonly now: () => number;
  private readonly epochMs: number;
  private readonly index: FixIndex;
  private readonly coherenceMs: number;
  private readonly nearType: string | undefined;
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
    this.index = new FixIndex(options.oneShot === true);
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
      edit: db.prepare("UPDATE fixes SET fix = ?, rev = ?, updated_at = ? WHERE signature = ?"),
      delete: db.prepare("DELETE FROM fixes WHERE signature = ?"),
      addHistory: db.prepare("INSERT INTO fix_history (signature, fix, sample, created_at) VALUES (?, ?, ?, ?)"),
      history: db.prepare("SELECT fix, sample, created_at FROM fix_history WHERE signature = ? ORDER BY id"),
      demote: db.prepare("INSERT INTO fix_demotions (signature, template, names, traits, created_at) VALUES (?, ?, ?, ?, ?)"),
      demotions: db.prepare("SELECT template, names, traits FROM fix_demotions WHERE signature = ? ORDER BY id"),
      failedOn: db.prepare("SELECT template, created_at FROM fix_demotions WHERE signature = ? ORDER BY id"),
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
    return this.index.size;
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
    this.index.put(this.toEntry(row));
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
        const t = traitsOf(sample, norm, this.index.get(signature)?.context);
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
      this.index.unput(signature);
      throw new FixNotFoundError(
        `No fix with signature ${signature}. Find signatures with recall (pass the error output as query, kinds: ["fix"]) or register one with register_fix.`,
      );
    }
    if (result.kind === "expired") {
      this.index.unput(signature);
      throw new FixNotFoundError(
        `The fix ${signature} went unused until its strength decayed below ${STRENGTH.prune} and it was pruned. Register the fix again with register_fix.`,
      );
    }
    if (result.pruned) this.index.unput(signature);
    else this.index.put(this.toEntry(result.row));
    const { strength, successes, failures } = result.row;
    return { strength: round(Math.max(0, strength)), successes, failures, pruned: result.pruned };
  }

  /**
   * Replace the fix shown for `signature` (a correction by hand: the `edit` command, the viewer):
   * redacted, kept in fix_history like every fix, strength and counters unchanged. Returns the
   * stored text, or undefined when there is no live fix under it (none, or decayed away).
   */
  edit(signature: string, text: string): string | undefined {
    const fix = redactSecrets(text.trim()).text;
    if (!fix) throw new FixInputError("the fix is empty: say what resolves the error");
    const epoch = this.epoch();
    const row = this.db
      .transaction((): Row | undefined => {
        const row = this.stmts.get.get(signature) as Row | undefined;
        if (!row || decayStrength(row.strength, epoch - row.epoch) < STRENGTH.prune) return undefined;
        const rev = this.stmts.bump.get("fixes_rev") as number;
        const now = this.now();
        this.stmts.edit.run(fix, rev, now, signature);
        this.stmts.addHistory.run(signature, fix, "", now);
        return { ...row, fix };
      })
      .immediate();
    if (!row) return undefined;
    this.index.put(this.toEntry(row));
    return fix;
  }

  /** Delete a fix and its history. Returns the number of fixes removed (0 or 1). */
  remove(signature: string): number {
    const removed = this.db.transaction(() => this.deleteRow(signature)).immediate();
    this.index.unput(signature);
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
    if (!repo && options.scope !== "repo") return this.index.match(norm, sample, options.context?.trim(), limit, this.epoch());
    // This repository's fixes first at equal confidence; a better match elsewhere still wins.
    const all = this.index.match(norm, sample, options.context?.trim(), options.scope === "repo" ? Number.MAX_SAFE_INTEGER : limit * 4, this.epoch()).filter(inScope);
    const here = (m: FixMatch) => (m.repo === repo ? 1 : 0);
    all.sort((a, b) => b.score - a.score || here(b) - here(a) || b.strength - a.strength || (a.signature < b.signature ? -1 : 1));
    return all.slice(0, limit);
  }

  /** The fix registered under this signature, if it is alive. O(1). */
  lookupSignature(signature: string): FixMatch | undefined {
    this.sync();
    const e = this.index.get(signature);
    if (!e) return undefined;
    const strength = decayStrength(e.strength, this.epoch() - e.epoch);
    return strength < STRENGTH.prune ? undefined : toMatch(e, "exact", 1, strength);
  }

  /** Every fix ever registered for a signature, oldest first. */
  history(signature: string): HistoryEntry[] {
    return this.stmts.history.all(signature) as HistoryEntry[];
  }

  /** The errors the fix was reported failing on (report_outcome with the error), oldest first. */
  failedOn(signature: string): Array<{ template: string; created_at: number }> {
    return this.stmts.failedOn.all(signature) as Array<{ template: string; created_at: number }>;
  }

  // -------------------------------------------------------------------------------------------
  // coherence of the in-memory index with the database

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
      for (const row of rows as IterableIterator<Row>) this.index.put(this.toEntry(row));
      if (deletes !== this.deletes) {
        const present = new Set(this.stmts.keys.all() as string[]);
        for (const sig of this.index.signatures()) if (!present.has(sig)) this.index.unput(sig);
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

/** Milliseconds on a monotonic clock. Not performance.now(): its first use loads perf_hooks, a few ms of the hook process's start. */
function monotonicMs(): number {
  const [s, ns] = process.hrtime();
  return s * 1e3 + ns / 1e6;
}

