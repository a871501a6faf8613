/**
 * The registry's in-memory index over the fixes one process has loaded: by signature, by template,
 * and (unless one-shot) feature postings, with the document frequencies that weigh features; and
 * the similar match over it. It reads no database: FixRegistry keeps it coherent with SQLite.
 */
import { decayStrength, STRENGTH } from "../storage/strength.js";
import type { NormalizedError } from "./normalize.js";
import { adapt, featureSet, GENERIC_TYPE, specificType, TUNING, tuningState, weight } from "./score.js";
import { conflicts, HARD, traitsOf } from "./traits.js";
import { jaccard, keyOf, MIN_SIMILAR, round, sameProblem, templateKey, toMatch, type Entry, type FixMatch, type Query } from "./entry.js";

// A feature shared by more than this share of the entries (and more than MIN_POSTING_CAP of
// them) is too common to find candidates with: "error", "not", "cannot" would list everything.
const POSTING_SHARE = 0.05;
const MIN_POSTING_CAP = 64;
const MAX_POSTING_CAP = 500;
// A word held by at most this share of the registered errors is rare enough to back typePrior.
const RARE_SHARE = 0.05;
// How many candidates (most shared weight first) get a full score.
const MAX_CANDIDATES = 300;

export class FixIndex {
  private readonly bySignature = new Map<string, Entry>();
  /** error_type + template → signatures (one per context). */
  private readonly byTemplate = new Map<string, Set<string>>();
  /** feature → signatures, for the similar match. */
  private readonly postings = new Map<string, Set<string>>();
  /** feature → how many raw errors have it: the IDF of the weights. */
  private readonly df = new Map<string, number>();
  /** How many raw (not structured) errors are indexed. */
  private rawCount = 0;

  /** `oneShot`: no postings; the similar match scans the loaded entries (see FixRegistryOptions). */
  constructor(private readonly oneShot: boolean) {}

  get size(): number {
    return this.bySignature.size;
  }

  get(signature: string): Entry | undefined {
    return this.bySignature.get(signature);
  }

  signatures(): string[] {
    return [...this.bySignature.keys()];
  }

  /** The fixes similar to an error (exact first), best first, as of decay epoch `epoch`. */
  match(norm: NormalizedError, sample: string, context: string | undefined, limit: number, epoch: number): FixMatch[] {
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
  put(entry: Entry): void {
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

  unput(signature: string): void {
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
