// The terminal toolset through MCP (SDK client ↔ server in memory) against a real tmux.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { CallToolResultSchema } from "@modelcontextprotocol/sdk/types.js";
import { connect, textOf, type Connected } from "./helpers.js";
import { TmuxCli } from "../src/tmux/tmux.js";

const SOCKET = `xmcp-tools-${process.pid}`;
const TERMINAL_TOOLS = ["capture_pane", "send_keys", "send_text", "tmux_session"];

after(async () => {
  // This file's own tmux server goes, socket file included.
  await new TmuxCli({ socket: SOCKET }).killServer();
});

function open(overrides: { tmuxBin?: string } = {}): Promise<Connected> {
  return connect({ tmuxSocket: SOCKET, toolsets: ["terminal"], ...overrides });
}

function assertError(r: CallToolResult, pattern: RegExp): void {
  assert.equal(r.isError, true, `isError expected, got ${textOf(r)}`);
  assert.match(textOf(r), pattern);
}

interface Capture {
  text: string;
  cursor: { x: number; y: number };
  current_command: string;
  idle: boolean;
  truncated: boolean;
}

test("tools/list: terminal tools with described inputs, output schemas and kind-derived annotations", async () => {
  const c = await open();
  try {
    const { tools } = await c.client.listTools();
    const names = tools.map((t) => t.name);
    for (const name of TERMINAL_TOOLS) assert.ok(names.includes(name), `${name} is listed`);
    for (const t of tools) {
      assert.ok(t.outputSchema, `${t.name} has an outputSchema`);
      const props = (t.inputSchema.properties ?? {}) as Record<string, { description?: string }>;
      for (const [field, schema] of Object.entries(props)) assert.ok(schema.description, `${t.name}.${field} is described`);
    }
    const byName = new Map(tools.map((t) => [t.name, t]));
    assert.equal(byName.get("capture_pane")!.annotations?.readOnlyHint, true);
    for (const name of ["tmux_session", "send_text", "send_keys"]) {
      assert.equal(byName.get(name)!.annotations?.readOnlyHint, false);
      assert.equal(byName.get(name)!.annotations?.openWorldHint, true);
    }
  } finally {
    await c.close();
  }
  const ro = await connect({ tmuxSocket: SOCKET, toolsets: ["terminal"], readOnly: true });
  try {
    const names = (await ro.client.listTools()).tools.map((t) => t.name);
    assert.ok(names.includes("capture_pane"));
    for (const name of ["tmux_session", "send_text", "send_keys"]) assert.ok(!names.includes(name), `${name} is hidden by --read-only`);
  } finally {
    await ro.close();
  }
});

