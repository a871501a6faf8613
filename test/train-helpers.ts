/** Shared by the training tests: a seeded data directory, waiting on the database, ageing heartbeats. */
import { openDatabase, type Db } from "../src/experience/db.js";
import { ExperienceStore } from "../src/experience/store.js";
import { CODER, seedModule } from "../src/harness/modules.js";
import { tempHome } from "./temp.js";

/** A fresh data directory whose coder tensors hold the seed rows (version 1). */
export function seededHome(): { home: string; db: Db; store: ExperienceStore; cleanup: () => void } {
  const t = tempHome();
  const db = openDatabase(t.home);
  const store = new ExperienceStore(db);
  seedModule(store, CODER);
  return { home: t.home, db, store, cleanup: () => (db.close(), t.cleanup()) };
}

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
