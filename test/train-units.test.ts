/** The pieces of training: edit distance, the gradient hunk, the dataset split and mix, gates, tensor versions. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { openDatabase } from "../src/storage/db.js";
import { ExperienceStore } from "../src/experience/store.js";
import { assembleDataset, REPLAY_SHARE } from "../src/train/dataset.js";
import { checkGates, gatesSchema } from "../src/train/gates.js";
import { unifiedHunk } from "../src/train/hunk.js";
import { levenshtein, normalizedDistance } from "../src/train/levenshtein.js";
import { acquireLock, claimNext, enqueue, getRequest, releaseLockIfIdle } from "../src/train/queue.js";
import { tempHome } from "./temp.js";

test("levenshtein: known distances, symmetric, normalized to [0, 1]", () => {
  const cases: Array<[string, string, number]> = [
    ["", "", 0],
    ["", "abc", 3],
    ["kitten", "sitting", 3],
    ["flaw", "lawn", 2],
    ["ls -la", "ls -l", 1],
    ["head -n 1 {1}", "tail -n 1 {1}", 4],
    ["çà", "ca", 2],
  ];
  for (const [a, b, d] of cases) {
    assert.equal(levenshtein(a, b), d, `${a} / ${b}`);
    assert.equal(levenshtein(b, a), d, `${b} / ${a}`);
  }
  assert.equal(normalizedDistance("", ""), 0);
  assert.equal(normalizedDistance("abc", ""), 1);
  assert.equal(normalizedDistance("kitten", "sitting"), 3 / 7);
});

test("gradient hunk: unified -/+ lines for what differs, nothing when equal", () => {
  assert.equal(unifiedHunk("same", "same"), "");
  assert.equal(unifiedHunk("head -n 1 {1}", "tail -n 1 {1}"), "--- answer\tactual\n+++ answer\texpected\n@@ -1,1 +1,1 @@\n-head -n 1 {1}\n+tail -n 1 {1}\n");
  // Unchanged lines around the change stay as context.
  assert.equal(unifiedHunk("a\nb\nc", "a\nx\nc"), "--- answer\tactual\n+++ answer\texpected\n@@ -1,3 +1,3 @@\n a\n-b\n+x\n c\n");
  // No answer at all (nothing fitted): the whole expected output is added.
  assert.equal(unifiedHunk("", "ls"), "--- answer\tactual\n+++ answer\texpected\n@@ -0,0 +1,1 @@\n+ls\n");
});

test("dataset: deterministic split, held-out never trained on, replay fills 30 % of the batch", () => {
  const t = tempHome();
  const db = openDatabase(t.home);
  try {
    const store = new ExperienceStore(db);
    store.rememberMany("t", Array.from({ length: 40 }, (_, i) => ({ query: "", key: `old situation ${i}`, value: `old answer ${i}` })));
    const examples = Array.from({ length: 30 }, (_, i) => ({ input: `new situation ${i}`, expected: `new answer ${i}` }));
    examples.push({ input: "new situation 0", expected: "new answer 0" }, { input: "new situation 0", expected: "other" });
    const r = enqueue(db, { tensor: "t", backend: "experience", gates: {}, examples }).request;
    const a = assembleDataset(db, store, r, 1);
    const b = assembleDataset(db, store, r, 1);
    assert.deepEqual(a, b, "same request, same dataset");
    assert.equal(a.counts.examples, 32);
    assert.equal(a.counts.new_train + a.counts.new_eval, 30, "one item per distinct input");
    assert.equal(a.counts.conflicts, 1);
    const item0 = [...a.train, ...a.eval].find((i) => i.input === "new situation 0")!;
    assert.equal(item0.expected, "new answer 0", "the majority answer wins");
    assert.ok(a.counts.new_eval > 0 && a.counts.new_train > a.counts.new_eval);
    const trainInputs = new Set(a.train.map((i) => i.input));
    assert.ok(a.eval.every((i) => !trainInputs.has(i.input)));
    const share = a.counts.replay_train / a.train.length;
    assert.ok(Math.abs(share - REPLAY_SHARE) < 0.05, `replay share ${share}`);
    assert.equal(a.counts.replay_eval, 40 - a.counts.replay_train, "the other base rows check regressions");
    // A second request over the same examples splits them the same way (the split follows the input).
    const other = { ...r, id: "another" };
    assert.deepEqual(assembleDataset(db, store, other, 1).eval.map((i) => i.input).sort(), a.eval.map((i) => i.input).sort());
  } finally {
    db.close();
    t.cleanup();
  }
});

test("gates: relative gates reject no-improvement and regressions; thresholds apply", () => {
  const m = (e: number, d: number, n = 10) => ({ n, exact_match: e, mean_edit_distance: d });
  const g = gatesSchema.parse({});
  assert.equal(checkGates(g, { active: { heldout: m(0.2, 0.5), replay: m(1, 0) }, staging: { heldout: m(0.6, 0.2), replay: m(1, 0) } }).passed, true);
  const same = checkGates(g, { active: { heldout: m(0.2, 0.5), replay: m(1, 0) }, staging: { heldout: m(0.2, 0.5), replay: m(1, 0) } });
  assert.deepEqual(same.results.filter((r) => !r.passed).map((r) => r.name), ["improvement"]);
  const regress = checkGates(g, { active: { heldout: m(0.2, 0.5), replay: m(1, 0) }, staging: { heldout: m(0.6, 0.2), replay: m(0.9, 0.1) } });
  assert.deepEqual(regress.results.filter((r) => !r.passed).map((r) => r.name), ["replay_regression"]);
  const strict = checkGates(gatesSchema.parse({ min_exact_match: 0.7 }), { active: { heldout: m(0.2, 0.5), replay: m(1, 0) }, staging: { heldout: m(0.6, 0.2), replay: m(1, 0) } });
  assert.deepEqual(strict.results.filter((r) => !r.passed).map((r) => r.name), ["exact_match"]);
  const empty = checkGates(g, { active: { heldout: m(0, 0, 0), replay: m(1, 0) }, staging: { heldout: m(0, 0, 0), replay: m(1, 0) } });
  assert.equal(empty.passed, false);
});

test("versions: staging is invisible to recall until activated; rollback; prune keeps 3; numbers are never reused", () => {
  const t = tempHome();
  const db = openDatabase(t.home);
  try {
    const store = new ExperienceStore(db);
    store.remember("t", { query: "", key: "deploy the docs", value: "npm run docs" });
    const v2 = store.createStaging("t", "test");
    assert.equal(v2, 2);
    const old = store.rows("t", 2)[0]!;
    store.replaceRow(old.id, { query: "", key: "deploy the docs", value: "make docs" });
    assert.equal(store.recall("deploy docs", { tensor: "t" })[0]?.value, "npm run docs");
    assert.equal(store.recall("deploy docs", { tensor: "t", version: 2 })[0]?.value, "make docs");
    assert.throws(() => store.activate("t", 2, 7), /changed/);
    store.activate("t", 2, 1);
    assert.equal(store.recall("deploy docs", { tensor: "t" })[0]?.value, "make docs");
    assert.deepEqual(store.rollback("t"), { from: 2, to: 1 });
    assert.equal(store.recall("deploy docs", { tensor: "t" })[0]?.value, "npm run docs");
    assert.throws(() => store.rollback("t"), /no older version/);

    const v3 = store.createStaging("t", "dropped");
    store.dropStaging("t", v3);
    const v4 = store.createStaging("t", "kept");
    assert.equal(v4, v3 + 1, "a dropped number is not reused");
    store.activate("t", v4, 1);
    const v5 = store.createStaging("t", "five");
    store.activate("t", v5, v4);
    assert.deepEqual(store.prune("t", 3), [1]);
    assert.deepEqual(store.versions("t").map((v) => [v.version, v.status]), [[5, "active"], [4, "retired"], [2, "retired"]]);
    assert.equal(store.rows("t", 1).length, 0);
  } finally {
    db.close();
    t.cleanup();
  }
});

test("queue: atomic claim, one worker lock, the lock is not released while a request waits", () => {
  const t = tempHome();
  const db = openDatabase(t.home);
  try {
    new ExperienceStore(db).remember("t", { query: "", key: "k", value: "v" });
    assert.equal(acquireLock(db, "w1"), true);
    assert.equal(acquireLock(db, "w2"), false, "a live worker holds it");
    const r = enqueue(db, { tensor: "t", backend: "experience", gates: {}, examples: [] }).request;
    assert.equal(releaseLockIfIdle(db, "w1"), false, "a request waits");
    const claimed = claimNext(db, "w1").request!;
    assert.equal(claimed.id, r.id);
    assert.equal(claimNext(db, "w2").request, undefined, "claimed once");
    assert.equal(getRequest(db, r.id)!.worker, "w1");
    assert.equal(releaseLockIfIdle(db, "w1"), true);
    assert.equal(acquireLock(db, "w2"), true);
  } finally {
    db.close();
    t.cleanup();
  }
});
