// run_harness with the built-in coder module, offline (no LLM), against a real tmux.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connect, tempHome, textOf, writeModule, type Connected } from "./helpers.js";
import { CLI, serverEnv, spawnClient } from "./spawn.js";
import { TmuxCli } from "../src/tmux/tmux.js";
import { examplesOfRun } from "../src/harness/record.js";

const SOCKET = `xmcp-harness-${process.pid}`;
const DEMO_SOCKET = `xmcp-harness-demo-${process.pid}`;

after(async () => {
  for (const socket of [SOCKET, DEMO_SOCKET, `xmcp-spawn-${process.pid}`]) await new TmuxCli({ socket }).killServer();
});

interface Step {
  step: number;
  decision: string;
  command: string;
  commits: string[];
  sources: { decision: string; command: string };
  passed: boolean;
  detail: string;
}

interface HarnessResult {
  success: boolean;
  outcome: string;
  refused?: { command: string; reason: string };
  steps: number;
  session: string;
  trajectory: Step[];
  final_screen: string;
  validator: { kind: string; passed: boolean; detail: string };
  stopped: string;
  error?: string;
  run_id: string;
  recorded: number;
}

// No OPENAI_*/LLM_* in the env passed to connect(): the experts answer from stored rows only.
function open(): Promise<Connected> {
  return connect({ tmuxSocket: SOCKET, toolsets: ["terminal", "harness", "memory"] });
}

async function createSession(c: Connected, session: string): Promise<string> {
  const r = await c.ok<{ cwd: string }>("tmux_session", { action: "create", session });
  return r.cwd;
}

interface Task {
  task: string;
  validator: { kind: "regex" | "command"; pattern?: string; command?: string };
  /** Files and directories to put in the session's directory first. */
  files?: Record<string, string>;
  dirs?: string[];
  /** Expected command typed (the seed row, filled in). */
  typed: string;
}

const TASKS: Task[] = [
  { task: "print hello world", validator: { kind: "regex", pattern: "^hello world$" }, typed: "echo hello world" },
  { task: 'print the text "good morning"', validator: { kind: "regex", pattern: "^good morning$" }, typed: "echo 'good morning'" },
  { task: 'create an empty file named "notes.txt"', validator: { kind: "command", command: "test -f notes.txt && test ! -s notes.txt" }, typed: "touch notes.txt" },
  { task: 'make a directory named "build"', validator: { kind: "command", command: "test -d build" }, typed: "mkdir -p build" },
  {
    task: 'write "hello harness" to a file named "greeting.txt"',
    validator: { kind: "command", command: "test \"$(cat greeting.txt)\" = 'hello harness'" },
    typed: "printf '%s\\n' 'hello harness' > greeting.txt",
  },
  { task: 'count the lines in the file "three.txt"', files: { "three.txt": "a\nb\nc\n" }, validator: { kind: "regex", pattern: "^3$" }, typed: "wc -l < three.txt" },
  { task: "list the files in the current directory", files: { "alpha.txt": "x" }, validator: { kind: "regex", pattern: "^alpha\\.txt" }, typed: "ls" },
  { task: 'copy the file "a.txt" to "b.txt"', files: { "a.txt": "copy me\n" }, validator: { kind: "command", command: "cmp a.txt b.txt" }, typed: "cp -- a.txt b.txt" },
  { task: 'delete the file "old.txt"', files: { "old.txt": "bye\n" }, validator: { kind: "command", command: "test ! -e old.txt" }, typed: "rm -f -- old.txt" },
  { task: 'show the first line of the file "poem.txt"', files: { "poem.txt": "roses are red\nviolets are blue\n" }, validator: { kind: "regex", pattern: "^roses are red$" }, typed: "head -n 1 poem.txt" },
  { task: 'search for "needle" in the file "hay.txt"', files: { "hay.txt": "hay\nhay needle hay\n" }, validator: { kind: "regex", pattern: "^2:hay needle hay$" }, typed: "grep -n -- needle hay.txt" },
  // cd changes the prompt: the loop must notice the command finished all the same.
  { task: 'go into the directory "sub dir"', dirs: ["sub dir"], validator: { kind: "command", command: 'test "$(basename "$PWD")" = "sub dir"' }, typed: "cd -- 'sub dir'" },
  { task: "show the current date", validator: { kind: "regex", pattern: `\\b${new Date().getUTCFullYear()}$|\\b${new Date().getUTCFullYear() + 1}$` }, typed: "date" },
];

