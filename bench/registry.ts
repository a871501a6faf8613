// Fix registry benchmark: exact lookup at 100, 10,000 and 50,000 signatures (O(1): the time should
// stay flat), and a full lookup from a raw ~2 KB error output (normalize + hash + index).
// "exact_lookup" is the default read path (the index is checked against the database at most every
// 1 ms); "exact_lookup_strict" asks SQLite for PRAGMA data_version on every read. At 100 entries
// everything sits in L1/L2; at 10k+ each lookup takes a few cache misses, so 10k → 50k is the
// algorithmic ratio and 100 → 50k also shows the memory hierarchy.
// `node dist-test/bench/registry.js [--size N]`; prints one JSON line per measurement.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase } from "../src/storage/db.js";
import { FixRegistry } from "../src/registry/registry.js";
import { emit, measure } from "./lib.js";

const LARGE = Number(process.argv[process.argv.indexOf("--size") + 1]) || 50_000;
const SMALL = 100;

// Deterministic PRNG so every run registers the same errors.
let seed = 0x2f6e2b1;
function rand(n: number): number {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed % n;
}
const pick = <T>(xs: readonly T[]): T => xs[rand(xs.length)]!;

const WORDS =
  "value type module package function method property argument parameter index key column table file directory stream buffer socket handler request response session token config schema record field element node child parent promise iterator generator callback listener channel queue worker thread process signal lock cache entry route middleware template component context provider reducer selector store action effect hook state render mount target source output input format encoding locale timezone offset length size limit range count total".split(
    " ",
  );
const ADJ = "missing invalid unexpected unknown undefined duplicate incompatible unsupported readonly detached closed empty stale circular ambiguous deprecated private abstract".split(" ");
const PY = "Key Index Value Type Attribute Name Import Runtime Lookup Assertion Permission Timeout Connection Unicode Recursion".split(" ");