test("create → send_text (+enter) → capture_pane → send_keys → list → kill", async () => {
  const c = await open();
  try {
    const created = await c.ok<{ session: string; cwd: string; trail: string }>("tmux_session", { action: "create", session: "tool1" });
    assert.deepEqual(created, {
      session: "tool1",
      cwd: join(c.home, "trails", "tool1"),
      trail: join(c.home, "trails"),
      attach: `tmux -L ${SOCKET} attach -t tool1`,
    });

    const command = "printf 'hello world\\n' > hello.txt";
    const sent = await c.ok<{ chunks: string[]; commits: string[]; screen_tail: string }>("send_text", { session: "tool1", text: command, enter: true });
    assert.equal(sent.chunks.length, Math.ceil(command.length / 16));
    assert.ok(sent.chunks.every((ch) => [...new Intl.Segmenter().segment(ch)].length <= 16));
    assert.equal(sent.commits.length, sent.chunks.length + 1);
    await c.app.services.terminal.waitForText("tool1", /hello\.txt\n(?:.*\n)*.*[$#%>]$/, { timeoutMs: 20_000 });
    assert.equal(readFileSync(join(c.home, "trails", "tool1", "hello.txt"), "utf8"), "hello world\n");

    const cap = await c.ok<Capture>("capture_pane", { session: "tool1" });
    assert.match(cap.text, /printf 'hello world\\n' > hello\.txt/);
    assert.equal(cap.truncated, false);
    assert.equal(typeof cap.cursor.x, "number");
    assert.ok(cap.current_command.length > 0);
    assert.equal(typeof cap.idle, "boolean");

    const keys = await c.ok<{ commits: string[]; screen_tail: string }>("send_keys", { session: "tool1", keys: ["C-c", "Up"] });
    assert.equal(keys.commits.length, 2);
    assert.match(keys.screen_tail, /hello\.txt/);

    const list = await c.ok<{ sessions: { session: string; created: string; commits: number }[] }>("tmux_session", { action: "list" });
    const mine = list.sessions.find((s) => s.session === "tool1");
    assert.ok(mine);
    assert.equal(mine.commits, sent.commits.length + keys.commits.length);
    assert.ok(!Number.isNaN(Date.parse(mine.created)));
    assert.equal((mine as { attach?: string }).attach, `tmux -L ${SOCKET} attach -t tool1`);

    assert.deepEqual(await c.ok("tmux_session", { action: "kill", session: "tool1" }), { killed: true });
    assert.deepEqual(await c.ok("tmux_session", { action: "kill", session: "tool1" }), { killed: false });
    assertError(await c.call("capture_pane", { session: "tool1" }), /^no session tool1: create it with tmux_session action=create$/);
  } finally {
    await c.close();
  }
});

test("error paths answer isError with what to do", async () => {
  const c = await open();
  try {
    assertError(await c.call("send_text", { session: "ghost", text: "ls" }), /no session ghost: create it with tmux_session action=create/);
    assertError(await c.call("send_keys", { session: "ghost", keys: ["Enter"] }), /no session ghost/);
    assertError(await c.call("capture_pane", { session: "ghost" }), /no session ghost/);
    assertError(await c.call("send_text", { session: "bad name", text: "ls" }), /A-Z a-z 0-9 _ -/);
    assertError(await c.call("tmux_session", { action: "create", session: "../etc" }), /A-Z a-z 0-9 _ -/);
    assertError(await c.call("tmux_session", { action: "create" }), /needs session/);
    assertError(await c.call("tmux_session", { action: "kill" }), /needs session/);
    assertError(await c.call("send_text", { session: "ghost", text: "x".repeat(4097) }), /4096 characters per call/);
    assertError(await c.call("send_text", { session: "ghost", text: "" }), /nothing to type/);

    await c.ok("tmux_session", { action: "create", session: "errs" });
    assertError(await c.call("tmux_session", { action: "create", session: "errs" }), /already exists/);
    const before = (await c.ok<Capture>("capture_pane", { session: "errs" })).text;
    const bad = await c.call("send_keys", { session: "errs", keys: ["Enter", "Return", "C-c"] });
    assertError(bad, /Unknown key name "Return"; nothing was sent\. Allowed keys:/);
    assert.equal((await c.ok<Capture>("capture_pane", { session: "errs" })).text, before);
    assert.equal(await c.app.services.terminal.trail.countCommits("errs"), 0, "no commit from a rejected call");
    assertError(await c.call("tmux_session", { action: "create", session: "cwdless", cwd: "/no/such/dir" }), /not a directory/);
  } finally {
    await c.close();
  }
});

test("send_text refuses text it cannot type faithfully (NUL, other control characters, lone surrogates) before sending any", async () => {
  const c = await open();
  try {
    await c.ok("tmux_session", { action: "create", session: "nul" });
    const terminal = c.app.services.terminal;
    const before = (await c.ok<Capture>("capture_pane", { session: "nul" })).text;
    const commits = await terminal.trail.countCommits("nul");
    for (const [text, why] of [
      ["echo abc\u0000rm -rf x", /a NUL byte \(U\+0000\) at index 8/],
      [`${"y".repeat(20)}\u0003`, /C-c \(U\+0003\) at index 20.*send_keys/],
      ["a\u001b[31mb", /ESC \(U\+001B\)/],
      ["del\u007f", /DEL \(U\+007F\)/],
      ["half \ud83d!", /lone UTF-16 surrogate \(U\+D83D\)/],
    ] as const) {
      assertError(await c.call("send_text", { session: "nul", text, enter: true }), why);
    }
    assert.equal(await terminal.trail.countCommits("nul"), commits, "no keystroke was committed");
    assert.equal((await c.ok<Capture>("capture_pane", { session: "nul" })).text, before, "nothing was typed");
    // Tab, newline and a carriage return are keys that type faithfully; so are emoji and accents.
    const ok = await c.ok<{ commits: string[] }>("send_text", { session: "nul", text: "echo \t👍🏽 é\r" });
    assert.ok(ok.commits.length >= 1);
  } finally {
    await c.close();
  }
});

test("tmux missing: every terminal tool says how to install it", async () => {
  const c = await open({ tmuxBin: "/nonexistent/tmux" });
  try {
    const install = /tmux is not installed: apt-get install tmux \/ brew install tmux/;
    assertError(await c.call("tmux_session", { action: "create", session: "m1" }), install);
    assertError(await c.call("tmux_session", { action: "list" }), install);
    assertError(await c.call("send_text", { session: "m1", text: "ls" }), install);
    assertError(await c.call("capture_pane", { session: "m1" }), install);
  } finally {
    await c.close();
  }
});

test("capture_pane truncates the oldest lines over max_chars and says so", async () => {
  const c = await open();
  try {
    await c.ok("tmux_session", { action: "create", session: "trunc", width: 80, height: 24 });
    await c.ok("send_text", { session: "trunc", text: "seq 1 500; echo END-$((2+3))", enter: true });
    await c.app.services.terminal.waitForText("trunc", /^END-5$/m, { timeoutMs: 20_000 });
    const full = await c.ok<Capture>("capture_pane", { session: "trunc", lines: 1000 });
    assert.equal(full.truncated, false);
    assert.match(full.text, /^1$/m);
    const cut = await c.ok<Capture>("capture_pane", { session: "trunc", lines: 1000, max_chars: 400 });
    assert.equal(cut.truncated, true);
    assert.ok(cut.text.length <= 400);
    assert.match(cut.text, /^\[… \d+ earlier characters not shown: pass a larger max_chars/);
    assert.match(cut.text, /END-5/);
  } finally {
    await c.close();
  }
});

test("capture_pane waits for the command to return, for text, or gives up with the screen", async () => {
  const c = await open();
  try {
    await c.ok("tmux_session", { action: "create", session: "waits", width: 80, height: 24 });
    // The output appears only after a delay the test does not know: the wait must follow events.
    await c.ok("send_text", { session: "waits", text: "sleep 0.3; echo DONE-$((40+2))", enter: true });
    const shell = await c.ok<Capture & { wait: { for: string; met: boolean } }>("capture_pane", { session: "waits", wait_for: "shell", timeout_ms: 20_000 });
    assert.deepEqual({ for: shell.wait.for, met: shell.wait.met }, { for: "shell", met: true });
    assert.match(shell.text, /^DONE-42$/m);

    await c.ok("send_text", { session: "waits", text: "sleep 0.2; echo MARK-$((6*7))", enter: true });
    const text = await c.ok<Capture & { wait: { met: boolean } }>("capture_pane", { session: "waits", wait_for: "text", text: "MARK-42", timeout_ms: 20_000 });
    assert.equal(text.wait.met, true);
    assert.match(text.text, /MARK-42/);

    const never = await c.call("capture_pane", { session: "waits", wait_for: "text", text: "NEVER-SHOWN", timeout_ms: 300 });
    assert.equal(never.isError, undefined);
    assert.equal((never.structuredContent as { wait: { met: boolean } }).wait.met, false);
    assert.match(textOf(never), /gave up waiting for text/);

    assertError(await c.call("capture_pane", { session: "waits", wait_for: "text" }), /needs text/);
  } finally {
    await c.close();
  }
});

test("send_text reports progress per chunk when the client asks for it", async () => {
  const c = await open();
  try {
    await c.ok("tmux_session", { action: "create", session: "prog" });
    const progress: { progress: number; total?: number }[] = [];
    const text = "echo " + "p".repeat(40);
    const result = await c.client.request(
      { method: "tools/call", params: { name: "send_text", arguments: { session: "prog", text, enter: true } } },
      CallToolResultSchema,
      { onprogress: (p) => progress.push({ progress: p.progress, total: p.total }) },
    );
    assert.notEqual(result.isError, true, textOf(result as CallToolResult));
    const steps = Math.ceil(text.length / 16) + 1;
    assert.equal(progress.length, steps);
    assert.deepEqual(progress.at(-1), { progress: steps, total: steps });
    assert.ok(progress.every((p, i) => p.progress === i + 1));
  } finally {
    await c.close();
  }
});

test("3 sessions typing at once through MCP: every chunk and key has its commit, git fsck is clean", async () => {
  const c = await open();
  const sessions = ["par-a", "par-b", "par-c"];
  try {
    for (const s of sessions) await c.ok("tmux_session", { action: "create", session: s });
    // Each types 5 lines of 40 characters (3 chunks each) plus Enter, all three at once.
    const typed = await Promise.all(
      sessions.map(async (s) => {
        let commits = 0;
        for (let line = 0; line < 5; line++) {
          const r = await c.ok<{ chunks: string[]; commits: string[] }>("send_text", { session: s, text: `echo ${s}-line-${line}-${"x".repeat(22)}`, enter: true });
          assert.equal(r.commits.length, r.chunks.length + 1);
          commits += r.commits.length;
        }
        return commits;
      }),
    );
    // The trail's git directory, outside the sessions' directories (not trails/.git).
    const trailGit = `--git-dir=${join(c.home, "trails", ".trail.git")}`;
    for (const [i, s] of sessions.entries()) {
      const subjects = execFileSync("git", [trailGit, "log", "--format=%s"], { encoding: "utf8" })
        .split("\n")
        .filter((l) => l.startsWith(`${s}: `));
      assert.equal(subjects.length, typed[i], `${s}: one commit per chunk and per key`);
      // seq numbers are contiguous 1..n
      const seqs = subjects.map((l) => Number(l.split(" ")[1])).sort((a, b) => a - b);
      assert.deepEqual(seqs, Array.from({ length: typed[i]! }, (_, k) => k + 1));
    }
    execFileSync("git", [trailGit, "fsck", "--strict", "--no-progress"], { stdio: "pipe" });
  } finally {
    await c.close();
  }
});
