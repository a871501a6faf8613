/**
 * A registered fix as the registry stores it (Row, a line of `fixes`), holds it in memory (Entry,
 * with its features and what it was demoted for) and returns it (FixMatch); and the comparisons
 * of two errors' traits that both the index and the exact lookup make.
 */
import type { NormalizedError } from "./normalize.js";
import { featureSet } from "./score.js";
import { DISTINGUISHING, HARD } from "./traits.js";

/** A similar match scoring below this is not returned at all (recall and the hook abstain below TUNING.recallMin). */
export const MIN_SIMILAR = 0.2;
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

export interface Row {
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
export interface Demotion {
  template: string;
  key: Set<string>;
}

export interface Entry {
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
export interface Query {
  norm: NormalizedError;
  context: string | undefined;
  names: string[];
  traits: ReadonlySet<string>;
  features: ReadonlySet<string>;
  key: Set<string>;
}

export const COLUMNS = "signature, error_type, context, template, lines, fix, structured, status, strength, epoch, successes, failures, occurrences, repo, names, traits, parent";


/**
 * Nothing distinguishing differs between the two errors: for each distinguishing family that both
 * have, the same traits (the tool/runtime: at least one in common). Rows registered before traits
 * were kept have none: they match on the template alone, as they did.
 */
export function sameProblem(query: ReadonlySet<string>, entry: ReadonlySet<string>): boolean {
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
export function distinguishing(traits: readonly string[]): string[] {
  return traits.filter((t) => DISTINGUISHING.some((f) => t.startsWith(`${f}:`))).sort();
}

/** What tells two errors of one template apart: the template, the names, the distinguishing traits. */
export function keyOf(template: string, names: readonly string[], traits: readonly string[]): Set<string> {
  return new Set([`tpl:${template}`, ...names.map((n) => `name:${n}`), ...distinguishing(traits)]);
}

export function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  let inter = 0;
  for (const x of a) if (b.has(x)) inter++;
  const union = a.size + b.size - inter;
  return union === 0 ? 0 : inter / union;
}

export function templateKey(errorType: string, template: string): string {
  return `${errorType}\u0000${template}`;
}

export function toEntry(row: Row): Entry {
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

export function toMatch(e: Entry, match: FixMatch["match"], score: number, strength: number): FixMatch {
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

export function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
