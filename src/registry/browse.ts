/**
 * Browsing and correcting the fix registry by hand (the `list`/`show`/`edit` commands and the MCP
 * resources, the viewer): every live fix with its decayed strength. Matching and every write
 * (FixRegistry.edit corrects a fix's text) stay in registry.ts; this file only reads rows, with the
 * registry's own rules: strength decays lazily per epoch, and a decayed-away fix is gone.
 */
import type { Db } from "../storage/db.js";
import { DAY_MS, decayStrength, STRENGTH } from "../storage/strength.js";

export interface FixSummary {
  signature: string;
  error_type: string;
  context: string;
  template: string;
  fix: string;
  status: "active" | "candidate";
  /** Decayed to now. */
  strength: number;
  successes: number;
  failures: number;
  occurrences: number;
  repo: string;
  created_at: number;
  updated_at: number;
}

export interface FixFilter {
  repo?: string;
  /** Only fixes registered or updated at or after this time, in ms. */
  since?: number;
  minStrength?: number;
  /** Only fixes whose text, error, type or signature contains this (case-insensitive for ASCII). */
  text?: string;
  limit?: number;
  offset?: number;
  now?: number;
  epochMs?: number;
}

type Stored = Omit<FixSummary, "strength"> & { strength: number; epoch: number };

const COLUMNS = "signature, error_type, context, template, fix, status, strength, epoch, successes, failures, occurrences, repo, created_at, updated_at";

function live(row: Stored, epoch: number): FixSummary | undefined {
  const { epoch: at, ...rest } = row;
  const strength = decayStrength(row.strength, epoch - at);
  return strength < STRENGTH.prune ? undefined : { ...rest, strength: Math.round(strength * 1e4) / 1e4 };
}

/** Live fixes that pass `filter`, most recently updated first. Strength is decayed in JS, so the filter reads every row. */
export function listFixes(db: Db, filter: FixFilter = {}): FixSummary[] {
  const epoch = Math.floor((filter.now ?? Date.now()) / (filter.epochMs ?? DAY_MS));
  // Iterated, not read whole: a page near the top (the viewer's) stops after the rows it needs.
  const rows = db
    .prepare(
      `SELECT ${COLUMNS} FROM fixes WHERE (@repo IS NULL OR repo = @repo) AND updated_at >= @since
       AND (@text IS NULL OR instr(lower(fix || ' ' || template || ' ' || error_type || ' ' || signature), lower(@text)) > 0)
       ORDER BY updated_at DESC, signature`,
    )
    .iterate({ repo: filter.repo ?? null, since: filter.since ?? 0, text: filter.text || null }) as IterableIterator<Stored>;
  const out: FixSummary[] = [];
  const skip = filter.offset ?? 0;
  let seen = 0;
  for (const row of rows) {
    const fix = live(row, epoch);
    if (!fix || fix.strength < (filter.minStrength ?? 0)) continue;
    if (seen++ < skip) continue;
    out.push(fix);
    if (filter.limit !== undefined && out.length >= filter.limit) break;
  }
  return out;
}

/** One live fix by signature. */
export function getFix(db: Db, signature: string, options: { now?: number; epochMs?: number } = {}): FixSummary | undefined {
  const row = db.prepare(`SELECT ${COLUMNS} FROM fixes WHERE signature = ?`).get(signature) as Stored | undefined;
  return row ? live(row, Math.floor((options.now ?? Date.now()) / (options.epochMs ?? DAY_MS))) : undefined;
}
