// Nothing handed to tmux is format-expanded (issue 11 item 1); each data directory has its own tmux
// server and the hooks installed from it use it (item 3).
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { loadConfig, socketForHome } from "../src/config.js";
import { TmuxCli } from "../src/tmux/tmux.js";
import { connect, tempHome, textOf } from "./helpers.js";
import { bashFailure } from "./hook-events.js";
import { CLI, runShell, serverEnv } from "./spawn.js";

const SOCKET = `xmcp-iso-${process.pid}`;
const sockets = new Set<string>([SOCKET]);
const cleanups: Array<() => void> = [];

after(async () => {
  for (const s of sockets) await new TmuxCli({ socket: s }).killServer();
  for (const c of cleanups) c();
});

const ODD = ["#(id >pwned.txt)", "notes#Work", "a##b", "proj#{host}", "#{pane_id}", "~x", "sp ace", "semi;", "$(id)", "quote'\"d"];

test("odd directory names: #(…) runs nothing, and each is where the shell really starts", async () => {
  const { home, cleanup } = tempHome("xmcp-iso-");
  cleanups.push(cleanup);
  const base = join(realpathSync(home), "repo");
  const c = await connect({ tmuxSocket: SOCKET, toolsets: ["terminal"] });
  try {
    for (const [i, name] of ODD.entries()) {
      const dir = join(base, name);
      mkdirSync(dir, { recursive: true });
      const session = `odd${i}`;
      const r = await c.ok<{ cwd: string }>("tmux_session", { action: "create", session, cwd: dir });
      assert.equal(r.cwd, dir, `reported cwd for ${name}`);
      const terminal = c.app.services.terminal;
      const before = terminal.lastCommandSeq(session);
      await c.ok("send_text", { session, text: "pwd -P", enter: true });
      const done = await terminal.waitForCommandEnd(session, before, { timeoutMs: 10_000 });
      assert.equal(done?.output, `${dir}\n`, `the shell runs in ${name}`);
    }
    for (const where of [base, join(base, ODD[0]!), process.cwd(), c.home]) {
      assert.ok(!existsSync(join(where, "pwned.txt")), `no pwned.txt in ${where}`);
    }
  } finally {
    await c.close();
  }
});

test("a cwd that is not a directory or has a control character is refused, echoing only an excerpt", async () => {
  const c = await connect({ tmuxSocket: SOCKET, toolsets: ["terminal"] });
  try {
    for (const [cwd, why] of [
      [`/nonexistent/${"x".repeat(5000)}`, /is not a directory/],
      ["/tmp/a\nb", /control character/],
    ] as const) {
      const r = (await c.call("tmux_session", { action: "create", session: "bad", cwd })) as CallToolResult;
      assert.equal(r.isError, true);
      assert.match(textOf(r), why);
      assert.ok(textOf(r).length < 600, "a short excerpt, not the whole input");
    }
  } finally {
    await c.close();
  }
});

async function stdioServer(home: string): Promise<{ client: Client; close: () => Promise<void> }> {
  const env = serverEnv(home);
  delete env.EXPERIENCE_MCP_TMUX_SOCKET; // the default: derived from the data directory
  const transport = new StdioClientTransport({ command: process.execPath, args: [CLI], env, stderr: "pipe" });
  const client = new Client({ name: "iso-test", version: "1.0.0" });
  await client.connect(transport);
  return { client, close: () => client.close() };
}

