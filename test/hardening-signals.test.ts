// Issue 11, item 4, with real processes: a broken pipe ends the process instead of spinning, and
// SIGTERM, SIGINT and SIGHUP end the server, the demo, the train worker and the hook within 2 s,
// closing the database (its WAL file goes away only on a clean close) and the tmux control clients.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { CLI, RawServer, serverEnv } from "./spawn.js";
import { tempHome } from "./helpers.js";

const TICKS = 100; // USER_HZ on Linux

/** utime + stime of a live process, in seconds (from /proc). */
function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / TICKS;
  } catch {
    return undefined;
  }
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
}

async function waitFor(what: string, check: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function killTmux(socket: string): void {
  spawnSync("tmux", ["-L", socket, "kill-server"], { stdio: "ignore" });
}

test("`demo 2>&1 | head -2`: the demo stops at the broken pipe instead of spinning", { timeout: 60_000 }, async () => {
  const { home, cleanup } = tempHome();
  const socket = `xmcp-epipe-${process.pid}`;
  // stdout and stderr on one pipe, as `2>&1 | head -2` makes them; we read two lines and close it.
  const child = spawn("sh", ["-c", `exec "${process.execPath}" "${CLI}" demo --home "${home}" 2>&1`], {
    env: serverEnv(home, { EXPERIENCE_MCP_TMUX_SOCKET: socket, EXPERIENCE_MCP_LOG: "debug" }),
    stdio: ["ignore", "pipe", "ignore"],
  });
  try {
    let seen = "";
    await new Promise<void>((resolve) => {
      child.stdout!.on("data", (d: Buffer) => {
        seen += d.toString();
        if (seen.split("\n").length > 2) resolve();
      });
    });
    child.stdout!.destroy(); // `head -2` exits: the pipe has no reader any more
    const closedAt = performance.now();
    let cpu = 0;
    const sampler = setInterval(() => (cpu = cpuSeconds(child.pid!) ?? cpu), 100);
    const outcome = await Promise.race([exited(child), new Promise<"spinning">((r) => setTimeout(() => r("spinning"), 10_000))]);
    clearInterval(sampler);
    const wall = (performance.now() - closedAt) / 1000;
    process.stdout.write(`# demo after its pipe closed: exited in ${wall.toFixed(2)} s wall, ${cpu.toFixed(2)} s CPU (last sample)\n`);
    assert.notEqual(outcome, "spinning", `the demo still ran 10 s after its pipe closed (CPU ${cpu.toFixed(1)} s)`);
    assert.ok(wall < 5, `exited ${wall.toFixed(2)} s after the pipe closed`);
    assert.ok(cpu < 5, `used ${cpu.toFixed(2)} s of CPU`);
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
    killTmux(socket);
    cleanup();
  }
});

test("the real shell pipeline `experience-mcp demo 2>&1 | head -2` ends", { timeout: 60_000 }, async () => {
  const { home, cleanup } = tempHome();
  const socket = `xmcp-epipe2-${process.pid}`;
  try {
    const started = performance.now();
    // `timeout` bounds the old behaviour (spinning forever) so the test fails instead of hanging.
    const r = spawnSync("bash", ["-c", `timeout -s KILL 20 "${process.execPath}" "${CLI}" demo --home "${home}" 2>&1 | head -2; echo "status \${PIPESTATUS[0]}"`], {
      env: serverEnv(home, { EXPERIENCE_MCP_TMUX_SOCKET: socket }),
      encoding: "utf8",
    });
    const wall = (performance.now() - started) / 1000;
    process.stdout.write(`# demo 2>&1 | head -2: ${wall.toFixed(2)} s wall; ${r.stdout.trim().split("\n").pop()}\n`);
    assert.match(r.stdout, /^task: /);
    assert.doesNotMatch(r.stdout, /status 137/, "killed by the 20 s timeout: it was spinning");
    assert.ok(wall < 15, `pipeline took ${wall.toFixed(1)} s`);
  } finally {
    killTmux(socket);
    cleanup();
  }
});

/** The tmux control-mode clients a process started (children of `pid` running `tmux ... -C`). */
function controlClients(pid: number): number[] {
  const r = spawnSync("ps", ["-o", "pid=,ppid=,args=", "-e"], { encoding: "utf8" });
  return r.stdout
    .split("\n")
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => Number(f[1]) === pid && f.slice(2).join(" ").includes(" -C"))
    .map((f) => Number(f[0]));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) {
  test(`${signal} ends a busy stdio server within 2 s, closing the database and the tmux control clients`, { timeout: 60_000 }, async () => {
    const { home, cleanup } = tempHome();
    const socket = `xmcp-sig-${signal}-${process.pid}`;
    process.env.EXPERIENCE_MCP_TMUX_SOCKET = socket;
    const s = new RawServer(home);
    delete process.env.EXPERIENCE_MCP_TMUX_SOCKET;
    try {
      await s.initialize();
      await s.send({ id: "mk", method: "tools/call", params: { name: "tmux_session", arguments: { action: "create", session: "sig" } } });
      await s.send({ id: "type", method: "tools/call", params: { name: "send_text", arguments: { session: "sig", text: "echo hi", enter: true } } });
      await s.send({ id: "mem", method: "tools/call", params: { name: "remember", arguments: { key: "signals", value: "closed cleanly" } } });
      await s.until(() => ["mk", "type", "mem"].every((id) => s.response(id) !== undefined));
      assert.equal(s.response("mem")!.result?.isError, undefined);
      const clients = controlClients(s.child.pid!);
      assert.ok(clients.length >= 1, "a control client is attached");
      assert.ok(existsSync(join(home, "experience.db-wal")), "the WAL exists while the database is open");
      // Keep it busy: calls in flight when the signal lands.
      for (let i = 0; i < 50; i++) void s.send({ id: `busy${i}`, method: "tools/call", params: { name: "remember", arguments: { key: `busy ${i}`, value: "x".repeat(1000) } } });
      const sent = performance.now();
      s.child.kill(signal);
      const { code } = await exited(s.child);
      const took = performance.now() - sent;
      process.stdout.write(`# ${signal}: server exited (code ${code}) in ${took.toFixed(0)} ms\n`);
      assert.ok(took < 2000, `exited ${took.toFixed(0)} ms after ${signal}`);
      assert.equal(code, 0);
      assert.equal(existsSync(join(home, "experience.db-wal")), false, "the database was closed (the last close removes the WAL)");
      await waitFor("the control clients to exit", () => clients.every((pid) => !alive(pid)), 2000);
      assert.deepEqual(s.junk, []);
    } finally {
      if (s.child.exitCode === null) s.child.kill("SIGKILL");
      killTmux(socket);
      cleanup();
    }
  });
}

