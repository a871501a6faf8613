/** One sync: push this machine's unsent ops, then pull the team's ops past the cursor, in batches. */
import type { Db } from "../storage/db.js";
import { asTeam, hubLabel, HubError, pullOps, pushOps, redactHubPassword, withHub } from "./hub.js";
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

export async function syncOnce(db: Db, url: string, team: string): Promise<SyncResult> {
  enableSync(db);
  let pushed = 0;
  let pushedNew = 0;
  let pulled = 0;
  let applied = 0;
  try {
    await withHub(url, async (client) => {
      await asTeam(client, team);
      // Only once the hub answered: a hub that is down must not reset the cursor or the queue.
      bindHub(db, `${hubLabel(url)}#${team}`);
      for (;;) {
        const ops = unsentOps(db, BATCH);
        if (ops.length === 0) break;
        pushedNew += await pushOps(client, ops);
        // Marked only once the hub committed them: a crash in between pushes them again, harmlessly.
        markPushed(db, ops.map((o) => o.id));
        pushed += ops.length;
      }
      for (;;) {
        const ops = await pullOps(client, syncStatus(db).cursor, BATCH);
        if (ops.length === 0) break;
        applied += applyOps(db, ops, ops[ops.length - 1]!.seq);
        pulled += ops.length;
      }
    });
  } catch (err) {
    const message = redactHubPassword(err instanceof Error ? err.message : String(err), url);
    recordSyncResult(db, message);
    throw err instanceof HubError ? err : new HubError(message);
  }
  recordSyncResult(db, undefined);
  const status = syncStatus(db);
  return { pushed, pushedNew, pulled, applied, cursor: status.cursor, pending: status.pending };
}