/** One realistic error output whose headline differs from the others in words, not only in masked parts. */
function makeError(i: number): { error: string; context: string } {
  const [w1, w2, w3] = [pick(WORDS), pick(WORDS), pick(WORDS)];
  const a = pick(ADJ);
  switch (i % 6) {
    case 0:
      return { context: "tsc", error: `src/${w1}/${w2}.ts(${rand(300)},${rand(80)}): error TS${2000 + rand(6000)}: ${cap(a)} ${w1} ${w2} is not assignable to ${w3} '${w1}Like'.\n` };
    case 1:
      return {
        context: "python3",
        error: `Traceback (most recent call last):\n  File "/srv/${w1}/app.py", line ${rand(400)}, in <module>\n    run()\n${pick(PY)}Error: ${a} ${w1} ${w2} for ${w3} '${w1}_${rand(99)}'\n`,
      };
    case 2:
      return { context: "gcc", error: `${w1}.c:${rand(300)}:${rand(80)}: error: ${a} ${w2} of ${w3} ‘${w1}’ [-W${a}-${w2}]\ncc1: all warnings being treated as errors\n` };
    case 3:
      return { context: "node", error: `TypeError: Cannot ${pick(["read", "set", "call", "bind"])} ${w1} of ${a} ${w2} (${w3} '${w1}')\n    at ${w1} (/app/${w2}.js:${rand(200)}:${rand(40)})\n` };
    case 4:
      return { context: "git", error: `fatal: ${a} ${w1}: ${w2} ${w3} '${w1}/${w2}' does not ${pick(["exist", "match", "resolve", "apply"])}\n` };
    default:
      return { context: "cargo", error: `error[E0${100 + rand(800)}]: ${a} ${w1} in ${w2} \`${w3}\`\n --> src/${w1}.rs:${rand(200)}:${rand(60)}\n` };
  }
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** A ~2 KB Node.js crash: excerpt, caret, a long stack and an error object dump. */
function rawNodeCrash(name: string): string {
  const frames = Array.from({ length: 18 }, (_, k) => `    at ${pick(WORDS)}${k} (/home/ci/workspace/app/node_modules/${pick(WORDS)}/lib/${pick(WORDS)}.js:${rand(900)}:${rand(60)})`);
  return [
    "/home/ci/workspace/app/src/server/routes/orders.js:42",
    `    const total = ${name}(order.items);`,
    "                  ^",
    "",
    `TypeError: ${name} is not a function`,
    ...frames,
    "    at process.processTicksAndRejections (node:internal/process/task_queues:95:5) {",
    "  code: undefined",
    "}",
    "",
    "Node.js v20.20.2",
  ].join("\n");
}

async function main(): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), "xmcp-bench-registry-"));
  const db = openDatabase(home);
  // A throwaway database: skip the fsyncs of the bulk load (lookups never touch the disk).
  db.pragma("synchronous = OFF");
  try {
    const registry = new FixRegistry(db);
    const signatures: string[] = [];
    let i = 0;
    // Bulk load: batches of registrations share one transaction (each register is then a savepoint).
    const fill = (n: number) => {
      const batch = db.transaction(() => {
        for (let b = 0; b < 1000 && registry.size < n; b++) signatures.push(registry.register({ ...makeError(i++), fix: `fix number ${i}` }).signature);
      });
      while (registry.size < n) batch.immediate();
    };
    const exact = (n: number) => (k: number) => {
      if (!registry.lookupSignature(signatures[(k * 7919) % n]!)) throw new Error("lookup missed a registered signature");
    };

    fill(SMALL);
    const small = await measure("registry.exact_lookup", 50_000, exact(SMALL), { unit: "us", warmup: 5_000, extra: { size: SMALL } });
    emit(small);

    const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
    const t0 = performance.now();
    // 10,000 entries no longer fit in the CPU caches: from there on the time must stay flat.
    const MID = Math.min(10_000, LARGE);
    fill(MID);
    const mid = await measure("registry.exact_lookup", 50_000, exact(MID), { unit: "us", warmup: 5_000, extra: { size: MID } });
    emit(mid);
    fill(LARGE);
    const registerMs = performance.now() - t0;
    const large = await measure("registry.exact_lookup", 50_000, exact(LARGE), { unit: "us", warmup: 5_000, extra: { size: LARGE } });
    emit({
      ...large,
      ratio_vs_100: ratio(large.p50, small.p50),
      ratio_vs_10k: ratio(large.p50, mid.p50),
      goal: "ratio <= 1.3, p50 <= 5 us",
      register_per_s: Math.round(((LARGE - SMALL) / registerMs) * 1000),
    });

    // The same with a coherence check (PRAGMA data_version) on every read, as a lone request pays it.
    const strict = new FixRegistry(db, { coherenceMs: 0 });
    const strictLookup = (n: number) => (k: number) => {
      if (!strict.lookupSignature(signatures[(k * 7919) % n]!)) throw new Error("lookup missed a registered signature");
    };
    const strictSmall = await measure("registry.exact_lookup_strict", 50_000, strictLookup(SMALL), { unit: "us", warmup: 5_000, extra: { size: SMALL } });
    emit(strictSmall);
    const strictLarge = await measure("registry.exact_lookup_strict", 50_000, strictLookup(LARGE), { unit: "us", warmup: 5_000, extra: { size: LARGE } });
    emit({ ...strictLarge, ratio_vs_100: ratio(strictLarge.p50, strictSmall.p50) });

    // Full path from a raw crash output: normalize, classify, hash, index.
    registry.register({ error: rawNodeCrash("computeTotal"), fix: "import the function, not the module object", context: "node" });
    // Same template and name (other frames, paths, lines): exact.
    const raw = rawNodeCrash("computeTotal");
    emit(
      await measure(
        "registry.lookup_raw_exact",
        2_000,
        () => {
          if (registry.lookup(raw, { context: "node" })[0]?.match !== "exact") throw new Error("expected an exact match");
        },
        { unit: "us", warmup: 200, extra: { size: registry.size, input_chars: raw.length } },
      ),
    );
    // Same template, another name: similar, with the names compared and the fix adapted.
    const renamed = rawNodeCrash("sumItems");
    emit(
      await measure(
        "registry.lookup_raw_renamed",
        2_000,
        () => {
          if (registry.lookup(renamed, { context: "node" })[0]?.match !== "similar") throw new Error("expected a similar match");
        },
        { unit: "us", warmup: 200, extra: { size: registry.size, input_chars: renamed.length } },
      ),
    );
    // No exact template: the similar match over the feature index has to do the work.
    const unseen = raw.replace("is not a function", "is not a constructor");
    emit(
      await measure("registry.lookup_raw_similar", 2_000, () => registry.lookup(unseen, { context: "node" }), {
        unit: "us",
        warmup: 200,
        extra: { size: registry.size, input_chars: unseen.length },
      }),
    );
  } finally {
    db.close();
    rmSync(home, { recursive: true, force: true });
  }
}

await main();
