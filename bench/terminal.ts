// Per-keystroke cost of the recorded terminal: one 16-character chunk = send + wait for its echo +
// capture + commit to the trail, through the control-mode client; against the naive way (a new
// process for each of `tmux send-keys`, `tmux capture-pane`, `git add -A`, `git commit`), in the
// same run on the same machine. Both type into `cat > /dev/null`, so the screen changes each step.
// Then the round a user does most: type `echo hi` + Enter and read the result, through the MCP
// tools of the real server over stdio (send_text, then capture_pane wait_for "shell", which the
// shell's OSC 133 marks end), against the quiet-based wait (the same tools on a shell that prints
// no marks) and the naive loop (a tmux process per send, polling capture-pane every 10 ms).
// Run: `npm run bench -- terminal` (or `node dist-test/bench/terminal.js`). Takes ~30-60 s.
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { escapeTrailingSemicolon } from "../src/tmux/chunk.js";
import { Terminal } from "../src/tmux/terminal.js";
import { spawnClient } from "../test/spawn.js";
import { emit, measure, type BenchLine } from "./lib.js";

const run = promisify(execFile);
const STEPS = Number(process.env.BENCH_TERMINAL_STEPS ?? 200);
const NAIVE_STEPS = Number(process.env.BENCH_TERMINAL_NAIVE_STEPS ?? 100);
const ROUNDS = Number(process.env.BENCH_TERMINAL_ROUNDS ?? 100);
/** Desktop Commander's p50 for the same round, as measured side by side in issue 15 (not in this run). */
const REFERENCE_MS = 54;
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

/** The last prompt line on screen ends like a prompt and the line above it is "hi". */
const ROUND_DONE = /(?:^|\n)hi\n[^\n]*[$#] ?$/;

/** `echo hi` + Enter, then read the result: through the stdio server's tools, and the naive way. */
async function rounds(): Promise<void> {
  const serverHome = join(home, "server");
  mkdirSync(serverHome, { recursive: true });
  const { client, transport } = await spawnClient(serverHome, [], { EXPERIENCE_MCP_TMUX_SOCKET: socket });
  type Result = { isError?: boolean; structuredContent?: Record<string, unknown>; content: { type: string; text?: string }[] };
  const call = async (name: string, args: Record<string, unknown>): Promise<Result> => {
    const r = (await client.callTool({ name, arguments: args })) as Result;
    if (r.isError) throw new Error(`${name}: ${r.content.map((c) => c.text ?? "").join(" ")}`);
    return r;
  };
  const round = (session: string) => async () => {
    await call("send_text", { session, text: "echo hi", enter: true });
    const r = await call("capture_pane", { session, wait_for: "shell", timeout_ms: 5000 });
    const text = String(r.structuredContent?.text ?? "");
    if (!ROUND_DONE.test(text)) throw new Error(`round did not read the result: ${JSON.stringify(text.slice(-200))}`);
  };
  try {
    await call("tmux_session", { action: "create", session: "round" });
    const ours = await measure("terminal.round_mcp", ROUNDS, round("round"), {
      warmup: 10,
      extra: { what: "send_text 'echo hi' + Enter, capture_pane wait_for shell (ends on OSC 133 marks); stdio server, warm" },
    });
    emit(ours);

    // The same tools where the shell prints no marks: the quiet-based wait (what every round cost before).
    await call("tmux_session", { action: "create", session: "quiet" });
    await call("send_text", { session: "quiet", text: "exec bash --norc --noprofile -i", enter: true });
    await call("capture_pane", { session: "quiet", wait_for: "idle", timeout_ms: 5000 });
    const quiet = await measure("terminal.round_mcp_quiet_wait", Math.min(ROUNDS, 30), round("quiet"), {
      warmup: 3,
      extra: { what: "same tools, shell without marks: capture_pane wait_for shell ends after 150 ms of quiet" },
    });
    emit(quiet);

    // Naive: one tmux process per call, polling the screen until the result and the prompt are there.
    await call("tmux_session", { action: "create", session: "naive_round" });
    const tmux = (...args: string[]) => run("tmux", ["-f", "/dev/null", "-L", socket, ...args]);
    const naive = await measure(
      "terminal.round_naive",
      ROUNDS,
      async () => {
        await tmux("send-keys", "-t", "=naive_round:", "-l", "--", "echo hi");
        await tmux("send-keys", "-t", "=naive_round:", "Enter");
        for (let i = 0; ; i++) {
          if (i > 500) throw new Error("naive round never saw the result");
          await new Promise((r) => setTimeout(r, 10));
          const { stdout } = await tmux("capture-pane", "-p", "-J", "-t", "=naive_round:");
          if (ROUND_DONE.test(stdout.replace(/\s+$/, ""))) break;
        }
        await tmux("send-keys", "-t", "=naive_round:", "C-l");
      },
      { warmup: 10, extra: { what: "tmux send-keys ×2 + capture-pane every 10 ms until the prompt is back (a process each), no trail" } },
    );
    emit(naive);
    emit({
      name: "terminal.round_summary",
      ours_p50_ms: ours.p50,
      quiet_wait_p50_ms: quiet.p50,
      naive_p50_ms: naive.p50,
      reference_desktop_commander_p50_ms: REFERENCE_MS,
      goal: `round p50 < ${REFERENCE_MS / 2} ms (half the reference)`,
      pass: ours.p50 < REFERENCE_MS / 2,
    });
  } finally {
    await transport.close();
  }
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

    await rounds();
  } finally {
    await terminal.close();
    await terminal.cli.killServer();
    rmSync(home, { recursive: true, force: true });
  }
}

await main();
