/**
 * Failures that wait for the command that resolves them. A failed Bash call becomes pending; the
 * commands and edits that follow in the same session are its steps; when the failed command (or
 * one of the same shape in the same directory) later succeeds, the steps are the fix.
 */
import type { Db } from "../storage/db.js";

/** A pending failure older than this is forgotten: whatever came after is no longer its fix. */
export const PENDING_WINDOW_MS = 30 * 60_000;
/** At most this many failures wait per session (the oldest go first). */
const MAX_PENDING_PER_SESSION = 8;
/** At most this many steps are kept per failure: a longer detour is not one fix. */
export const MAX_STEPS = 12;

export interface Pending {
  id: number;
  session_id: string;
  command: string;
  cwd: string;
  repo: string;
  error: string;
  suggested: string;
  steps: string[];
  created_at: number;
}

interface PendingRow extends Omit<Pending, "steps"> {
  steps: string;
}

export class PendingFailures {
  private readonly stmts;

  constructor(private readonly db: Db) {
    this.stmts = {
      insert: db.prepare(
        "INSERT INTO pending_failures (session_id, command, cwd, repo, error, suggested, steps, created_at) VALUES (?, ?, ?, ?, ?, ?, '[]', ?)",
      ),
      dropSame: db.prepare("DELETE FROM pending_failures WHERE session_id = ? AND command = ?"),
      expire: db.prepare("DELETE FROM pending_failures WHERE created_at < ?"),
      trim: db.prepare(
        "DELETE FROM pending_failures WHERE session_id = ? AND id NOT IN (SELECT id FROM pending_failures WHERE session_id = ? ORDER BY id DESC LIMIT ?)",
      ),
      list: db.prepare("SELECT * FROM pending_failures WHERE session_id = ? AND created_at >= ? ORDER BY id DESC"),
      setSteps: db.prepare("UPDATE pending_failures SET steps = ? WHERE id = ?"),
      remove: db.prepare("DELETE FROM pending_failures WHERE id = ?"),
    };
  }

  /** Record a failure. The same command failing again replaces its earlier entry: what came between did not fix it. */
  add(p: Omit<Pending, "id" | "steps">): void {
    this.db
      .transaction(() => {
        this.stmts.expire.run(p.created_at - PENDING_WINDOW_MS);
        this.stmts.dropSame.run(p.session_id, p.command);
        this.stmts.insert.run(p.session_id, p.command, p.cwd, p.repo, p.error, p.suggested, p.created_at);
        this.stmts.trim.run(p.session_id, p.session_id, MAX_PENDING_PER_SESSION);
      })
      .immediate();
  }

  /** The session's live pending failures, newest first. */
  list(sessionId: string, now: number): Pending[] {
    return (this.stmts.list.all(sessionId, now - PENDING_WINDOW_MS) as PendingRow[]).map((r) => ({ ...r, steps: parseSteps(r.steps) }));
  }

  setSteps(id: number, steps: readonly string[]): void {
    this.stmts.setSteps.run(JSON.stringify(steps.slice(-MAX_STEPS)), id);
  }

  remove(id: number): void {
    this.stmts.remove.run(id);
  }
}

function parseSteps(json: string): string[] {
  try {
    const v: unknown = JSON.parse(json);
    return Array.isArray(v) ? v.filter((s): s is string => typeof s === "string") : [];
  } catch {
    return [];
  }
}
