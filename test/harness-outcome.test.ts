// run_harness tells the truth about what it did (issue 15), against a real tmux, offline.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connect, tempHome, writeModule, type Connected } from "./helpers.js";
import { spawnClient } from "./spawn.js";
import { TmuxCli } from "../src/tmux/tmux.js";

const SOCKET = `xmcp-outcome-${process.pid}`;

after(async () => {
  for (const socket of [SOCKET, `xmcp-spawn-${process.pid}`]) await new TmuxCli({ socket }).killServer();
});

interface Result {
  success: boolean;
  outcome: string;
  steps: number;
  session: string;
  trajectory: Array<{ command: string; passed: boolean; detail: string; exit_code?: number | null }>;
  final_screen: string;
  validator: { kind: string; passed: boolean; detail: string };
  stopped: string;
  error?: string;
  refused?: { command: string; reason: string };
  recorded: number;
}

function open(): Promise<Connected> {
  return connect({ tmuxSocket: SOCKET, toolsets: ["terminal", "harness", "memory", "train"] });
}

async function session(c: Connected, name: string, files: Record<string, string> = {}): Promise<string> {
  const { cwd } = await c.ok<{ cwd: string }>("tmux_session", { action: "create", session: name });
  for (const [f, body] of Object.entries(files)) writeFileSync(join(cwd, f), body);
  return cwd;
}

const lastLine = (screen: string) => screen.split("\n").filter((l) => l.trim()).pop() ?? "";

test("execute the file b.py in a directory holding b.py: it runs it the way the machine declares (python3), never deletes it", async () => {
  const c = await open();
  try {
    const cwd = await session(c, "exec", { "b.py": "print('hi from b')\n" });
    const r = await c.ok<Result>("run_harness", { task: "execute the file b.py", session: "exec" });
    assert.equal(r.trajectory[0]!.command, "python3 b.py", JSON.stringify(r));
    assert.equal(r.outcome, "unverified", "nothing in the task says what running it must show");
    assert.equal(r.success, false);
    assert.ok(existsSync(join(cwd, "b.py")), "b.py is still there");
    const checked = await c.ok<Result>("run_harness", { task: "execute the file b.py", session: "exec", validator: { kind: "regex", pattern: "^hi from b$" } });
    assert.equal(checked.outcome, "verified", JSON.stringify(checked));
    // A file with no #! line and an extension /etc/mime.types does not map: nothing is guessed.
    await session(c, "exec2", { "b.zz": "print('x')\n" });
    const unknown = await c.ok<Result>("run_harness", { task: "execute the file b.zz", session: "exec2" });
    assert.equal(unknown.outcome, "no_experience", JSON.stringify(unknown));
    // Its own #! line says how: a shell script named .txt runs with the shell it names.
    await session(c, "exec3", { "job.txt": "#!/bin/sh\necho from-job\n" });
    const bang = await c.ok<Result>("run_harness", { task: "run the script job.txt", session: "exec3", validator: { kind: "regex", pattern: "^from-job$" } });
    assert.equal(bang.trajectory[0]!.command, "sh job.txt");
    assert.equal(bang.outcome, "verified");
  } finally {
    await c.close();
  }
});

test("no_experience for a task nothing stored fits, with how to teach it; the prompt is left as it was", async () => {
  const c = await open();
  try {
    const cwd = await session(c, "teach", { "data.csv": "1\n2\n3\n" });
    const r = await c.ok<Result>("run_harness", { task: "deploy the docs in data.csv to the staging server", session: "teach", validator: { kind: "regex", pattern: "^deployed$" } });
    assert.equal(r.outcome, "no_experience");
    assert.match(r.error ?? "", /harvest|train_model|LLM/);
    assert.equal(lastLine(r.final_screen), lastLine((await c.ok<{ text: string }>("capture_pane", { session: "teach" })).text));
    assert.ok(!readdirSync(cwd).some((f) => f.includes("{")), "no placeholder was typed");
  } finally {
    await c.close();
  }
});

