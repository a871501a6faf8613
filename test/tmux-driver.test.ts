// The terminal driver against a real tmux server on this file's own socket.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { TerminalError } from "../src/tmux/errors.js";
import { Terminal } from "../src/tmux/terminal.js";
import { TmuxCli } from "../src/tmux/tmux.js";
import { castPath } from "../src/trail/cast.js";

const SOCKET = `xmcp-driver-${process.pid}`;
const homes: string[] = [];

after(async () => {
  // This file's own tmux server goes, socket file included.
  await new TmuxCli({ socket: SOCKET }).killServer();
  for (const h of homes) rmSync(h, { recursive: true, force: true });
});

function newTerminal(options: { tmuxBin?: string } = {}): { t: Terminal; home: string } {
  const home = mkdtempSync(join(tmpdir(), "xmcp-tmux-"));
  homes.push(home);
  return { t: new Terminal({ home, socket: SOCKET, ...options }), home };
}

async function rejectsWith(p: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof TerminalError, `TerminalError expected, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (message) assert.match(err.message, message);
    return true;
  });
}

/** A line after `line` on screen that ends like a shell prompt: the command has returned. */
function promptAfter(line: string): RegExp {
  const escaped = line.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`${escaped}\\n(?:.*\\n)*.*[$#%>]$`);
}

test("typing printf … > hello.txt with enter: the file, ceil(len/16) text commits and one key commit", async () => {
  const { t, home } = newTerminal();
  try {
    const created = await t.createSession({ session: "hello" });
    assert.equal(created.cwd, join(home, "trails", "hello"));
    const before = await t.trail.countCommits("hello");
    const command = "printf 'hello world\\n' > hello.txt";
    const r = await t.sendText("hello", command, { enter: true });
    assert.equal(r.chunks.length, Math.ceil(command.length / 16));
    assert.equal(r.chunks.join(""), command);
    assert.equal(r.commits.length, r.chunks.length + 1);
    assert.ok(r.commits.every((sha) => /^[0-9a-f]{40}$/.test(sha)));
    await t.waitForText("hello", promptAfter(command), { timeoutMs: 20_000 });
    assert.equal(readFileSync(join(home, "trails", "hello", "hello.txt"), "utf8"), "hello world\n");
    assert.equal((await t.trail.countCommits("hello")) - before, Math.ceil(command.length / 16) + 1);
  } finally {
    await t.close();
  }
});

test("random Unicode typed into cat arrives byte for byte (chunk boundaries, ; quotes tabs newlines, argv path too)", async () => {
  const { t, home } = newTerminal();
  try {
    await t.createSession({ session: "uni" });
    await t.sendText("uni", "stty -ixon; cat > typed.txt", { enter: true });
    await t.waitForCommand("uni", "cat", { timeoutMs: 20_000 });
    const text =
      "x".repeat(15) + ";" + "y".repeat(15) + ";" + // chunks ending in ';'
      "-n 'single' \"double\" $HOME ~ #{pane_id} \\;\n" +
      "漢字かな交じり文 한국어 e\u0301 a\u0300\u0316 👍🏽 👨‍👩‍👧‍👦 🇫🇷🇩🇪 1️⃣ 𝒜\tTAB\n" +
      "🙂".repeat(40) + "\nend;";
    const r = await t.sendText("uni", text);
    assert.equal(r.chunks.join(""), text);
    // The argv path (execFile) with a trailing ';' too.
    await t.cli.sendLiteral("uni", "\nargv;");
    await t.sendKeys("uni", ["Enter", "C-d"]);
    await t.waitForText("uni", promptAfter("argv;"), { timeoutMs: 20_000 });
    assert.equal(readFileSync(join(home, "trails", "uni", "typed.txt"), "utf8"), `${text}\nargv;\n`);
  } finally {
    await t.close();
  }
});

test("a newline inside text runs the line; keys such as M-; reach the program; bad keys send nothing", async () => {
  const { t } = newTerminal();
  try {
    await t.createSession({ session: "keys" });
    const r = await t.sendText("keys", "echo L1-$((40+1))\necho L2-$((40+2))\n");
    assert.equal(r.commits.length, r.chunks.length);
    await t.waitForText("keys", /^L2-42$/m, { timeoutMs: 20_000 });
    const screen = (await t.capture("keys")).text;
    assert.match(screen, /^L1-41$/m);

    await t.sendText("keys", "cat -v", { enter: true });
    await t.waitForCommand("keys", "cat", { timeoutMs: 20_000 });
    const keys = await t.sendKeys("keys", ["M-;", "C-a", "Enter"]);
    assert.equal(keys.commits.length, 3);
    await t.waitForText("keys", /^\^\[;\^A$/m, { timeoutMs: 20_000 });

    const commits = await t.trail.countCommits("keys");
    const screenBefore = (await t.capture("keys")).text;
    await rejectsWith(t.sendKeys("keys", ["Enter", "Entr", "C-c"]), "bad-key", /"Entr".*nothing was sent/);
    await rejectsWith(t.sendKeys("keys", []), "bad-input");
    assert.equal(await t.trail.countCommits("keys"), commits, "no commit for a rejected call");
    assert.equal((await t.capture("keys")).text, screenBefore, "nothing was typed");
    await t.sendKeys("keys", ["C-d"]);
  } finally {
    await t.close();
  }
});

test("input errors: oversized or empty text, bad names, unknown sessions", async () => {
  const { t } = newTerminal();
  try {
    await rejectsWith(t.sendText("nosuch", "x".repeat(4097)), "bad-input", /4097 characters.*4096/);
    await rejectsWith(t.sendText("nosuch", ""), "bad-input", /send_keys/);
    await rejectsWith(t.sendText("bad name!", "x"), "bad-name", /A-Z a-z 0-9 _ -/);
    await rejectsWith(t.createSession({ session: "x".repeat(65) }), "bad-name");
    await rejectsWith(t.sendText("nosuch", "x"), "no-session", /^no session nosuch: create it with tmux_session action=create$/);
    await rejectsWith(t.capture("nosuch"), "no-session");
    await rejectsWith(t.waitForIdle("nosuch"), "no-session");
    await rejectsWith(t.createSession({ session: "cwd", cwd: "/definitely/not/here" }), "bad-input", /not a directory/);
    await t.createSession({ session: "dup" });
    await rejectsWith(t.createSession({ session: "dup" }), "session-exists", /action=kill/);
    // Exact names: "du" is not a prefix match for "dup".
    await rejectsWith(t.sendText("du", "x"), "no-session");
    assert.equal(await t.killSession("du"), false);
    assert.equal(await t.killSession("dup"), true);
    assert.equal(await t.killSession("dup"), false);
  } finally {
    await t.close();
  }
});

test("tmux missing: a clear error, from a configured binary path or a PATH without tmux", async () => {
  const { t } = newTerminal({ tmuxBin: "/nonexistent/bin/tmux" });
  const message = /^tmux is not installed: apt-get install tmux \/ brew install tmux$/;
  await rejectsWith(t.createSession({ session: "m" }), "tmux-missing", message);
  await rejectsWith(t.listSessions(), "tmux-missing", message);
  await rejectsWith(t.sendText("m", "x"), "tmux-missing", message);
  await t.close();

  const emptyBin = mkdtempSync(join(tmpdir(), "xmcp-nobin-"));
  homes.push(emptyBin);
  const savedPath = process.env.PATH;
  process.env.PATH = emptyBin;
  try {
    const { t: t2 } = newTerminal();
    await rejectsWith(t2.listSessions(), "tmux-missing", message);
    await rejectsWith(t2.capture("m"), "tmux-missing", message);
    await t2.close();
  } finally {
    process.env.PATH = savedPath;
  }
});

test("capture: scrollback with lines, tail truncation with a header, cursor and current command", async () => {
  const { t } = newTerminal();
  try {
    await t.createSession({ session: "cap", width: 80, height: 20 });
    await t.sendText("cap", "seq 1 300; echo SEQ-$((1+1))", { enter: true });
    await t.waitForText("cap", /^SEQ-2$/m, { timeoutMs: 20_000 });
    const visible = await t.capture("cap");
    assert.doesNotMatch(visible.text, /^1$/m, "line 1 scrolled off the visible screen");
    assert.match(visible.text, /^300$/m);
    assert.equal(visible.truncated, false);
    assert.ok(visible.cursor.y >= 0 && visible.cursor.y < 20 && visible.cursor.x >= 0);
    assert.equal(visible.current_command.length > 0, true);

    const all = await t.capture("cap", { lines: 1000 });
    assert.match(all.text, /^1$/m);
    assert.match(all.text, /^150$/m);

    const cut = await t.capture("cap", { lines: 1000, maxChars: 300 });
    assert.equal(cut.truncated, true);
    assert.ok(cut.text.length <= 300);
    assert.match(cut.text, /^\[… \d+ earlier characters not shown/);
    assert.match(cut.text, /SEQ-2/, "the newest lines are kept");
    assert.doesNotMatch(cut.text, /^1$/m);

    const idle = await t.waitForIdle("cap", { quietMs: 400, timeoutMs: 20_000 });
    assert.ok(idle.quiet_ms >= 400);
    assert.equal((await t.capture("cap")).idle, true);
  } finally {
    await t.close();
  }
});

test("waits: idle after a burst, text appearing, back at the shell, and their timeouts", async () => {
  const { t } = newTerminal();
  try {
    await t.createSession({ session: "wait" });
    await t.sendText("wait", "for i in 1 2 3; do echo tick$i; sleep 0.2; done", { enter: true });
    await t.waitForIdle("wait", { quietMs: 1500, timeoutMs: 30_000 });
    assert.match((await t.capture("wait")).text, /^tick3$/m);

    await t.sendText("wait", "sleep 0.3; echo MARK-$((6*7))", { enter: true });
    const found = await t.waitForText("wait", /MARK-\d+/, { timeoutMs: 20_000 });
    assert.equal(found.match, "MARK-42");
    const literal = await t.waitForText("wait", "MARK-42", { timeoutMs: 20_000 });
    assert.equal(literal.match, "MARK-42");
    await rejectsWith(t.waitForText("wait", /NEVER-SHOWN/, { timeoutMs: 300 }), "timeout", /capture_pane/);

    await t.sendText("wait", "echo START-$((1+1)); sleep 60", { enter: true });
    await t.waitForText("wait", /^START-2$/m, { timeoutMs: 20_000 });
    await rejectsWith(t.waitForShell("wait", { quietMs: 1000, timeoutMs: 2500 }), "timeout", /still running sleep/);
    assert.equal(await t.currentCommand("wait"), "sleep");
    await rejectsWith(t.waitForIdle("wait", { quietMs: 5000, timeoutMs: 300 }), "timeout");
    await t.sendKeys("wait", ["C-c"]);
    const back = await t.waitForShell("wait", { timeoutMs: 20_000 });
    assert.ok(back.command.length > 0);
    assert.notEqual(await t.currentCommand("wait"), "sleep");
  } finally {
    await t.close();
  }
});

test("a session killed from outside: waits reject, calls say no session, the name can be reused", async () => {
  const { t } = newTerminal();
  try {
    await t.createSession({ session: "doomed" });
    const waiting = t.waitForText("doomed", /NEVER/, { timeoutMs: 60_000 });
    execFileSync("tmux", ["-L", SOCKET, "kill-session", "-t", "=doomed"]);
    await rejectsWith(waiting, "no-session", /create it with tmux_session action=create/);
    await rejectsWith(t.sendText("doomed", "echo hi"), "no-session");
    await rejectsWith(t.sendKeys("doomed", ["Enter"]), "no-session");
    await t.createSession({ session: "doomed" });
    await t.sendText("doomed", "echo AGAIN-$((2+2))", { enter: true });
    await t.waitForText("doomed", /^AGAIN-4$/m, { timeoutMs: 20_000 });
    assert.deepEqual(
      (await t.listSessions()).map((s) => s.session).filter((s) => s === "doomed"),
      ["doomed"],
    );
  } finally {
    await t.close();
  }
});

test("asciicast v2 recording: header, ordered output events, typed text inside", async () => {
  const { t, home } = newTerminal();
  try {
    await t.createSession({ session: "rec", width: 90, height: 25 });
    await t.sendText("rec", "echo CAST-$((3*3))", { enter: true });
    await t.waitForText("rec", /^CAST-9$/m, { timeoutMs: 20_000 });
    await t.waitForIdle("rec", { quietMs: 200, timeoutMs: 20_000 });
  } finally {
    await t.close();
  }
  const lines = readFileSync(castPath(home, "rec"), "utf8").trimEnd().split("\n");
  const header = JSON.parse(lines[0]!) as Record<string, unknown>;
  assert.equal(header.version, 2);
  assert.equal(header.width, 90);
  assert.equal(header.height, 25);
  assert.equal(typeof header.timestamp, "number");
  assert.ok(Math.abs((header.timestamp as number) - Date.now() / 1000) < 600);
  let last = 0;
  let data = "";
  for (const line of lines.slice(1)) {
    const [time, kind, text] = JSON.parse(line) as [number, string, string];
    assert.equal(kind, "o");
    assert.ok(time >= last, "times never go back");
    last = time;
    data += text;
  }
  assert.match(data, /echo CAST-\$\(\(3\*3\)\)/);
  assert.match(data, /CAST-9/);

  // A restarted server re-attaching continues the same recording.
  const t2 = new Terminal({ home, socket: SOCKET });
  try {
    await t2.sendText("rec", "echo MORE-$((1+1))", { enter: true });
    await t2.waitForText("rec", /^MORE-2$/m, { timeoutMs: 20_000 });
  } finally {
    await t2.close();
  }
  const again = readFileSync(castPath(home, "rec"), "utf8").trimEnd().split("\n");
  assert.equal(again[0], lines[0], "same header");
  assert.ok(again.length > lines.length);
  assert.match(again.slice(lines.length).join("\n"), /MORE-2/);
});

test("an idle control client does not keep node's event loop alive", async () => {
  const home = mkdtempSync(join(tmpdir(), "xmcp-loop-"));
  homes.push(home);
  const terminalUrl = new URL("../src/tmux/terminal.js", import.meta.url).href;
  const script = join(home, "child.mjs");
  writeFileSync(
    script,
    `import { Terminal } from ${JSON.stringify(terminalUrl)};
const t = new Terminal({ home: ${JSON.stringify(home)}, socket: ${JSON.stringify(SOCKET)} });
await t.createSession({ session: "loop" });
await t.sendText("loop", "echo LOOP-$((5+5))", { enter: true });
await t.waitForText("loop", /^LOOP-10$/m, { timeoutMs: 20000 });
process.stdout.write("typed\\n");
// no t.close(): the process must still end by itself
`,
  );
  const result = await new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
    const child = spawn(process.execPath, [script], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (b: Buffer) => (out += b.toString()));
    child.stderr.on("data", (b: Buffer) => (err += b.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
  assert.equal(result.out, "typed\n", result.err);
  assert.equal(result.code, 0, `child exited by itself (stderr: ${result.err})`);
  // The session itself lives on in tmux.
  execFileSync("tmux", ["-L", SOCKET, "has-session", "-t", "=loop"]);
});

test("trail CLI: cast writes the recording to stdout, validate prints the metrics", async () => {
  const { t, home } = newTerminal();
  try {
    await t.createSession({ session: "clicast" });
    await t.sendText("clicast", "echo CLI-$((2*4))", { enter: true });
    await t.waitForText("clicast", /^CLI-8$/m, { timeoutMs: 20_000 });
  } finally {
    await t.close();
  }
  const out = execFileSync(process.execPath, [cliPath(), "trail", "cast", "clicast", "--home", home], { encoding: "utf8" });
  assert.equal(out, readFileSync(castPath(home, "clicast"), "utf8"));
  assert.throws(() => execFileSync(process.execPath, [cliPath(), "trail", "cast", "nothere", "--home", home], { stdio: "pipe" }), /no recording for session nothere/);
  const metrics = JSON.parse(execFileSync(process.execPath, [cliPath(), "trail", "validate", "clicast", "--home", home], { encoding: "utf8" })) as Record<string, unknown>;
  assert.equal(metrics.session, "clicast");
  assert.equal(metrics.commits, 3, "two text chunks and Enter");
  for (const key of ["avg_interval_ms", "max_byte_delta", "max_diff_chars", "syntax_ratio"]) assert.ok(key in metrics, key);
});

function cliPath(): string {
  return fileURLToPath(new URL("../src/cli.js", import.meta.url));
}

