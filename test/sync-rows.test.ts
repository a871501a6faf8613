// Shared experience rows in team sync (issue 12), on the local side only (no hub needed): which
// rows are queued, that private stays private through training, and that applying row ops gives
// the same store whatever order they arrive in.
import { test } from "node:test";
import assert from "node:assert/strict";
import { openDatabase, type Db } from "../src/storage/db.js";
import { ExperienceStore } from "../src/experience/store.js";
import { applyOps, enableSync, unsentOps, type Op } from "../src/sync/local.js";
import { connect, textOf } from "./helpers.js";
import { mulberry32 } from "./prng.js";
import { tempHome } from "./temp.js";

function fresh(t: { after(fn: () => void): void }): Db {
  const { home, cleanup } = tempHome("xmcp-rows-");
  const db = openDatabase(home);
  t.after(() => {
    db.close();
    cleanup();
  });
  return db;
}

const queued = (db: Db): Array<[string, string]> => unsentOps(db, 10_000).map((o) => [o.kind, String(o.payload.value ?? o.payload.signature)]);

test("which rows are queued: shared ones and a shared tensor's, never private ones nor training copies", (t) => {
  const db = fresh(t);
  const store = new ExperienceStore(db);
  enableSync(db);
  store.remember("notes", { query: "", key: "plain", value: "stays-local" });
  store.remember("notes", { query: "", key: "marked", value: "goes-1", shared: true });
  store.remember("notes", { query: "", key: "secret", value: "private-1", private: true });
  assert.deepEqual(queued(db).map(([, v]) => v), ["goes-1"]);
  // Sharing the tensor sends its rows but the private one; a row written later goes too.
  assert.equal(store.setShared("notes", true), true);
  store.remember("notes", { query: "", key: "later", value: "goes-2" });
  store.remember("notes", { query: "", key: "secret", value: "private-1" });
  store.remember("notes", { query: "", key: "secret 2", value: "private-2", private: true, shared: true });
  assert.deepEqual(queued(db).map(([, v]) => v).sort(), ["goes-1", "goes-2", "stays-local"]);
  assert.equal(store.setShared("nothing-here", true), false);

  // Training: a staging copy sends nothing, and the private row is still private once deployed
  // and rewritten, so reinforcing it afterwards sends nothing either.
  const before = queued(db).length;
  const version = store.createStaging("notes", "train");
  const privateRow = store.rows("notes", version).find((r) => r.value === "private-1")!;
  const rewritten = store.replaceRow(privateRow.id, { query: "", key: "secret", value: "private-1b" });
  store.activate("notes", version, 1);
  store.remember("notes", { query: "", key: "secret", value: "private-1b" });
  assert.equal(db.prepare("SELECT private FROM rows WHERE id = ?").pluck().get(rewritten), 1);
  assert.equal(queued(db).length, before, JSON.stringify(queued(db).slice(before)));
  assert.ok(!JSON.stringify(unsentOps(db, 10_000)).includes("private-"));

  // Forgetting a row that travelled queues a tombstone; forgetting a local one does not.
  const goes = store.rows("notes").find((r) => r.value === "goes-2")!;
  store.forget([goes.id]);
  assert.deepEqual(queued(db).at(-1)?.[0], "row.forget");
});

test("applying row ops gives the same store in any order; a teammate's tombstone spares a private row", (t) => {
  // Machine X: puts, a reinforce, a forget and a put again after it.
  const x = fresh(t);
  const store = new ExperienceStore(x);
  enableSync(x);
  let clock = 1_000;
  const realNow = Date.now;
  Date.now = () => clock;
  try {
    for (let i = 0; i < 6; i++) store.remember("team/notes", { query: "", key: `situation ${i}`, value: `answer ${i}`, tags: [`t${i}`], shared: true });
    clock += 10;
    store.remember("team/notes", { query: "", key: "situation 1", value: "answer 1", shared: true });
    const ids = Object.fromEntries(store.rows("team/notes").map((r) => [r.key, r.id]));
    store.forget([ids["situation 2"]!, ids["situation 3"]!]);
    clock += 10;
    store.remember("team/notes", { query: "", key: "situation 3", value: "answer 3", shared: true });
  } finally {
    Date.now = realNow;
  }
  // The SQL triggers stamp ops with the real clock: order them as the puts and forgets happened.
  const ops = unsentOps(x, 10_000).map((o, i) => ({ ...o, machine: "x", payload: { ...o.payload, at: 1_000 + i } })) as Op[];
  assert.ok(ops.some((o) => o.kind === "row.forget"));

  const rand = mulberry32(7);
  const results: string[] = [];
  for (let trial = 0; trial < 4; trial++) {
    const y = fresh(t);
    enableSync(y);
    const ys = new ExperienceStore(y);
    // Y holds a private copy of a row X forgets: the tombstone must not remove it.
    ys.remember("team/notes", { query: "", key: "situation 2", value: "answer 2", private: true });
    const order = [...ops];
    for (let i = order.length - 1; i > 0 && trial > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (let i = 0; i < order.length; i += 3) applyOps(y, order.slice(i, i + 3), 0);
    applyOps(y, order, 0);
    results.push(JSON.stringify(ys.rows("team/notes").map((r) => [r.key, r.value, r.tags.sort()]).sort()));
    // Applying queues nothing of its own.
    assert.deepEqual(unsentOps(y, 100), []);
  }
  for (const r of results.slice(1)) assert.equal(r, results[0]);
  const keys = (JSON.parse(results[0]!) as Array<[string]>).map(([k]) => k);
  assert.deepEqual(keys, ["situation 0", "situation 1", "situation 2", "situation 3", "situation 4", "situation 5"]);
});

test("remember refuses a row that is both shared and private, in one sentence", async () => {
  const c = await connect({ toolsets: ["memory"] });
  try {
    const r = await c.call("remember", { key: "k", value: "v", shared: true, private: true });
    assert.equal(r.isError, true);
    assert.match(textOf(r), /cannot be both shared and private/);
    const ok = await c.ok<{ created: boolean }>("remember", { key: "k", value: "v", shared: true });
    assert.equal(ok.created, true);
  } finally {
    await c.close();
  }
});
