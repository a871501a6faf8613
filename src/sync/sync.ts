/** One sync: push this machine's unsent ops, then pull the team's ops past the cursor, in batches. */
import type { Client as PgClient } from "pg";
import type { Db } from "../storage/db.js";
import { asHubError, asTeam, hubLabel, type HubError, pullOps, pushOps, withHub } from "./hub.js";
import { applyOps, bindHub, enableSync, markPushed, recordSyncResult, syncStatus, unsentOps } from "./local.js";

const BATCH = 500;

export interface SyncResult {
  pushed: number;
  /** Of those, new to the hub (the others it had already: a push retried after a lost answer). */
  pushedNew: number;
  pulled: number;
  applied: number;
  cursor: number;
  pending: number;
}

/** The CLI's sync: one connection, one push and pull; the outcome is recorded for `sync --status`. */
export async function syncOnce(db: Db, url: string, team: string): Promise<SyncResult> {
  enableSync(db);
  try {
    const moved = await withHub(url, async (client) => {
      await asTeam(client, team);
      return syncOver(client, db, url, team);
    });
    return finished(db, moved);
  } catch (err) {
    throw syncFailed(db, err, url);
  }
}

/**
 * Push, then pull, over a client already acting as the team (the background sync keeps one open).
 * `stopped` is asked between batches: a stop leaves the rest for the next sync.
 */
export async function syncOver(client: PgClient, db: Db, url: string, team: string, stopped: () => boolean = () => false): Promise<Omit<SyncResult, "cursor" | "pending">> {
  const moved = { pushed: 0, pushedNew: 0, pulled: 0, applied: 0 };
  // Only once the hub answered: a hub that is down must not reset the cursor or the queue.
  bindHub(db, `${hubLabel(url)}#${team}`);
  while (!stopped()) {
    const ops = unsentOps(db, BATCH);
    if (ops.length === 0) break;
    moved.pushedNew += await pushOps(client, ops);
    // Marked only once the hub committed them: a crash in between pushes them again, harmlessly.
    markPushed(db, ops.map((o) => o.id));
    moved.pushed += ops.length;
  }
  while (!stopped()) {
    const ops = await pullOps(client, syncStatus(db).cursor, BATCH);
    if (ops.length === 0) break;
    moved.applied += applyOps(db, ops, ops[ops.length - 1]!.seq);
    moved.pulled += ops.length;
  }
  return moved;
}

/** Record a successful sync and say where the machine stands. */
export function finished(db: Db, moved: Omit<SyncResult, "cursor" | "pending">): SyncResult {
  recordSyncResult(db, undefined);
  const status = syncStatus(db);
  return { ...moved, cursor: status.cursor, pending: status.pending };
}

/** Record a failed sync (password redacted) and return the HubError to throw. */
export function syncFailed(db: Db, err: unknown, url: string): HubError {
  const error = asHubError(err, url);
  try {
    recordSyncResult(db, error.message);
  } catch {
    // the database closed under a stopping server: the error is still returned
  }
  return error;
}
