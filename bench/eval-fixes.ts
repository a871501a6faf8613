// `npm run eval:fixes -- ../shared/eval/errors-dev.jsonl [--verbose]`
//
// Fix recall on real tool outputs: register the fix of instance 1 of every class (context = the
// tool), look up instances 2 and 3, and count
//  - hit@1: the top result is the fix of the same class;
//  - near-miss confusion: for classes marked near_miss_of, how often the OTHER class's fix comes first.
// Three methods: the registry, sha256 of the raw text (exact only), token Jaccard over the raw text.
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { openDatabase } from "../src/experience/db.js";
import { tokenSet } from "../src/experience/tokenize.js";
import { FixRegistry } from "../src/registry/registry.js";
import { emit } from "./lib.js";

interface Example {
  class: string;
  instance: number;
  tool: string;
  output: string;
  fix: string;
  near_miss_of: string | null;
}

/** Registers instance-1 examples, answers a lookup with the class of its top result (or null). */
interface Method {
  name: string;
  register(e: Example): void;
  top(e: Example): string | null;
  /** Extra numbers for the JSON line. */
  extra?(): Record<string, number>;
  close?(): void;
}

function resolveInput(arg: string | undefined): string {
  if (!arg) throw new Error("usage: eval-fixes <errors.jsonl> (relative to the current directory or the repository root)");
  if (isAbsolute(arg)) return arg;
  const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
  for (const base of [process.cwd(), repoRoot]) {
    const p = resolve(base, arg);
    if (existsSync(p)) return p;
  }
  throw new Error(`${arg}: not found in ${process.cwd()} or ${repoRoot}`);
}

function registryMethod(): Method {
  const home = mkdtempSync(join(tmpdir(), "xmcp-eval-"));
  const db = openDatabase(home);
  const registry = new FixRegistry(db);
  const classOf = new Map<string, string>();
  let exact = 0;
  return {
    name: "registry",
    register(e) {
      const r = registry.register({ error: e.output, fix: e.fix, context: e.tool });
      classOf.set(r.signature, e.class);
    },
    top(e) {
      const m = registry.lookup(e.output, { context: e.tool, limit: 1 })[0];
      if (m?.match === "exact") exact++;
      return m ? (classOf.get(m.signature) ?? null) : null;
    },
    extra: () => ({ exact_top: exact }),
    close() {
      db.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

function shaMethod(): Method {
  const sha = (t: string) => createHash("sha256").update(t).digest("hex").slice(0, 16);
  const byHash = new Map<string, string>();
  return {
    name: "sha256-raw",
    register: (e) => void byHash.set(sha(e.output), e.class),
    top: (e) => byHash.get(sha(e.output)) ?? null,
  };
}

function jaccardMethod(): Method {
  const docs: { cls: string; tokens: Set<string> }[] = [];
  return {
    name: "jaccard-raw",
    register: (e) => void docs.push({ cls: e.class, tokens: new Set(tokenSet(e.output)) }),
    top(e) {
      const q = tokenSet(e.output);
      let best: string | null = null;
      let bestScore = 0;
      for (const d of docs) {
        let inter = 0;
        for (const t of q) if (d.tokens.has(t)) inter++;
        const score = inter / (q.length + d.tokens.size - inter);
        if (score > bestScore) [best, bestScore] = [d.cls, score];
      }
      return best;
    },
  };
}

function evaluate(method: Method, examples: readonly Example[], verbose: boolean) {
  const registered = examples.filter((e) => e.instance === 1);
  for (const e of registered) method.register(e);
  const known = new Set(registered.map((e) => e.class));
  let lookups = 0;
  let hits = 0;
  let nearLookups = 0;
  let confused = 0;
  for (const e of examples) {
    if (e.instance === 1 || !known.has(e.class)) continue;
    const top = method.top(e);
    lookups++;
    if (top === e.class) hits++;
    else if (verbose) process.stderr.write(`[${method.name}] miss ${e.class}#${e.instance}: got ${top ?? "nothing"}\n`);
    if (e.near_miss_of) {
      nearLookups++;
      if (top === e.near_miss_of) confused++;
    }
  }
  const extra = method.extra?.() ?? {};
  method.close?.();
  const r4 = (x: number) => Math.round(x * 10000) / 10000;
  return {
    name: "eval-fixes",
    method: method.name,
    classes: known.size,
    lookups,
    hit_at_1: r4(lookups ? hits / lookups : 0),
    near_miss_lookups: nearLookups,
    near_miss_confusion: r4(nearLookups ? confused / nearLookups : 0),
    ...extra,
  };
}

function main(): void {
  const args = process.argv.slice(2);
  const verbose = args.includes("--verbose");
  const file = resolveInput(args.find((a) => !a.startsWith("--")));
  const examples = readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Example);
  const results = [registryMethod(), shaMethod(), jaccardMethod()].map((m) => evaluate(m, examples, verbose));
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`.padStart(8);
  process.stdout.write(`fix recall on ${file}: ${results[0]!.classes} classes, ${results[0]!.lookups} lookups\n`);
  process.stdout.write(`${"method".padEnd(12)} ${"hit@1".padStart(8)} ${"near-miss".padStart(10)}\n`);
  for (const r of results) process.stdout.write(`${r.method.padEnd(12)} ${pct(r.hit_at_1)} ${pct(r.near_miss_confusion).padStart(10)}\n`);
  for (const r of results) emit(r);
}

main();
