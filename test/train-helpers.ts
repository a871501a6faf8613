/** Shared by the training tests: waiting on the database, and ageing a worker's heartbeats. */
import type { Db } from "../src/experience/db.js";

/** Poll `probe` every 50 ms until it returns a value (or fail after `ms`). */
export async function until<T>(what: string, probe: () => T | undefined, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** What ten minutes without heartbeats looks like, without waiting: the request and the lock go stale. */
export function age(db: Db, id: string): void {
  db.prepare("UPDATE train_requests SET heartbeat_at = heartbeat_at - 600000 WHERE id = ?").run(id);
  db.prepare("UPDATE train_lock SET heartbeat_at = heartbeat_at - 600000").run();
}
