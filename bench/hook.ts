// Hook latency: wall time from spawn to exit of the command `install-hooks` writes into Claude
// Code's settings (`node --no-regexp-tier-up /abs/dist/cjs/cli.js hook`, event JSON on stdin), per
// event type, against a data directory whose registry holds 100 fixes. Claude Code runs it once per
// tool call (through a shell, which this leaves out).
//   hook.failure_match   PostToolUseFailure of a Bash `tsc` call whose error has a registered fix
//   hook.failure_none    PostToolUseFailure with an error nothing matches, of a generic type (fatal)
//   hook.failure_none_typed  the same with a specific type (ZeroDivisionError)
//   hook.success         PostToolUse of a Bash call in a session with a pending failure
//   hook.session_start   SessionStart (the bootstrap context from the strongest fixes)
//   hook.failure_match.bin  the same as hook.failure_match through the bin, `node dist/cli.js hook`
//                        (what install-hooks wrote before dist/cjs/cli.js existed)
//   node_startup         `node -e 0`, measured interleaved with the above: this VM's floor
// Calls are interleaved (one of each per round) so that the machine's drift hits all lines alike.
// `node dist-test/bench/hook.js [--rounds N] [--fixes N]`; prints one JSON line per measurement.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { openDatabase } from "../src/storage/db.js";
import { HOOK_NODE_FLAGS } from "../src/hooks/install.js";
import { FixRegistry } from "../src/registry/registry.js";
import { emit, percentile } from "./lib.js";
import { bashFailure, bashSuccess } from "../test/hook-events.js";

const BIN = fileURLToPath(new URL("../../dist/cli.js", import.meta.url));
const HOOK = [...HOOK_NODE_FLAGS, fileURLToPath(new URL("../../dist/cjs/cli.js", import.meta.url)), "hook"];
const ROUNDS = Number(process.argv[process.argv.indexOf("--rounds") + 1]) || 40;
const FIXES = Number(process.argv[process.argv.indexOf("--fixes") + 1]) || 100;
const WARMUP = 3;

const home = mkdtempSync(join(tmpdir(), "xmcp-bench-hook-"));
const cwd = mkdtempSync(join(tmpdir(), "xmcp-bench-hook-cwd-"));
mkdirSync(join(cwd, ".git")); // a repository, so repoOf() finds one without spawning git
const env: Record<string, string> = {};
for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
env.EXPERIENCE_MCP_HOME = home;

const TSC_ERROR = "src/invoice.ts(7,9): error TS2322: Type 'string' is not assignable to type 'number'.";
const TSC_FIX = "Make the assigned value match the declared type (e.g. Number(x)) or correct the annotation.";

// Deterministic PRNG so every run registers the same errors.
let seed = 0x5eed;
function rand(n: number): number {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed % n;
}
const pick = <T>(xs: readonly T[]): T => xs[rand(xs.length)]!;
const WORDS = "value type module package function method property argument parameter index key column table file directory stream buffer socket handler request response session token config schema".split(" ");
const ADJ = "missing invalid unexpected unknown undefined duplicate incompatible unsupported readonly detached closed empty stale circular".split(" ");
const SHAPES = [
  () => `Error: ${pick(ADJ)} ${pick(WORDS)} in ${pick(WORDS)}.${pick(WORDS)}\n    at ${pick(WORDS)} (/srv/app/src/${pick(WORDS)}.js:${rand(400)}:${rand(80)})`,
  () => `src/${pick(WORDS)}.ts(${rand(300)},${rand(60)}): error TS${2300 + rand(700)}: Property '${pick(WORDS)}' is ${pick(ADJ)} on type '${pick(WORDS)}'.`,
  () => `Traceback (most recent call last):\n  File "app/${pick(WORDS)}.py", line ${rand(500)}, in ${pick(WORDS)}\n${pick(["KeyError", "ValueError", "TypeError"])}: ${pick(ADJ)} ${pick(WORDS)} '${pick(WORDS)}'`,
  () => `npm ERR! code E${pick(["RESOLVE", "NOTFOUND", "ACCES"])}\nnpm ERR! ${pick(ADJ)} ${pick(WORDS)} ${pick(WORDS)}@${rand(9)}.${rand(20)}.${rand(9)}`,
  () => `error[E0${rand(700)}]: ${pick(ADJ)} ${pick(WORDS)} \`${pick(WORDS)}\`\n --> src/${pick(WORDS)}.rs:${rand(300)}:${rand(40)}`,
];

