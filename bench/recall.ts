// recall latency in-process at 10k, 100k and 1M rows. The databases are built once into
// .bench-data/ (ignored by git) and reused, since building 1M rows takes a while.
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { openDatabase } from "../src/storage/db.js";
import { ExperienceStore, type NewRow } from "../src/experience/store.js";
import { jaccard, tokenSet } from "../src/experience/tokenize.js";
import { emit, measure } from "./lib.js";
import { mulberry32 } from "../test/prng.js";

const SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "to", "sa", "vi", "de", "po", "ga", "fu", "zen", "tor", "bal", "ix"];
const VOCAB_SIZE = 50_000;
const vocab = Array.from({ length: VOCAB_SIZE }, (_, i) => {
  let w = "";
  let n = i + 1;
  while (n > 0) {
    w += SYLLABLES[n % SYLLABLES.length];
    n = Math.floor(n / SYLLABLES.length);
  }
  return w;
});

/** Zipf-like word choice: a few words are very common, most are rare — like real text. */
function word(rand: () => number): string {
  const r = Math.floor(Math.pow(rand(), 2.2) * VOCAB_SIZE);
  return vocab[r]!;
}

function sentence(rand: () => number, min: number, max: number): string {
  const n = min + Math.floor(rand() * (max - min + 1));
  return Array.from({ length: n }, () => word(rand)).join(" ");
}

function makeRow(rand: () => number, i: number): NewRow {
  return { query: sentence(rand, 3, 5), key: sentence(rand, 8, 15), value: `${sentence(rand, 2, 6)} #${i}` };
}

function build(size: number): string {
  const home = join(process.cwd(), ".bench-data", `recall-${size}`);
  if (existsSync(join(home, "experience.db"))) {
    const db = openDatabase(home);
    const n = new ExperienceStore(db).listTensors().find((t) => t.name === "bench")?.rows ?? 0;
    db.close();
    if (n === size) return home;
  }
  mkdirSync(home, { recursive: true });
  const db = openDatabase(home);
  const store = new ExperienceStore(db);
  const rand = mulberry32(size);
  const t0 = Date.now();
  for (let done = 0; done < size; ) {
    const batch: NewRow[] = [];
    for (let j = 0; j < 20_000 && done < size; j++, done++) batch.push(makeRow(rand, done));
    store.rememberMany("bench", batch);
  }
  db.pragma("wal_checkpoint(TRUNCATE)");
  db.close();
  process.stderr.write(`built ${size} rows in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  return home;
}

const sizes = (process.env.BENCH_RECALL_SIZES ?? "10000,100000,1000000").split(",").map(Number);
for (const size of sizes) {
  const home = build(size);
  const db = openDatabase(home);
  const store = new ExperienceStore(db);
  const rand = mulberry32(7);
  // Queries look like situations met again: most words of some stored row's key, in another
  // order, plus a few unrelated words.
  const keyOf = db.prepare<[number], string>("SELECT key FROM rows WHERE id = ?").pluck();
  const tokensOf = db.prepare<[number], string>("SELECT tokens FROM row_terms WHERE id = ?").pluck();
  const makeQueries = (n: number) =>
    Array.from({ length: n }, () => {
      const source = 1 + Math.floor(rand() * size);
      const words = (keyOf.get(source) ?? "").split(" ").filter(() => rand() < 0.7);
      return { source, text: [...words.reverse(), sentence(rand, 1, 3)].join(" ") };
    });
  const queries = makeQueries(600);
  const fresh = makeQueries(200);
  // Speed means little without the right answer: how often is the source row ranked first, and
  // how often did the bounded candidate set miss a row scoring higher than the one returned?
  let found = 0;
  let missed = 0;
  for (const q of queries) {
    const top = store.recall(q.text, { tensor: "bench", k: 1 })[0];
    if (top?.id === q.source) {
      found++;
      continue;
    }
    const sourceScore = jaccard(new Set(tokenSet(q.text)), (tokensOf.get(q.source) ?? "").split(" ")).score;
    if (sourceScore > (top?.score ?? 0)) missed++;
  }
  const line = await measure(`recall_${size}_rows`, 500, (i) => store.recall(queries[i % queries.length]!.text, { tensor: "bench", k: 5 }), {
    unit: "ms",
    warmup: 100,
    extra: {
      // Warm: each timed query was run during the quality pass or the warm-up just before.
      cache: "warm",
      source_row_at_1: Math.round((found / queries.length) * 1000) / 1000,
      better_row_missed: Math.round((missed / queries.length) * 1000) / 1000,
    },
  });
  emit(line);
  db.close();
  // Queries never run before, on a freshly opened connection: SQLite's page cache starts empty
  // (the OS file cache may still hold the file: this is not a cold disk).
  const cold = openDatabase(home);
  const coldStore = new ExperienceStore(cold);
  emit(
    await measure(`recall_${size}_rows.first_time`, fresh.length, (i) => coldStore.recall(fresh[i]!.text, { tensor: "bench", k: 5 }), {
      unit: "ms",
      warmup: 0,
      extra: { cache: "new queries, new connection; OS file cache warm" },
    }),
  );
  cold.close();
}
