/**
 * Browsing and correcting the fix registry by hand (the `list`/`show`/`edit` commands and the MCP
 * resources): every live fix with its decayed strength, and a fix's text replaced. Matching stays in
 * registry.ts; this file only reads rows and rewrites one column, with the registry's own rules:
 * strength decays lazily per epoch, a decayed-away fix is gone, the text is redacted before it is
 * stored, every fix ever shown stays in fix_history, and `fixes_rev` is bumped so that every
 * FixRegistry reading the database picks the change up.
 */
import type { Db } from "../storage/db.js";
import { redactSecrets } from "../storage/redact.js";
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
  const rows = db
    .prepare(`SELECT ${COLUMNS} FROM fixes WHERE (@repo IS NULL OR repo = @repo) AND updated_at >= @since ORDER BY updated_at DESC, signature`)
    .all({ repo: filter.repo ?? null, since: filter.since ?? 0 }) as Stored[];
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

/**
 * Replace the fix shown for `signature` (a correction by hand): redacted, kept in fix_history like
 * every fix, strength and counters unchanged. Returns the stored text, or undefined when there is
 * no such fix. Throws when the text is empty after trimming.
 */
export function editFix(db: Db, signature: string, text: string): string | undefined {
  const fix = redactSecrets(text.trim()).text;
  if (!fix) throw new Error("the fix is empty: say what resolves the error");
  return db
    .transaction(() => {
      if (!getFix(db, signature)) return undefined; // none, or decayed away: nothing to correct
      const rev = db
        .prepare("INSERT INTO meta (key, value) VALUES ('fixes_rev', '1') ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1 RETURNING CAST(value AS INTEGER)")
        .pluck()
        .get() as number;
      const now = Date.now();
      db.prepare("UPDATE fixes SET fix = ?, rev = ?, updated_at = ? WHERE signature = ?").run(fix, rev, now, signature);
      db.prepare("INSERT INTO fix_history (signature, fix, sample, created_at) VALUES (?, ?, '', ?)").run(signature, fix, now);
      return fix;
    })
    .immediate();
}
