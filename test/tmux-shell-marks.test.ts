// Shell integration: OSC 133 marks from the session's bash, read off the control-mode stream.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { castPath } from "../src/trail/cast.js";
import { MAX_COMMAND_OUTPUT_CHARS, ShellMarks } from "../src/tmux/shell-marks.js";
import { Terminal } from "../src/tmux/terminal.js";
import { git } from "../src/trail/git.js";
import { TmuxCli } from "../src/tmux/tmux.js";

const SOCKET = `xmcp-marks-${process.pid}`;
const homes: string[] = [];

after(async () => {
  await new TmuxCli({ socket: SOCKET }).killServer();
  for (const h of homes) rmSync(h, { recursive: true, force: true });
});

function newTerminal(): { t: Terminal; home: string } {
  const home = mkdtempSync(join(tmpdir(), "xmcp-marks-"));
  homes.push(home);
  return { t: new Terminal({ home, socket: SOCKET }), home };
}

const C = "\x1b]133;C\x07";
const D = (code: number) => `\x1b]133;D;${code}\x07`;
const A = "\x1b]133;A\x07";

test("ShellMarks: marks are taken out, records carry seq, exit code and clean output", () => {
  const m = new ShellMarks();
  assert.equal(m.feed(`$ echo hi\r\n${C}\x1b[1mhi\x1b[0m\r\n${D(0)}${A}$ `), "$ echo hi\r\n\x1b[1mhi\x1b[0m\r\n$ ");
  assert.deepEqual(
    { ...m.endedAfter(0), startedAt: 0, endedAt: 0 },
    { seq: 1, exitCode: 0, output: "hi\n", startedAt: 0, endedAt: 0 },
  );
  assert.equal(m.lastSeq, 1);
  assert.equal(m.prompts, 0, "A starts a prompt; B ends it");
  m.feed("\x1b]133;B\x07");
  assert.equal(m.prompts, 1);
  // An orphan D (empty line, C-c at the prompt) ends nothing.
  m.feed(`${D(130)}${A}`);
  assert.equal(m.endedAfter(1), undefined);
  assert.equal(m.lastSeq, 1);
});

test("ShellMarks: a mark cut between two output events is reassembled, ST terminator too", () => {
  const m = new ShellMarks();
  const stream = `x${C}out\n\x1b]133;D;7\x1b\\${A}y`;
  let shown = "";
  for (let cut = 0; cut < stream.length; cut++) {
    const fresh = new ShellMarks();
    const out = fresh.feed(stream.slice(0, cut)) + fresh.feed(stream.slice(cut));
    assert.equal(out, "xout\ny", `cut at ${cut}`);
    assert.equal(fresh.endedAfter(0)?.exitCode, 7, `cut at ${cut}`);
    assert.equal(fresh.endedAfter(0)?.output, "out\n");
    shown = out;
  }
  assert.equal(shown, "xout\ny");
  // Other escapes pass through untouched.
  assert.equal(m.feed("\x1b]0;title\x07\x1b[31m"), "\x1b]0;title\x07\x1b[31m");
});

test("ShellMarks: output is bounded to its last 64 KB; a D without a code gives null", () => {
  const m = new ShellMarks();
  m.feed(C);
  for (let i = 0; i < 50; i++) m.feed(`${String(i).padStart(4, "0")}${"x".repeat(4000)}\n`);
  m.feed("\x1b]133;D\x07");
  const r = m.endedAfter(0)!;
  assert.equal(r.exitCode, null);
  assert.ok(r.output.length <= MAX_COMMAND_OUTPUT_CHARS);
  assert.ok(r.output.endsWith(`0049${"x".repeat(4000)}\n`));
});

test("a real session: seq, exit status and output per command; no marks on screen, in captures or the cast", async () => {
  const { t, home } = newTerminal();
  try {
    await t.createSession({ session: "m1" });
    assert.equal(t.hasShellMarks("m1"), true);
    assert.equal(t.lastCommandSeq("m1"), 0);
    const results = [];
    for (const [cmd, code, out] of [
      ["echo hi", 0, "hi\n"],
      ["false", 1, ""],
      ["printf 'a\\033[31mred\\033[0m\\n'; (exit 3)", 3, "ared\n"],
    ] as const) {
      const before = t.lastCommandSeq("m1");
      await t.sendText("m1", cmd, { enter: true });
      const r = await t.waitForCommandEnd("m1", before, { timeoutMs: 10_000 });
      assert.ok(r, `${cmd} ended`);
      assert.equal(r.seq, before + 1);
      assert.equal(r.exitCode, code, cmd);
      assert.equal(r.output, out, cmd);
      assert.ok(r.endedAt! >= r.startedAt);
      results.push(r);
    }
    assert.equal(t.lastCommandSeq("m1"), 3);
    // An empty line runs nothing: no new seq.
    await t.sendText("m1", "", { enter: true });
    assert.equal(await t.waitForCommandEnd("m1", 3, { timeoutMs: 300 }), null);
    // A running command: started, not ended.
    await t.sendText("m1", "sleep 2", { enter: true });
    await t.waitForCommand("m1", "sleep", { timeoutMs: 5000 });
    assert.equal(await t.waitForCommandEnd("m1", 3, { timeoutMs: 200 }), null);
    assert.equal(t.lastCommandSeq("m1"), 4);
    const slept = await t.waitForCommandEnd("m1", 3, { timeoutMs: 10_000 });
    assert.equal(slept?.seq, 4);
    assert.ok(slept!.endedAt! - slept!.startedAt >= 1900, "ended when sleep did");

    const plain = (await t.capture("m1", { lines: 100 })).text;
    const withEscapes = await t.cli.run(["capture-pane", "-p", "-e", "-S", "-100", "-t", "=m1:"]);
    for (const text of [plain, withEscapes, readFileSync(castPath(home, "m1"), "utf8")]) {
      assert.ok(!text.includes("133;"), "no OSC 133 residue");
    }
    assert.match(plain, /echo hi\nhi\n/);
    const commits = (await git(t.trailRoot, ["log", "--all", "-p", "--format=%s"])).stdout.toString("utf8");
    assert.match(commits, /echo hi/);
    assert.ok(!commits.includes("133;"), "no marks in the trail's captures");
  } finally {
    await t.close();
  }
});

test("waitForShell ends on the marks, and a session whose shell prints none falls back to quiet", async () => {
  const { t } = newTerminal();
  try {
    await t.createSession({ session: "m2" });
    await t.sendText("m2", "echo fast", { enter: true });
    const w = await t.waitForShell("m2", { timeoutMs: 10_000 });
    assert.equal(w.by, "marks");
    // A plain tmux session (default shell, no rcfile) prints no marks.
    await t.cli.newSession({ name: "plain", cwd: tmpdir(), width: 80, height: 24, command: ["bash", "--norc", "-i"] });
    await t.waitForIdle("plain", { quietMs: 100, timeoutMs: 10_000 });
    assert.equal(t.hasShellMarks("plain"), false);
    await t.sendText("plain", "echo slow", { enter: true });
    assert.equal((await t.waitForShell("plain", { timeoutMs: 10_000 })).by, "quiet");
    assert.equal(t.lastCommandSeq("plain"), 0);
  } finally {
    await t.close();
  }
});