test("the offline coder solves shell tasks through a real tmux, each checked by a validator that looks at the result", async () => {
  const c = await open();
  try {
    for (const [i, t] of TASKS.entries()) {
      const session = `task-${i}`;
      const cwd = await createSession(c, session);
      for (const [name, body] of Object.entries(t.files ?? {})) writeFileSync(join(cwd, name), body);
      for (const name of t.dirs ?? []) mkdirSync(join(cwd, name));
      const r = await c.ok<HarnessResult>("run_harness", { task: t.task, session, validator: t.validator, max_steps: 6 });
      assert.equal(r.success, true, `${t.task}: ${JSON.stringify(r, null, 1)}`);
      assert.equal(r.stopped, "validator");
      assert.equal(r.steps, 2, `${t.task}: type, then Enter`);
      assert.deepEqual(
        r.trajectory.map((s) => [s.decision.split(":")[0], s.command]),
        [
          ["text", t.typed],
          ["ctrl", "Enter"],
        ],
      );
      assert.ok(r.trajectory.every((s) => s.sources.decision === "experience" && s.sources.command === "experience"));
      assert.ok(r.trajectory.every((s) => s.commits.length > 0), "every step is committed to the trail");
      assert.equal(r.validator.passed, true);
    }
    // The check commands really looked at the files the session made.
    const dir = join(c.home, "trails");
    assert.equal(readFileSync(join(dir, "task-4", "greeting.txt"), "utf8"), "hello harness\n");
    assert.equal(readFileSync(join(dir, "task-7", "b.txt"), "utf8"), "copy me\n");
  } finally {
    await c.close();
  }
});

test("no validator: a task whose effect nothing can check is unverified, not a success; one the words promise is checked; a fresh session is made when none is named", async () => {
  const c = await open();
  try {
    const r = await c.ok<HarnessResult>("run_harness", { task: "show the working directory" });
    assert.equal(r.success, false, JSON.stringify(r));
    assert.equal(r.outcome, "unverified");
    assert.equal(r.recorded, 0, "an unverified run is not a training example");
    assert.match(r.session, /^harness-/);
    assert.equal(r.validator.kind, "none");
    assert.match(r.final_screen, new RegExp(`^${join(c.home, "trails", r.session).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`, "m"));
    // cd changes the prompt; the loop still sees the command finish (the new prompt is learnt),
    // and the task's words give the check: the shell must be in d2.
    mkdirSync(join(c.home, "trails", r.session, "d2"));
    const cd = await c.ok<HarnessResult>("run_harness", { task: 'go into the directory "d2"', session: r.session, max_steps: 4 });
    assert.equal(cd.success, true, JSON.stringify(cd));
    assert.equal(cd.outcome, "verified");
    assert.equal(cd.validator.kind, "derived");
    assert.equal(cd.steps, 2);
  } finally {
    await c.close();
  }
});

test("a validator that never passes: the command is not typed again; the run stops stuck with the trajectory of every step", async () => {
  const c = await open();
  try {
    const r = await c.ok<HarnessResult>("run_harness", { task: "print hello world", validator: { kind: "regex", pattern: "^never shown$" }, max_steps: 8 });
    assert.equal(r.success, false);
    assert.equal(r.outcome, "stuck");
    assert.equal(r.stopped, "stuck");
    assert.equal(r.steps, 2);
    assert.deepEqual(
      r.trajectory.map((s) => s.command),
      ["echo hello world", "Enter"],
    );
    assert.equal(r.validator.passed, false);
    assert.match(r.final_screen, /^hello world$/m, "the best the run could do is on the screen");
    assert.equal(r.recorded, 0, "failed runs teach nothing");
  } finally {
    await c.close();
  }
});

test("bad input is an isError result with what to do; nothing is typed", async () => {
  const c = await open();
  try {
    const regex = await c.call("run_harness", { task: "print hello world", validator: { kind: "regex" } });
    assert.equal(regex.isError, true);
    assert.match(textOf(regex), /needs pattern/);
    const bad = await c.call("run_harness", { task: "print hello world", validator: { kind: "regex", pattern: "(" } });
    assert.equal(bad.isError, true);
    assert.match(textOf(bad), /not a valid regular expression/);
    const mod = await c.call("run_harness", { task: "print hello world", module: "nosuch" });
    assert.equal(mod.isError, true);
    assert.match(textOf(mod), /unknown module "nosuch".*modules/);
  } finally {
    await c.close();
  }
});

test("a session killed mid-run ends the run with success:false and a clear message, and the server carries on", async () => {
  const c = await open();
  try {
    const session = "killed-mid-run";
    await createSession(c, session);
    // A check command that kills the session: the step after it finds no session.
    const r = await c.ok<HarnessResult>("run_harness", {
      task: "print hello world",
      session,
      validator: { kind: "command", command: `tmux -L ${SOCKET} kill-session -t ${session}; exit 1` },
    });
    assert.equal(r.success, false);
    assert.equal(r.stopped, "session_ended");
    assert.match(r.error ?? "", /session killed-mid-run ended during the run/);
    const again = await c.ok<HarnessResult>("run_harness", { task: "print hello world", validator: { kind: "regex", pattern: "^hello world$" } });
    assert.equal(again.success, true);
  } finally {
    await c.close();
  }
});