function seedRegistry(): void {
  const db = openDatabase(home);
  try {
    const registry = new FixRegistry(db);
    registry.register({ error: TSC_ERROR, fix: TSC_FIX, context: "npx" });
    // A word of letters only (masking keeps it) makes each error a problem of its own.
    const word = (i: number): string => (i < 26 ? "" : word(Math.floor(i / 26) - 1)) + String.fromCharCode(97 + (i % 26));
    for (let i = 0; registry.size < FIXES && i < FIXES * 2; i++) {
      const error = pick(SHAPES)().replace(/\n|$/, ` (${word(i)}zz)$&`);
      registry.register({ error, fix: `fix ${i}: ${pick(ADJ)} ${pick(WORDS)}`, context: pick(["npx", "npm", "python", "cargo", "node"]) });
    }
  } finally {
    db.close();
  }
}

function spawnTimed(args: string[], input: string | undefined): Promise<{ ms: number; out: string }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, args, { env, stdio: ["pipe", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      const ms = performance.now() - t0;
      if (code !== 0) reject(new Error(`${args.join(" ")} exited ${code}`));
      else resolve({ ms, out });
    });
    child.stdin.end(input ?? "");
  });
}

const failure = (session: string, error: string) => ({
  ...bashFailure(session, cwd, "npx tsc --noEmit", `Exit code 2\n${error}`, "toolu_fail"),
  transcript_path: "/dev/null",
});

const CASES: Record<string, () => Record<string, unknown> | undefined> = {
  node_startup: () => undefined,
  "hook.failure_match": () => failure("bench-match", TSC_ERROR),
  "hook.failure_match.bin": () => failure("bench-match", TSC_ERROR),
  // No fix fits. A generic type ("fatal") could match a fix of any type, so the whole registry is
  // loaded; a specific one loads only its own type's fixes and the generic ones.
  "hook.failure_none": () => failure("bench-none", "fatal: something nobody has seen before: zzqx frobnicated the wibble"),
  "hook.failure_none_typed": () => failure("bench-none", 'Traceback (most recent call last):\n  File "app/stats.py", line 41, in mean\nZeroDivisionError: division by zero'),
  // bench-match has a pending failure (from hook.failure_match).
  "hook.success": () => ({ ...bashSuccess("bench-match", cwd, "git status"), transcript_path: "/dev/null" }),
  "hook.session_start": () => ({ hook_event_name: "SessionStart", session_id: "bench-start", transcript_path: "/dev/null", cwd, source: "startup" }),
};

async function main(): Promise<void> {
  seedRegistry();
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(CASES).map((k) => [k, []]));
  for (let round = 0; round < WARMUP + ROUNDS; round++) {
    for (const [name, make] of Object.entries(CASES)) {
      const event = make();
      const args = name.endsWith(".bin") ? [BIN, "hook"] : HOOK;
      const { ms, out } = event ? await spawnTimed(args, JSON.stringify(event)) : await spawnTimed(["-e", "0"], undefined);
      if (name.startsWith("hook.failure_match") && !out.includes(TSC_FIX)) throw new Error(`the registered fix was not shown: ${JSON.stringify(out)}`);
      if (name.startsWith("hook.failure_none") && out.trim()) throw new Error(`an answer for an unknown error: ${out}`);
      if (round >= WARMUP) samples[name]!.push(ms);
    }
  }
  const r = (x: number) => Math.round(x * 10) / 10;
  const base = [...samples.node_startup!].sort((a, b) => a - b);
  for (const [name, xs] of Object.entries(samples)) {
    const sorted = [...xs].sort((a, b) => a - b);
    const command = name === "node_startup" ? [process.execPath, "-e", "0"] : [process.execPath, ...(name.endsWith(".bin") ? [BIN, "hook"] : HOOK)];
    const extra = name === "node_startup" ? {} : { node_startup_p50: r(percentile(base, 50)) };
    emit({ name, n: sorted.length, fixes: FIXES, p50: r(percentile(sorted, 50)), p99: r(percentile(sorted, 99)), unit: "ms", ...extra, command: command.join(" ") });
  }
}

main()
  .catch((err: unknown) => {
    process.stderr.write(`bench hook: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  })
  .finally(() => {
    if (!process.env.XMCP_BENCH_KEEP) rmSync(home, { recursive: true, force: true });
    rmSync(cwd, { recursive: true, force: true });
  });