test("SIGTERM, SIGINT and SIGHUP end the demo, the watching train worker and the hook within 2 s", { timeout: 120_000 }, async () => {
  const results: string[] = [];
  for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) {
    for (const kind of ["demo", "train-worker", "hook"] as const) {
      const { home, cleanup } = tempHome();
      const socket = `xmcp-sig2-${process.pid}`;
      const args = kind === "demo" ? ["demo", "--home", home] : kind === "train-worker" ? ["train-worker", "--watch", "--poll-s", "0.2", "--home", home] : ["hook"];
      const child = spawn(process.execPath, [CLI, ...args], { env: serverEnv(home, { EXPERIENCE_MCP_TMUX_SOCKET: socket }), stdio: ["pipe", "pipe", "pipe"] });
      let out = "";
      child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
      try {
        // Running: the demo has printed its header, the worker holds the lock, the hook waits for its event.
        if (kind === "demo") await waitFor("the demo to start", () => out.includes("session:"));
        else if (kind === "train-worker") await waitFor("the worker to open the database", () => existsSync(join(home, "experience.db-wal")));
        else await new Promise((r) => setTimeout(r, 300));
        const sent = performance.now();
        child.kill(signal);
        const { code, signal: by } = await exited(child);
        const took = performance.now() - sent;
        results.push(`${kind}/${signal}: ${took.toFixed(0)} ms (code ${code ?? by})`);
        assert.ok(took < 2000, `${kind} exited ${took.toFixed(0)} ms after ${signal}`);
        if (kind !== "hook") assert.equal(existsSync(join(home, "experience.db-wal")), false, `${kind}: the database was closed`);
      } finally {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
        killTmux(socket);
        cleanup();
      }
    }
  }
  process.stdout.write(`# ${results.join("; ")}\n`);
});

test("a stdio server whose client stopped reading (EPIPE on stdout) exits instead of spinning", { timeout: 60_000 }, async () => {
  const { home, cleanup } = tempHome();
  const s = new RawServer(home);
  try {
    await s.initialize();
    s.child.stdout.destroy(); // the client's read end is gone; its write end (our stdin) stays open
    const sent = performance.now();
    for (let i = 0; i < 20; i++) await s.send({ id: i, method: "tools/call", params: { name: "recall", arguments: { query: `q${i}` } } });
    const outcome = await Promise.race([exited(s.child), new Promise<"running">((r) => setTimeout(() => r("running"), 10_000))]);
    const took = performance.now() - sent;
    assert.notEqual(outcome, "running", `still running 10 s after its stdout broke (CPU ${cpuSeconds(s.child.pid!)?.toFixed(1)} s)`);
    process.stdout.write(`# server with a broken stdout exited in ${took.toFixed(0)} ms\n`);
    assert.ok(took < 5000);
  } finally {
    if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill("SIGKILL");
    cleanup();
  }
});
