// Per-keystroke cost of the recorded terminal: one 16-character chunk = send + wait for its echo +
// capture + commit to the trail, through the control-mode client; against the naive way (a new
// process for each of `tmux send-keys`, `tmux capture-pane`, `git add -A`, `git commit`), in the
// same run on the same machine. Both type into `cat > /dev/null`, so the screen changes each step.
// Run: `npm run bench -- terminal` (or `node dist-test/bench/terminal.js`). Takes ~20-40 s.
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { escapeTrailingSemicolon } from "../src/tmux/chunk.js";
import { Terminal } from "../src/tmux/terminal.js";
import { emit, measure, type BenchLine } from "./lib.js";

const run = promisify(execFile);
const STEPS = Number(process.env.BENCH_TERMINAL_STEPS ?? 200);
const NAIVE_STEPS = Number(process.env.BENCH_TERMINAL_NAIVE_STEPS ?? 100);
const socket = `xmcp-bench-${process.pid}`;
const home = mkdtempSync(join(tmpdir(), "xmcp-bench-terminal-"));

/** 15 letters and a newline: 16 characters, and cat's line buffer never grows. */
function chunk(i: number): string {
  return `${String(i).padStart(5, "0")}abcdefghij\n`;
}

// git without the user's config or hooks, as the trail runs it: a fair baseline.
const gitEnv = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_AUTHOR_NAME: "bench",
  GIT_AUTHOR_EMAIL: "bench@localhost",
  GIT_COMMITTER_NAME: "bench",
  GIT_COMMITTER_EMAIL: "bench@localhost",
};

async function naive(session: string, repo: string): Promise<BenchLine> {
  const tmux = (...args: string[]) => run("tmux", ["-f", "/dev/null", "-L", socket, ...args]);
  const git = (...args: string[]) => run("git", args, { cwd: repo, env: gitEnv });
  mkdirSync(repo, { recursive: true });
  await git("init", "-q");
  mkdirSync(join(repo, ".captures"), { recursive: true });
  return measure(
    "terminal.naive_step",
    NAIVE_STEPS,
    async (i) => {
      const text = chunk(i);
      await tmux("send-keys", "-t", `=${session}:`, "-l", "--", escapeTrailingSemicolon(text));
      const { stdout } = await tmux("capture-pane", "-p", "-J", "-t", `=${session}:`);
      writeFileSync(join(repo, ".captures", `${String(i).padStart(4, "0")}.txt`), stdout);
      await git("add", "-A");
      await git("commit", "-q", "--allow-empty", "-m", `${session}: ${i} text ${text.trim()}`);
    },
    { warmup: 10, extra: { processes_per_step: 4 } },
  );
}

async function main(): Promise<void> {
  const terminal = new Terminal({ home, socket });
  try {
    for (const session of ["bench", "naive"]) {
      await terminal.createSession({ session, width: 100, height: 30 });
      await terminal.sendText(session, "cat > /dev/null", { enter: true });
      await terminal.waitForCommand(session, "cat", { timeoutMs: 30_000 });
    }

    const ours = await measure("terminal.step", STEPS, (i) => terminal.sendText("bench", chunk(i)), {
      warmup: 20,
      extra: { what: "send-keys -l + echo + capture-pane over the control client + trail commit" },
    });
    emit(ours);

    // The parts, to see where a step's time goes.
    let seq = 0;
    emit(
      await measure("terminal.commit_only", STEPS, () => terminal.trail.commitStep("parts", "text", `part ${seq++}`, `screen ${seq}\n`.repeat(20)), {
        warmup: 20,
        extra: { what: "TrailRepo.commitStep alone" },
      }),
    );
    emit(await measure("terminal.capture_only", STEPS, () => terminal.capture("bench"), { warmup: 20, extra: { what: "capture_pane over the control client" } }));

    const baseline = await naive("naive", join(home, "naive-repo"));
    emit(baseline);

    const ratio = Math.round((baseline.p50 / ours.p50) * 100) / 100;
    emit({
      name: "terminal.speedup",
      ratio_p50: ratio,
      ratio_p99: Math.round((baseline.p99 / ours.p99) * 100) / 100,
      step_p50_ms: ours.p50,
      goal: "ratio_p50 >= 2 and step p50 <= 15 ms",
      pass: ratio >= 2 && ours.p50 <= 15,
    });
  } finally {
    await terminal.close();
    await terminal.cli.killServer();
    rmSync(home, { recursive: true, force: true });
  }
}

await main();
