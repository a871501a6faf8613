/**
 * `npm run eval:harness [-- --quick] [-- --offline-only] [-- --fresh]`: run_harness on the held-out families of
 * bench/harness-tasks.ts through a real tmux, offline and with a loopback LLM (test/fake-openai.ts,
 * a real HTTP server on 127.0.0.1): a "copycat" model that answers like its first worked example,
 * and a "bad" one that answers wrong, destructive and repeated commands on purpose.
 *
 * Phases, each on a fresh data directory:
 *   before        the built-in seed rows only
 *   after-other   trained (train_model + the worker, gates included) on demonstrations of the
 *                 other (calibration) families only
 *   after-demos   also trained on demonstrations of the held-out families: the same kind of task
 *                 in other words and with other parameters than the tasks measured
 * Each task runs twice: with its strict validator, and with none (as a user would call it; then
 * the harness derives checks from the words or says unverified).
 *
 * "done" is checked by the eval itself, independently of what run_harness says: a command
 * validator is run again in the session's directory; for an output validator, the command the
 * run executed last is run again by bash on fresh fixtures and its output matched. A false success
 * is an outcome "verified" on a task that is not done; destroyed counts fixture files the task did
 * not ask to change that are gone or changed. The naive baseline: type the best-retrieved row
 * (boilerplate included, no floor, no guard) and count it a success when the prompt comes back,
 * which is what run_harness did before issue 15 — computed here without tmux from the same rows.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type Connected } from "../test/helpers.js";
import { currentInput, startFakeOpenAi, type FakeOpenAi } from "../test/fake-openai.js";
import { TmuxCli } from "../src/tmux/tmux.js";
import { runWorker } from "../src/train/worker.js";
import { CODER } from "../src/harness/modules.js";
import { FIT_FLOOR } from "../src/harness/decide.js";
import { MANUAL_FLOOR, manualCandidates } from "../src/harness/manual-match.js";
import { commandExample, fillTemplate, parameterize, taskFit } from "../src/harness/slots.js";
import { checkSuite, destroyed, FAMILIES, passes, setUp, type Family, type SuiteTask } from "./harness-tasks.js";

process.env.EXPERIENCE_MCP_TRAIN_WORKER = "off";
const argv = process.argv.slice(2);
const QUICK = argv.includes("--quick");
const OFFLINE_ONLY = argv.includes("--offline-only");
const SOCKET = `xmcp-eval-harness-${process.pid}`;
const HINT = "text: type the shell command that does the task";

type Mode = "offline" | "llm-copycat" | "llm-bad";
type Phase = "before" | "after-other" | "after-demos";

interface Tally {
  runs: number;
  verified: number;
  done: number;
  false_success: number;
  destroyed: number;
  refused: number;
  no_experience: number;
  unverified: number;
  stuck_or_failed: number;
  seconds: number;
}

let createMs = 0;
const blank = (): Tally => ({ runs: 0, verified: 0, done: 0, false_success: 0, destroyed: 0, refused: 0, no_experience: 0, unverified: 0, stuck_or_failed: 0, seconds: 0 });

interface HarnessOut {
  outcome: string;
  session: string;
  trajectory: Array<{ decision: string; command: string }>;
}

// --fresh: only the families written after the manual was built (measured, never tuned on).
const FRESH = argv.includes("--fresh");
const heldOut = FAMILIES.filter((f) => f.heldOut && (!FRESH || f.fresh));
const calibration = FAMILIES.filter((f) => !f.heldOut);
const measured = (fs: Family[]) => fs.flatMap((f) => (QUICK ? f.tasks.slice(0, 1) : f.tasks));

function bash(command: string, cwd: string): string {
  return spawnSync("bash", ["-c", command], { cwd, encoding: "utf8", timeout: 10_000 }).stdout ?? "";
}

/** The last command the run typed and then ran (a text step followed by Enter). */
function lastRun(r: HarnessOut): string | undefined {
  let typed: string | undefined;
  let ran: string | undefined;
  for (const s of r.trajectory) {
    if (s.decision.startsWith("text:")) typed = s.command;
    else if (typed !== undefined && /\b(Enter|C-m|C-j)\b/.test(s.command)) {
      ran = typed;
      typed = undefined;
    }
  }
  return ran;
}