test("unquoted parameters fill the template: no literal {1} file; the derived check verifies the effect", async () => {
  const c = await open();
  try {
    const cwd = await session(c, "slots");
    const r = await c.ok<Result>("run_harness", { task: "create an empty file named notes.txt", session: "slots" });
    assert.equal(r.outcome, "verified", JSON.stringify(r));
    assert.equal(r.validator.kind, "derived");
    assert.ok(existsSync(join(cwd, "notes.txt")));
    assert.ok(!readdirSync(cwd).some((f) => f.includes("{")), "no placeholder file");
    assert.equal(r.trajectory[1]!.exit_code, 0, "the shell's marks report the exit status");
    const dir = await c.ok<Result>("run_harness", { task: "make a directory called build", session: "slots" });
    assert.equal(dir.outcome, "verified");
    assert.ok(statSync(join(cwd, "build")).isDirectory());
  } finally {
    await c.close();
  }
});

test("the machine's manual is offline experience: 'print the kernel name' runs uname -s; 'reverse the lines' runs tac, checked by the caller's validator", async () => {
  const c = await open();
  try {
    await session(c, "help", { "data.csv": "1\n2\n3\n" });
    const r = await c.ok<Result & { trajectory: Array<{ sources: { command: string } }> }>("run_harness", { task: "print the kernel name", session: "help", validator: { kind: "regex", pattern: "^Linux$" } });
    assert.equal(r.outcome, "verified", JSON.stringify(r));
    assert.equal(r.trajectory[0]!.command, "uname -s");
    assert.equal(r.trajectory[0]!.sources.command, "manual");
    const rev = await c.ok<Result>("run_harness", { task: "reverse the lines in data.csv", session: "help", validator: { kind: "regex", pattern: "^3\\n2\\n1$" } });
    assert.equal(rev.outcome, "verified", JSON.stringify(rev));
    assert.equal(rev.trajectory[0]!.command, "tac data.csv");
  } finally {
    await c.close();
  }
});

test("a taught row carries over to another option of the same program: after `wc -l < {1}`, 'count the words' types wc -w < file", async () => {
  const c = await open();
  try {
    // A module with no command rows of its own, so only what is taught below is taught.
    writeModule(c.home, "plain", []);
    await session(c, "carry", { "poem.txt": "roses are red\nviolets are blue\n" });
    const words = { task: "count the words in poem.txt", module: "plain", session: "carry", validator: { kind: "regex", pattern: "^6$" } };
    const before = await c.ok<Result>("run_harness", words);
    assert.equal(before.trajectory[0]!.command, "wc -w poem.txt", "untaught, the manual's form prints the name too");
    await c.ok("remember", { tensor: "plain/command", key: "text: type the shell command that does the task\ntask: count the lines of {1}", value: "wc -l < {1}" });
    const after = await c.ok<Result>("run_harness", words);
    assert.equal(after.outcome, "verified", JSON.stringify(after));
    assert.equal(after.trajectory[0]!.command, "wc -w < poem.txt");
  } finally {
    await c.close();
  }
});

test("a command that fails: its exit status and the check say so, it is not typed again, and the run stops stuck", async () => {
  const c = await open();
  try {
    await session(c, "fails", { x: "a file, not a directory\n" });
    const r = await c.ok<Result>("run_harness", { task: "make a directory named x/y", session: "fails", max_steps: 10 });
    assert.equal(r.success, false);
    assert.equal(r.outcome, "stuck", JSON.stringify(r));
    assert.equal(r.trajectory.filter((s) => s.command.startsWith("mkdir")).length, 1, "typed once");
    assert.notEqual(r.trajectory[1]!.exit_code, 0);
    assert.equal(r.recorded, 0);
  } finally {
    await c.close();
  }
});

test("refused: a row that would delete what the task did not ask to delete is not typed; allow_destructive opts in", async () => {
  const c = await open();
  try {
    writeModule(c.home, "tidy", [{ key: "text: type the shell command that does the task\ntask: tidy up {1}", value: "rm -f -- {1}" }]);
    const cwd = await session(c, "tidy", { "notes.txt": "keep\n" });
    const r = await c.ok<Result>("run_harness", { task: "tidy up notes.txt", module: "tidy", session: "tidy" });
    assert.equal(r.outcome, "refused", JSON.stringify(r));
    assert.deepEqual(r.refused?.command, "rm -f -- notes.txt");
    assert.match(r.error ?? "", /allow_destructive/);
    assert.ok(existsSync(join(cwd, "notes.txt")));
    const yes = await c.ok<Result>("run_harness", { task: "tidy up notes.txt", module: "tidy", session: "tidy", allow_destructive: true });
    assert.equal(yes.outcome, "unverified", JSON.stringify(yes));
    assert.ok(!existsSync(join(cwd, "notes.txt")), "the caller opted in");
  } finally {
    await c.close();
  }
});

