// One writer per terminal at a time, across processes (issue 11 item 8).
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { TerminalError } from "../src/tmux/errors.js";
import { SessionLocks } from "../src/tmux/session-lock.js";
import { Terminal } from "../src/tmux/terminal.js";
import { TmuxCli } from "../src/tmux/tmux.js";
import { tempHome, textOf } from "./helpers.js";
import { spawnClient } from "./spawn.js";

const SOCKET = `xmcp-lock-${process.pid}`;
const cleanups: Array<() => void> = [];

after(async () => {
  await new TmuxCli({ socket: SOCKET }).killServer();
  for (const c of cleanups) c();
});

function home(): string {
  const h = tempHome("xmcp-lock-");
  cleanups.push(h.cleanup);
  return h.home;
}

test("two server processes typing into one session: every line arrives whole", async () => {
  const dir = home();
  const servers = await Promise.all([0, 1].map(() => spawnClient(dir, [], { EXPERIENCE_MCP_TMUX_SOCKET: SOCKET })));
  try {
    const [a, b] = servers.map((s) => async (name: string, args: Record<string, unknown>) => {
      const r = (await s.client.callTool({ name, arguments: args })) as CallToolResult;
      assert.ok(!r.isError, `${name}: ${textOf(r)}`);
      return r;
    });
    await a!("tmux_session", { action: "create", session: "shared" });
    await a!("send_text", { session: "shared", text: "stty -echo; cat > lines.txt", enter: true });
    await new Promise((r) => setTimeout(r, 300));
    const expected = new Set<string>();
    const writer = (call: typeof a, who: string) => async () => {
      for (let i = 0; i < 20; i++) {
        // 50 characters: four chunks that would interleave with the other writer's without the lock.
        const line = `${who}-${String(i).padStart(2, "0")}-${who.repeat(45)}`;
        expected.add(line);
        await call!("send_text", { session: "shared", text: line, enter: true });
      }
    };
    await Promise.all([writer(a, "A")(), writer(b, "B")()]);
    await a!("send_keys", { session: "shared", keys: ["C-d"] });
    await a!("capture_pane", { session: "shared", wait_for: "shell", timeout_ms: 10_000 });
    const lines = readFileSync(join(dir, "trails", "shared", "lines.txt"), "utf8").split("\n").filter(Boolean);
    assert.equal(lines.length, 40);
    for (const line of lines) assert.ok(expected.has(line), `a mixed line: ${JSON.stringify(line)}`);
    assert.equal(new Set(lines).size, 40);
  } finally {
    await Promise.all(servers.map((s) => s.client.close()));
  }
});

test("a second caller waits a bounded time, then gets 'session busy' and types nothing", async () => {
  const dir = home();
  const first = new Terminal({ home: dir, socket: SOCKET });
  const second = new Terminal({ home: dir, socket: SOCKET, lockWaitMs: 300 });
  try {
    await first.createSession({ session: "busy" });
    const commits = await first.trail.countCommits("busy");
    let release!: () => void;
    const holding = first.withSessionLock("busy", () => new Promise<void>((r) => (release = r)));
    await new Promise((r) => setTimeout(r, 20));
    const t0 = Date.now();
    await assert.rejects(second.sendText("busy", "echo intruder", { enter: true }), (err: unknown) => {
      assert.ok(err instanceof TerminalError);
      assert.equal(err.code, "busy");
      assert.match(err.message, /session busy is busy: another call in this server has been typing into it for over 300 ms; try again/);
      return true;
    });
    const waited = Date.now() - t0;
    assert.ok(waited >= 290 && waited < 3000, `waited ${waited} ms`);
    assert.equal(await first.trail.countCommits("busy"), commits, "the refused caller typed nothing");
    // A waiter within the bound gets the lock as soon as it is released.
    const queued = second.sendKeys("busy", ["C-l"]);
    setTimeout(() => release(), 100);
    await holding;
    assert.equal((await queued).commits.length, 1);
  } finally {
    await first.close();
    await second.close();
  }
});

test("the lock is reentrant inside withSessionLock, and in-process callers take turns", async () => {
  const dir = home();
  const t = new Terminal({ home: dir, socket: SOCKET, lockWaitMs: 2000 });
  try {
    await t.createSession({ session: "re" });
    const r = await t.withSessionLock("re", async () => {
      const before = t.lastCommandSeq("re");
      await t.sendText("re", "echo inside", { enter: true });
      const nested = await t.withSessionLock("re", () => t.waitForCommandEnd("re", before, { timeoutMs: 10_000 }));
      return nested?.output;
    });
    assert.equal(r, "inside\n");
    const all = await Promise.all([1, 2, 3].map((i) => t.sendText("re", `echo turn${i}-${"z".repeat(30)}`, { enter: true })));
    assert.equal(all.length, 3);
  } finally {
    await t.close();
  }
});

test("a lock left by a dead process is taken over at once", async () => {
  const dir = home();
  const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  const locks = new SessionLocks(dir, 200);
  mkdirSync(join(dir, "locks"), { recursive: true });
  writeFileSync(locks.path("stale"), `${dead.stdout}\n${(await import("node:os")).hostname()}\nabc\n`);
  const t0 = Date.now();
  const release = await locks.acquire("stale");
  assert.ok(Date.now() - t0 < 150, "no waiting on a dead owner");
  assert.match(readFileSync(locks.path("stale"), "utf8"), new RegExp(`^${process.pid}\\n`));
  release();
  // A live owner (this process, another holder) is waited for, then refused.
  const held = await locks.acquire("live");
  await assert.rejects(new SessionLocks(dir, 100).acquire("live"), /session live is busy/);
  held();
  (await new SessionLocks(dir, 100).acquire("live"))();
});