test("two servers with different data directories never see each other's sessions; results say how to attach", async () => {
  const a = tempHome("xmcp-iso-a-");
  const b = tempHome("xmcp-iso-b-");
  cleanups.push(a.cleanup, b.cleanup);
  const sockA = socketForHome(a.home);
  const sockB = socketForHome(b.home);
  sockets.add(sockA).add(sockB);
  assert.notEqual(sockA, sockB);
  assert.match(sockA, /^experience-mcp-[0-9a-f]{10}$/);
  assert.equal(loadConfig({}, { EXPERIENCE_MCP_HOME: a.home }).tmuxSocket, sockA);
  assert.equal(loadConfig({}, { EXPERIENCE_MCP_HOME: a.home, EXPERIENCE_MCP_TMUX_SOCKET: "mine" }).tmuxSocket, "mine");
  // A directory not created yet gets the name it will have once it is.
  const later = join(a.home, "not", "yet");
  const early = socketForHome(later);
  mkdirSync(later, { recursive: true });
  assert.equal(socketForHome(later), early);

  const sa = await stdioServer(a.home);
  const sb = await stdioServer(b.home);
  try {
    const created = (await sa.client.callTool({ name: "tmux_session", arguments: { action: "create", session: "secret" } })) as CallToolResult;
    assert.ok(!created.isError, textOf(created));
    const attach = (created.structuredContent as { attach: string }).attach;
    assert.equal(attach, `tmux -L ${sockA} attach -t secret`);
    assert.match(textOf(created), new RegExp(`Watch it: tmux -L ${sockA} attach -t secret`));
    // The attach command names a real tmux server that has the session.
    assert.equal(spawnSync("tmux", ["-L", sockA, "has-session", "-t", "=secret"]).status, 0);

    const listB = (await sb.client.callTool({ name: "tmux_session", arguments: { action: "list" } })) as CallToolResult;
    assert.deepEqual((listB.structuredContent as { sessions: unknown[] }).sessions, []);
    for (const [name, args] of [
      ["capture_pane", { session: "secret" }],
      ["send_text", { session: "secret", text: "echo leak", enter: true }],
    ] as const) {
      const r = (await sb.client.callTool({ name, arguments: args })) as CallToolResult;
      assert.equal(r.isError, true, `${name} from the other data directory`);
      assert.match(textOf(r), /no session secret/);
    }
    const listA = (await sa.client.callTool({ name: "tmux_session", arguments: { action: "list" } })) as CallToolResult;
    assert.deepEqual(
      (listA.structuredContent as { sessions: Array<{ session: string; attach: string }> }).sessions.map((s) => [s.session, s.attach]),
      [["secret", attach]],
    );
  } finally {
    await sa.close();
    await sb.close();
  }
});

test("install-hooks writes a non-default EXPERIENCE_MCP_HOME into the hook command, argv-safe", async (t) => {
  const { home, cleanup } = tempHome("xmcp-iso-hooks-");
  t.after(cleanup);
  const store = join(home, "my store's $HOME `x`");
  const env: Record<string, string> = { ...serverEnv(store), HOME: home };
  const r = spawnSync(process.execPath, [CLI, "install-hooks", "--user"], { env, encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const settings = JSON.parse(readFileSync(join(home, ".claude", "settings.json"), "utf8")) as {
    hooks: Record<string, Array<{ hooks: Array<{ command: string }> }>>;
  };
  const command = settings.hooks.PostToolUseFailure![0]!.hooks[0]!.command;
  assert.ok(command.startsWith("EXPERIENCE_MCP_HOME="), command);
  // The hook runs as `sh -c <command>` without the variable: it must reach the same store.
  const hookEnv = { ...env };
  delete hookEnv.EXPERIENCE_MCP_HOME;
  const event = bashFailure("s1", home, "npm test", "Exit code 1\nError: Cannot find module 'zod'");
  const ran = await runShell(command, hookEnv, JSON.stringify(event));
  assert.equal(ran.code, 0, ran.stderr);
  assert.ok(existsSync(join(store, "experience.db")), "the hook wrote to the recorded store");
  assert.ok(!existsSync(join(home, ".experience-mcp")), "not to the default one");
  // The default data directory is not written in.
  const plain = { ...env };
  delete plain.EXPERIENCE_MCP_HOME;
  execFileSync(process.execPath, [CLI, "install-hooks", "--user"], { env: plain });
  const again = JSON.parse(readFileSync(join(home, ".claude", "settings.json"), "utf8")) as typeof settings;
  const plainCommand = again.hooks.PostToolUseFailure![0]!.hooks[0]!.command;
  assert.ok(!plainCommand.includes("EXPERIENCE_MCP_HOME"), plainCommand);
  assert.equal(again.hooks.PostToolUseFailure!.length, 1, "reinstalling replaced ours");
});