test("nothing is left typed at the prompt when a run stops after typing", async () => {
  const c = await open();
  try {
    await session(c, "halfway");
    const r = await c.ok<Result>("run_harness", { task: "print hello world", session: "halfway", max_steps: 1, validator: { kind: "regex", pattern: "^hello world$" } });
    assert.equal(r.outcome, "failed");
    const screen = (await c.ok<{ text: string }>("capture_pane", { session: "halfway" })).text;
    assert.doesNotMatch(lastLine(screen), /echo hello world/, "the typed line was cleared");
    // A regex that matches text already on the screen before the command ran proves nothing.
    await c.ok("send_text", { session: "halfway", text: "echo stale marker", enter: true });
    const stale = await c.ok<Result>("run_harness", { task: "show the working directory", session: "halfway", validator: { kind: "regex", pattern: "^stale marker$" } });
    assert.equal(stale.success, false, JSON.stringify(stale));
  } finally {
    await c.close();
  }
});

test("over stdio: time_limit_s holds though the validator forks a long sleep (its process group is killed)", { timeout: 60_000 }, async () => {
  const t = tempHome();
  const { client, transport } = await spawnClient(t.home);
  try {
    // The last one escapes the process group (setsid) and holds the output pipe: the run must not wait for it.
    for (const command of ["sleep 40 & sleep 30", "(sleep 40 &); sleep 30", "setsid sleep 40 & sleep 30"]) {
      const started = Date.now();
      const r = await client.callTool({
        name: "run_harness",
        arguments: { task: "print hello world", llm: "off", time_limit_s: 5, validator: { kind: "command", command, timeout_s: 60 } },
      });
      const took = Date.now() - started;
      const s = r.structuredContent as unknown as Result;
      assert.equal(s.outcome, "time_limit", JSON.stringify(s));
      assert.ok(took < 9_000, `${command}: a 5 s run took ${took} ms`);
    }
  } finally {
    await client.close();
    await transport.close();
    t.cleanup();
  }
});

test("with an LLM that answers badly on purpose: its destructive command is refused, a repeated one is never typed twice, no false success", { timeout: 60_000 }, async () => {
  const { startFakeOpenAi, currentInput } = await import("./fake-openai.js");
  const destructive = await startFakeOpenAi({ chat: (user) => (currentInput(user).startsWith("text:") ? "rm -f -- {1}" : undefined) });
  const repeats = await startFakeOpenAi({ chat: (user) => (currentInput(user).startsWith("text:") ? "ls" : undefined) });
  const env = (url: string) => ({ OPENAI_BASE_URL: url, OPENAI_API_KEY: "k", EXPERIENCE_MCP_MODEL: "fake-base" });
  try {
    let c = await connect({ tmuxSocket: SOCKET, toolsets: ["terminal", "harness"] }, env(destructive.url));
    try {
      const cwd = await session(c, "llm-rm", { "notes.txt": "keep\n" });
      const r = await c.ok<Result>("run_harness", { task: "show the contents of notes.txt", session: "llm-rm" });
      assert.equal(r.outcome, "refused", JSON.stringify(r));
      assert.equal(r.refused?.command, "rm -f -- notes.txt");
      assert.ok(existsSync(join(cwd, "notes.txt")));
    } finally {
      await c.close();
    }
    c = await connect({ tmuxSocket: SOCKET, toolsets: ["terminal", "harness"] }, env(repeats.url));
    try {
      await session(c, "llm-ls", { "words.txt": "b\na\n" });
      const r = await c.ok<Result>("run_harness", { task: "sort the lines of words.txt", session: "llm-ls", max_steps: 12, validator: { kind: "regex", pattern: "^a\\nb$" } });
      const typed = r.trajectory.filter((s, i) => i % 2 === 0).map((s) => s.command);
      assert.equal(new Set(typed).size, typed.length, `never typed twice: ${JSON.stringify(typed)}`);
      // The model's `ls` fails the check once; the next candidate is the manual's, checked the same way.
      assert.deepEqual(typed, ["ls", "sort words.txt"], JSON.stringify(r));
      assert.equal(r.outcome, "verified");
    } finally {
      await c.close();
    }
  } finally {
    await destructive.close();
    await repeats.close();
  }
});