test("a successful run is recorded as training examples (source runs); seed rows are put in once", async () => {
  const c = await open();
  try {
    const r = await c.ok<HarnessResult>("run_harness", { task: 'make a directory named "out"', validator: { kind: "command", command: "test -d out" } });
    assert.equal(r.success, true);
    assert.equal(r.recorded, 4);
    const examples = examplesOfRun(c.app.services.db, r.run_id);
    assert.deepEqual(
      examples.map((e) => [e.tensor, e.expected, e.source, e.used_at]),
      [
        ["coder/decision", "text:type the shell command that does the task", "runs", null],
        ["coder/command", "mkdir -p {1}", "runs", null],
        ["coder/decision", "ctrl:press Enter to run the typed command", "runs", null],
        ["coder/command", "Enter", "runs", null],
      ],
    );
    assert.match(examples[0]!.input, /^state: emptyprompt\n/);
    assert.equal(examples[1]!.input, 'text: type the shell command that does the task\ntask: make a directory named "{1}"');
    const rows = c.app.services.store.rows("coder/command");
    const before = rows.length;
    await c.ok<HarnessResult>("run_harness", { task: "print hello world" });
    assert.equal(c.app.services.store.rows("coder/command").length, before, "no duplicate seed rows");
  } finally {
    await c.close();
  }
});

test("custom modules from $EXPERIENCE_MCP_HOME/modules (YAML), with their own tensors, rows and validator", async () => {
  const c = await open();
  try {
    mkdirSync(join(c.home, "modules"), { recursive: true });
    writeFileSync(
      join(c.home, "modules", "greeter.yaml"),
      [
        "name: greeter",
        "description: says hello in French",
        "decision_tensor: greeter/decision",
        "command_tensor: greeter/command",
        "validator: {kind: regex, pattern: '^bonjour'}",
        "seed:",
        "  decision:",
        "    - {key: 'state: emptyprompt', value: 'text:greet'}",
        "    - {key: 'state: typedcommand', value: 'ctrl:run it'}",
        "  command:",
        "    - key: |-",
        "        text: greet",
        '        task: greet "{1}"',
        "      value: echo bonjour {1}",
        "    - {key: 'ctrl: run it', value: 'Enter'}",
        "",
      ].join("\n"),
    );
    const r = await c.ok<HarnessResult>("run_harness", { task: 'greet "Ada"', module: "greeter" });
    assert.equal(r.success, true, JSON.stringify(r));
    assert.deepEqual(
      r.trajectory.map((s) => s.command),
      ["echo bonjour Ada", "Enter"],
    );
    assert.match(r.final_screen, /^bonjour Ada$/m);

    writeFileSync(join(c.home, "modules", "broken.json"), JSON.stringify({ name: "broken", decision_tensor: "a b" }));
    const broken = await c.call("run_harness", { task: "x", module: "broken" });
    assert.equal(broken.isError, true);
    assert.match(textOf(broken), /broken\.json is invalid at decision_tensor/);
  } finally {
    await c.close();
  }
});

test("progress notifications, one per step, when the client sends a progress token", async () => {
  const c = await open();
  try {
    const seen: Array<{ progress: number; total?: number; message?: string }> = [];
    const r = await c.client.callTool({ name: "run_harness", arguments: { task: "print hello world", validator: { kind: "regex", pattern: "^hello world$" } } }, undefined, {
      onprogress: (p) => void seen.push(p),
    });
    assert.equal((r.structuredContent as unknown as HarnessResult).success, true);
    assert.deepEqual(
      seen.map((p) => [p.progress, p.total]),
      [
        [1, 30],
        [2, 30],
      ],
    );
    assert.match(seen[0]!.message ?? "", /echo hello world/);
  } finally {
    await c.close();
  }
});

test("over stdio: the built server solves 'print hello world' offline", async () => {
  const t = tempHome();
  const { client, transport } = await spawnClient(t.home);
  try {
    // llm off: the environment of the machine running the tests may name an LLM.
    const r = await client.callTool({ name: "run_harness", arguments: { task: "print hello world", llm: "off", validator: { kind: "regex", pattern: "^hello world$" } } });
    assert.notEqual(r.isError, true, JSON.stringify(r));
    const s = r.structuredContent as unknown as HarnessResult;
    assert.equal(s.success, true);
    assert.match(s.final_screen, /^hello world$/m);
  } finally {
    await client.close();
    await transport.close();
    t.cleanup();
  }
});