/** Is the task really done? Checked by the eval itself, not by what run_harness says. */
function reallyDone(t: SuiteTask, r: HarnessOut, cwd: string): boolean {
  if (t.validator.kind === "command") return passes(t.validator, "", cwd);
  const command = lastRun(r);
  if (!command) return false;
  const fresh = mkdtempSync(join(tmpdir(), "xmcp-eval-"));
  try {
    setUp(fresh, t);
    return passes(t.validator, bash(command, fresh), fresh);
  } finally {
    rmSync(fresh, { recursive: true, force: true });
  }
}

/** A model that answers badly on purpose: destructive, wrong and repeated commands, sane key presses. */
function badModel(user: string, n: number): string | undefined {
  const input = currentInput(user);
  if (!input.startsWith("text:")) return undefined; // decisions and keys: like the copycat
  const bad = ["rm -rf -- *", "ls", "ls", "echo {1} > {1}", "cat /etc/hostname", "ls", "kill -9 1"];
  return bad[n % bad.length];
}

async function train(c: Connected, families: Family[]): Promise<string> {
  if (families.length === 0) return "none";
  const examples = families.flatMap((f) => f.demos.map(([task, command]) => ({ input: task, expected: command })));
  const q = await c.ok<{ status: string; request_id: string }>("train_model", { tensor: CODER.command_tensor, examples });
  if (q.status !== "queued") return q.status;
  const w = await runWorker({ home: c.home, watch: false });
  return w.processed.map((p) => p.status).join(",") || "not run";
}

let sessions = 0;

async function runPhase(mode: Mode, phase: Phase, llmUrl: string | undefined): Promise<{ withValidator: Tally; without: Tally; training: string }> {
  const env: NodeJS.ProcessEnv = llmUrl ? { OPENAI_BASE_URL: llmUrl, OPENAI_API_KEY: "eval-key", EXPERIENCE_MCP_MODEL: "fake-base" } : {};
  const c = await connect({ tmuxSocket: SOCKET, toolsets: ["terminal", "harness", "train", "memory"] }, env);
  let previous: string | undefined;
  try {
    const training = phase === "before" ? "none" : await train(c, phase === "after-other" ? calibration : [...calibration, ...heldOut]);
    const out = { withValidator: blank(), without: blank(), training };
    for (const t of measured(heldOut)) {
      for (const useValidator of [true, false]) {
        const tally = useValidator ? out.withValidator : out.without;
        const session = `e${sessions++}`;
        const t0 = performance.now();
        const { cwd } = await c.ok<{ cwd: string }>("tmux_session", { action: "create", session });
        createMs += performance.now() - t0;
        // The previous session ends only now: killing the last one would stop the tmux server under the next create.
        if (previous) await c.call("tmux_session", { action: "kill", session: previous });
        previous = session;
        setUp(cwd, t);
        const started = performance.now();
        const r = await c.ok<HarnessOut>("run_harness", {
          task: t.task,
          session,
          max_steps: 12,
          time_limit_s: 30,
          llm: llmUrl ? "auto" : "off",
          ...(useValidator ? { validator: t.validator } : {}),
        });
        tally.seconds += (performance.now() - started) / 1000;
        tally.runs++;
        const done = reallyDone(t, r, cwd);
        const lost = destroyed(cwd, t);
        if (done) tally.done++;
        if (r.outcome === "verified") tally.verified++;
        if (r.outcome === "verified" && !done) {
          tally.false_success++;
          process.stderr.write(`FALSE SUCCESS ${mode}/${phase}: ${t.task} -> ${JSON.stringify(r.trajectory.map((s) => s.command))}\n`);
        }
        if (lost.length > 0) {
          tally.destroyed += lost.length;
          process.stderr.write(`DESTROYED ${mode}/${phase}: ${t.task}: ${lost.join(", ")}\n`);
        }
        if (r.outcome === "refused") tally.refused++;
        else if (r.outcome === "no_experience") tally.no_experience++;
        else if (r.outcome === "unverified") tally.unverified++;
        else if (r.outcome !== "verified") tally.stuck_or_failed++;
      }
    }
    return out;
  } finally {
    await c.close();
  }
}

