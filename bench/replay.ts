// `npm run bench -- replay [errors.jsonl]`: the learning loop replayed through the hook process.
//
// For every class of an error corpus (default eval/errors/corpus.jsonl, made by
// scripts/gen-error-corpus.mjs from real tool outputs), as separate
// sessions would: instance 1 fails, the fix is applied (a successful step), the failed command is
// run again and succeeds: the hook learns the fix. Later, in new sessions, instance 2 fails (then
// is resolved the same way) and instance 3 fails. We count how often the 2nd and 3rd occurrence
// were answered with their own class's fix ("right"), another class's ("wrong") or nothing
// ("none"), and time every hook call as Claude Code runs it: a fresh process of the command
// install-hooks writes (`node --no-regexp-tier-up dist/cjs/cli.js hook`) with the event on stdin
// (wall time from spawn to exit).
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { loadCorpus, type CorpusExample } from "../test/error-corpus.js";
import { emit, percentile } from "./lib.js";
import { HOOK_NODE_FLAGS } from "../src/hooks/install.js";
import { bashFailure, bashSuccess } from "../test/hook-events.js";

type Example = CorpusExample;

const CLI = fileURLToPath(new URL("../../dist/cjs/cli.js", import.meta.url));
const ROOT = fileURLToPath(new URL("../../", import.meta.url));

function corpusPath(): string {
  const arg = process.argv[2] ?? "eval/errors/corpus.jsonl";
  return isAbsolute(arg) ? arg : existsSync(resolve(arg)) ? resolve(arg) : resolve(ROOT, arg);
}

const home = mkdtempSync(join(tmpdir(), "xmcp-replay-"));
const cwd = mkdtempSync(join(tmpdir(), "xmcp-replay-cwd-"));
const env: Record<string, string> = {};
for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
env.EXPERIENCE_MCP_HOME = home;

const latencies: number[] = [];

function hook(event: Record<string, unknown>): Promise<string> {
  return new Promise((done, fail) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [...HOOK_NODE_FLAGS, CLI, "hook"], { env, stdio: ["pipe", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.on("error", fail);
    child.on("close", (code) => {
      latencies.push(performance.now() - t0);
      if (code !== 0) fail(new Error(`hook exited ${code}`));
      else done(out);
    });
    child.stdin.end(JSON.stringify(event));
  });
}

const failure = (session: string, e: Example) => hook(bashFailure(session, cwd, e.command, `Exit code ${e.exit_code}\n${e.output}`, `${session}-fail`));
const success = (session: string, command: string) => hook(bashSuccess(session, cwd, command));

/** The fix a session applies: the corpus's one-line fix stands for the commands/edits it names. */
const resolveIt = async (session: string, e: Example) => {
  await success(session, e.fix);
  await success(session, e.command);
};

type Verdict = "right" | "wrong" | "none";

/** right: the answer carries this class's fix; wrong: an answer without it; none: no answer. */
function judge(answer: string, e: Example): Verdict {
  if (!answer.trim()) return "none";
  const context = (JSON.parse(answer) as { hookSpecificOutput: { additionalContext: string } }).hookSpecificOutput.additionalContext;
  return context.includes(e.fix) ? "right" : "wrong";
}

async function main(): Promise<void> {
  const file = corpusPath();
  if (!existsSync(file)) {
    // A missing corpus is a failed benchmark, not an empty success.
    process.stderr.write(`bench replay: no corpus at ${file}; pass the path of a JSONL error corpus\n`);
    process.exitCode = 1;
    return;
  }
  const examples = loadCorpus(file);
  const classes = [...new Set(examples.map((e) => e.class))];
  const of = (cls: string, i: number) => examples.find((e) => e.class === cls && e.instance === i);

  // Node's own start-up on this machine, for reading the hook numbers.
  const bare: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    spawnSync(process.execPath, ["-e", ""]);
    bare.push(performance.now() - t0);
  }

  const counts: Record<"second" | "third", Record<Verdict, number>> = {
    second: { right: 0, wrong: 0, none: 0 },
    third: { right: 0, wrong: 0, none: 0 },
  };
  for (const cls of classes) {
    const e = of(cls, 1);
    if (!e) continue;
    await failure(`learn-${cls}`, e);
    await resolveIt(`learn-${cls}`, e);
  }
  for (const [occurrence, key] of [[2, "second"], [3, "third"]] as const) {
    for (const cls of classes) {
      const e = of(cls, occurrence);
      if (!e) continue;
      const session = `meet-${occurrence}-${cls}`;
      counts[key][judge(await failure(session, e), e)]++;
      await resolveIt(session, e);
    }
  }
  const rate = (c: Record<Verdict, number>) => Math.round((c.right / (c.right + c.wrong + c.none)) * 1000) / 1000;
  emit({ name: "replay.fix_on_recurrence", classes: classes.length, second: counts.second, third: counts.third, right_rate_second: rate(counts.second), right_rate_third: rate(counts.third) });
  const sorted = [...latencies].sort((a, b) => a - b);
  bare.sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 10) / 10;
  emit({ name: "replay.hook_latency", n: sorted.length, p50: r(percentile(sorted, 50)), p99: r(percentile(sorted, 99)), unit: "ms", node_startup_p50: r(percentile(bare, 50)) });
}

main()
  .catch((err: unknown) => {
    process.stderr.write(`bench replay: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  })
  .finally(() => {
    rmSync(home, { recursive: true, force: true });
    rmSync(cwd, { recursive: true, force: true });
  });
