/** Shared by the training tests: a seeded data directory, waiting on the database, ageing heartbeats. */
import { openDatabase, type Db } from "../src/storage/db.js";
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

/** The coder module's hint for a typed command: the first line of a command-expert input. */
export const HINT = "text: type the shell command that does the task";

/** Tasks the coder seed does not know, two phrasings each, and the command for both. */
export const NEW_TASKS: ReadonlyArray<readonly [string, string, string]> = [
  ['show the last line of the file "{1}"', 'print the last line of "{1}"', "tail -n 1 {1}"],
  ['count the words in the file "{1}"', 'how many words are in the file "{1}"', "wc -w < {1}"],
  ['show the file "{1}" in reverse order', 'print the lines of "{1}" in reverse order', "tac {1}"],
  ['show the file "{1}" with line numbers', 'print "{1}" with line numbers', "nl -ba {1}"],
  ['sort the lines of the file "{1}"', 'print "{1}" sorted', "sort {1}"],
  ['count the bytes in the file "{1}"', 'how big in bytes is the file "{1}"', "wc -c < {1}"],
  ['make the file "{1}" executable', 'give "{1}" execute permission', "chmod +x {1}"],
  ['show the disk usage of the directory "{1}"', 'how much space does the directory "{1}" take', "du -sh {1}"],
];

/** The command-expert examples of the first `families` of NEW_TASKS, both phrasings each. */
export function newTaskExamples(families = NEW_TASKS.length): Array<{ input: string; expected: string }> {
  return NEW_TASKS.slice(0, families).flatMap(([a, b, cmd]) => [a, b].map((task) => ({ input: `${HINT}\ntask: ${task}`, expected: cmd })));
}