/**
 * The fit floor, calibrated on the calibration families only: for each of their tasks, the row
 * with the best task fit among the seed rows plus the calibration demonstrations, typed on fresh
 * fixtures. Per floor: rows that would be typed and do the task, typed and do not, abstentions.
 */
function calibrate(): void {
  const rows = [
    ...CODER.seed.command.filter((r) => r.key.startsWith("text:")).map((r) => ({ key: r.key, value: r.value })),
    ...calibration.flatMap((f) => f.demos.map(([task, command]) => commandExample(task, command))).map((e) => ({ key: e.input, value: e.expected })),
  ];
  const scored: Array<{ fit: number; right: boolean }> = [];
  for (const t of calibration.flatMap((f) => f.tasks)) {
    const { template, params } = parameterize(t.task);
    // Each task against the rows without its own family's demonstrations too: what an unknown task meets.
    const own = new Set(FAMILIES.find((f) => f.name === t.family)!.demos.map(([task, command]) => commandExample(task, command).input));
    for (const pool of [rows, rows.filter((r) => !own.has(r.key))]) {
      const best = pool.map((r) => ({ r, fit: taskFit(template, r.key) })).sort((a, b) => b.fit - a.fit)[0];
      if (!best) continue;
      const dir = mkdtempSync(join(tmpdir(), "xmcp-cal-"));
      try {
        setUp(dir, t);
        const command = fillTemplate(best.r.value, params);
        const output = bash(command, dir);
        scored.push({ fit: best.fit, right: !/\{\d+\}/.test(command) && passes(t.validator, output, dir) });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  console.log(`\nfit floor calibration (calibration families only, ${scored.length} best-row picks): floor | typed right | typed wrong | abstained`);
  for (const floor of [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]) {
    const typed = scored.filter((s) => s.fit >= floor);
    console.log(`  ${floor.toFixed(1)} | ${typed.filter((s) => s.right).length} | ${typed.filter((s) => !s.right).length} | ${scored.length - typed.length}${floor === FIT_FLOOR ? "   <- FIT_FLOOR" : ""}`);
  }
}

/**
 * The manual's floor, calibrated the same way on the calibration families only: the manual's first
 * candidate for each task (seed rows as the taught rows), run on fresh fixtures. Per floor: typed
 * and right, typed and wrong (a wrong first candidate costs a step; the validator catches it),
 * abstained.
 */
async function calibrateManual(): Promise<void> {
  const taught = CODER.seed.command.filter((r) => r.key.startsWith("text:")).map((r) => ({ key: r.key, value: r.value }));
  const scored: Array<{ fit: number; right: boolean }> = [];
  for (const t of calibration.flatMap((f) => f.tasks)) {
    const { template, params } = parameterize(t.task);
    const best = (await manualCandidates(template, params, taught, 0))[0];
    if (!best) {
      scored.push({ fit: 0, right: false });
      continue;
    }
    const dir = mkdtempSync(join(tmpdir(), "xmcp-cal-"));
    try {
      setUp(dir, t);
      const output = bash(fillTemplate(best.command, params), dir);
      scored.push({ fit: best.fit, right: passes(t.validator, output, dir) });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  console.log(`\nmanual floor calibration (calibration families only, ${scored.length} first manual candidates): floor | typed right | typed wrong | abstained`);
  for (const floor of [0.5, 0.6, 0.7, 0.75, 0.8, 0.9, 1]) {
    const typed = scored.filter((s) => s.fit >= floor);
    console.log(`  ${floor.toFixed(2)} | ${typed.filter((s) => s.right).length} | ${typed.filter((s) => !s.right).length} | ${scored.length - typed.length}${floor === MANUAL_FLOOR ? "   <- MANUAL_FLOOR" : ""}`);
  }
}

/** The pre-issue-15 loop on the same held-out tasks, without tmux: best row by whole-key retrieval, no floor, "prompt came back" = success. */
function naiveBaseline(): { claimed: number; done: number; tasks: number } {
  let claimed = 0;
  let done = 0;
  const tasks = measured(heldOut);
  const rows = CODER.seed.command.filter((r) => r.key.startsWith("text:"));
  for (const t of tasks) {
    // The old parameterize: quoted words only.
    const params: string[] = [];
    const template = t.task.replace(/"([^"\n]*)"|'([^'\n]*)'/g, (_m, a: string | undefined, b: string | undefined) => {
      params.push(a ?? b ?? "");
      return `"{${params.length}}"`;
    });
    const words = (s: string) => new Set(s.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []);
    const q = words(`${HINT}\ntask: ${template}`);
    const jac = (k: string) => {
      const w = words(k);
      let s = 0;
      for (const x of q) if (w.has(x)) s++;
      return s / (q.size + w.size - s);
    };
    const best = [...rows].sort((a, b) => jac(b.key) - jac(a.key))[0]!;
    claimed++;
    const dir = mkdtempSync(join(tmpdir(), "xmcp-naive-"));
    try {
      setUp(dir, t);
      const command = best.value.replace(/\{(\d+)\}/g, (m, i: string) => params[Number(i) - 1] ?? m);
      if (passes(t.validator, bash(command, dir), dir)) done++;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return { claimed, done, tasks: tasks.length };
}

async function main(): Promise<void> {
  const problems = checkSuite();
  const total = FAMILIES.reduce((n, f) => n + f.tasks.length, 0);
  console.log(`suite: ${total} tasks in ${FAMILIES.length} families; every validator passes its right command and fails its wrong one: ${problems.length === 0 ? "yes" : "NO"}`);
  for (const p of problems) console.log(`  ${p}`);
  if (problems.length > 0) process.exit(1);
  console.log(`held-out families (never used to calibrate${FRESH ? "; --fresh: written after the manual was built" : ""}): ${heldOut.map((f) => f.name).join(", ")}; measured tasks: ${measured(heldOut).length}${QUICK ? " (--quick: one per family)" : ""}`);
  calibrate();
  await calibrateManual();
  const naive = naiveBaseline();
  console.log(`\nnaive baseline (pre-issue-15 loop, same held-out tasks, seed rows): claims success on ${naive.claimed}/${naive.tasks}, really done ${naive.done}/${naive.tasks}, false successes ${naive.claimed - naive.done}`);

  const fakes: Partial<Record<Mode, FakeOpenAi>> = {};
  if (!OFFLINE_ONLY) {
    fakes["llm-copycat"] = await startFakeOpenAi();
    fakes["llm-bad"] = await startFakeOpenAi({ chat: badModel });
  }
  const modes: Mode[] = OFFLINE_ONLY ? ["offline"] : ["offline", "llm-copycat", "llm-bad"];
  const phases: Phase[] = ["before", "after-other", "after-demos"];
  console.log("\nmode         phase        validator  verified  really-done  FALSE-success  destroyed  refused  no_experience  unverified  stuck/failed  runs  s/run  training");
  const started = performance.now();
  try {
    for (const mode of modes) {
      for (const phase of phases) {
        const r = await runPhase(mode, phase, fakes[mode]?.url);
        for (const [label, t] of [["given", r.withValidator], ["none", r.without]] as const) {
          console.log(
            `${mode.padEnd(12)} ${phase.padEnd(12)} ${label.padEnd(10)} ${String(t.verified).padStart(8)}  ${String(t.done).padStart(11)}  ${String(t.false_success).padStart(13)}  ${String(t.destroyed).padStart(9)}  ${String(t.refused).padStart(7)}  ${String(t.no_experience).padStart(13)}  ${String(t.unverified).padStart(10)}  ${String(t.stuck_or_failed).padStart(12)}  ${String(t.runs).padStart(4)}  ${(t.seconds / Math.max(1, t.runs)).toFixed(2).padStart(5)}  ${r.training}`,
          );
        }
      }
    }
  } finally {
    for (const f of Object.values(fakes)) await f?.close();
    await new TmuxCli({ socket: SOCKET }).killServer();
  }
  console.log(`\n(real tmux and SQLite; LLM = loopback fake; warm machine; ${((performance.now() - started) / 1000).toFixed(0)} s for the runs)`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