/** Run `experience-mcp demo` with `args`; `onOut` sees stdout as it comes (to signal the child mid-run). */
async function demo(home: string, args: string[], onOut?: (out: string, child: ReturnType<typeof spawn>) => void) {
  const child = spawn(process.execPath, [CLI, "demo", "--home", home, ...args], { env: serverEnv(home, { EXPERIENCE_MCP_TMUX_SOCKET: DEMO_SOCKET }) });
  let out = "";
  let err = "";
  child.stdout!.on("data", (d: Buffer) => {
    out += d.toString();
    onOut?.(out, child);
  });
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  const session = /session:\s+(demo-\d+)/.exec(out)?.[1];
  return { code, out, err, session };
}

test("experience-mcp demo prints the steps, the verdict, the trail scores and how to replay, and kills its session", async () => {
  const t = tempHome();
  try {
    const { code, out, err, session } = await demo(t.home, []);
    assert.equal(code, 0, `${out}\n${err}`);
    assert.match(out, /step 1: text:type the shell command that does the task\n\s+→ type: echo hello world/);
    assert.match(out, /step 2: ctrl:press Enter to run the typed command/);
    assert.match(out, /verdict:\s+SUCCESS after 2 steps/);
    assert.match(out, /trail:\s+\{"commits":2,/);
    assert.match(out, /replay:\s+npx experience-mcp trail cast demo-/);
    // The history line runs as printed (the trail's git directory is not trails/.git).
    const history = /^history:\s+git (.+)$/m.exec(out)?.[1]?.split(" ");
    assert.ok(history, out);
    assert.match(execFileSync("git", history, { encoding: "utf8" }), /demo-\d+: 1 text "echo hello world"/);
    assert.doesNotMatch(out, /attach:|node dist/);
    assert.match(out, /session:\s+demo-\d+ killed \(pass --keep/);
    assert.ok(session);
    assert.equal(await new TmuxCli({ socket: DEMO_SOCKET }).hasSession(session), false, "the demo's session is gone");
  } finally {
    t.cleanup();
  }
});

test("experience-mcp demo --keep leaves its session running and prints how to attach to it", async () => {
  const t = tempHome();
  try {
    const { code, out, err, session } = await demo(t.home, ["--keep"]);
    assert.equal(code, 0, `${out}\n${err}`);
    assert.match(out, new RegExp(`attach:\\s+tmux -L ${DEMO_SOCKET} attach -t demo-`));
    assert.ok(session);
    const tmux = new TmuxCli({ socket: DEMO_SOCKET });
    assert.equal(await tmux.hasSession(session), true, "kept");
    await tmux.killSession(session);
  } finally {
    t.cleanup();
  }
});

test("experience-mcp demo stopped by SIGTERM mid-run still kills its session", async () => {
  const t = tempHome();
  try {
    const tmux = new TmuxCli({ socket: DEMO_SOCKET });
    let signalled = false;
    let aliveAtSignal: Promise<boolean> | undefined;
    const { code, out, session } = await demo(t.home, [], (o, child) => {
      const name = /session:\s+(demo-\d+)/.exec(o)?.[1];
      // After the first step the session exists and the run is not over: stop it there.
      if (!signalled && name && /step 1:/.test(o)) {
        signalled = true;
        aliveAtSignal = tmux.hasSession(name);
        child.kill("SIGTERM");
      }
    });
    assert.ok(signalled && session, out);
    assert.equal(await aliveAtSignal, true, "the session existed when the signal was sent");
    assert.doesNotMatch(out, /verdict:/, "the run was cut short by the signal");
    assert.equal(code, 143, out);
    assert.equal(await tmux.hasSession(session), false, "the demo's session is gone");
  } finally {
    t.cleanup();
  }
});

test("the wall-clock cap: a command that outlives time_limit_s ends the run with stopped=time_limit", async () => {
  const c = await open();
  try {
    writeModule(c.home, "sleeper", [{ key: "text: wait\ntask: wait", value: "sleep 300" }], [
      { key: "state: emptyprompt", value: "text:wait" },
      { key: "state: typedcommand", value: "ctrl:run" },
      { key: "state: runningprogram", value: "ctrl:run" },
    ]);
    const r = await c.ok<HarnessResult>("run_harness", { task: "wait", module: "sleeper", time_limit_s: 2 });
    assert.equal(r.success, false);
    assert.equal(r.stopped, "time_limit");
    assert.ok(r.steps >= 1 && r.steps <= 2, JSON.stringify(r.trajectory));
    await c.ok("send_keys", { session: r.session, keys: ["C-c"] });
  } finally {
    await c.close();
  }
});
