/**
 * Teaching by demonstration, end to end with a real tmux, trail, database and worker: run_harness
 * fails a task; the agent types the command by hand in the same session; harvest turns that into a
 * `source = 'trail'` example; train_model {module, source: "trail"} deploys it; the next run of a
 * task like it succeeds on its own.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { templateCommand } from "../src/harvest/trail.js";
import { TmuxCli } from "../src/tmux/tmux.js";
import { connect } from "./helpers.js";
import { CLI, serverEnv } from "./spawn.js";

const run = promisify(execFile);
process.env.EXPERIENCE_MCP_TRAIN_WORKER = "off";

after(async () => {
  await new TmuxCli({ socket: `xmcp-test-${process.pid}` }).killServer();
});

interface Harvested {
  trails: { demonstrations: Array<{ session: string; run_id: string; tensor: string; input: string; expected: string; status: string }> };
}

/** The reversed file on screen: lines c, b, a in a row. */
const REVERSED = { kind: "regex", pattern: "^c\\nb\\na$" };

test("a command typed after an unsolved run teaches the harness, through harvest and training", { timeout: 120_000 }, async () => {
  const c = await connect();
  try {
    const tasks = [
      ["demo1", 'print the lines of "a.txt" in reverse order'],
      ["demo2", 'print the lines of "b.txt" in reverse'],
    ] as const;
    for (const [session, task] of tasks) {
      await c.ok("tmux_session", { action: "create", session });
      const file = /"([^"]+)"/.exec(task)![1]!;
      writeFileSync(join(c.home, "trails", session, file), "a\nb\nc\n");
      // Offline, the seed rows know no way to reverse a file: the validator never passes.
      const failed = await c.ok<{ success: boolean; stopped: string }>("run_harness", { task, session, llm: "off", max_steps: 3, validator: REVERSED });
      assert.equal(failed.success, false);
      // The run stopped with a command typed but not run. The agent clears the line (C-c in one
      // session, C-u in the other), shows how, then starts typing something else (so the shown
      // command's output is settled in the trail).
      await c.ok("send_keys", { session, keys: [session === "demo1" ? "C-c" : "C-u"] });
      await c.ok("send_text", { session, text: `tac ${file}`, enter: true });
      await c.ok("capture_pane", { session, wait_for: "shell" });
      await c.ok("send_text", { session, text: "echo next" });
    }

    const dry = await c.ok<Harvested>("harvest", { sources: ["trails"], dry_run: true });
    assert.deepEqual(
      dry.trails.demonstrations.map((d) => [d.session, d.tensor, d.input.split("\n").pop(), d.expected, d.status]),
      [
        ["demo1", "coder/command", 'task: print the lines of "{1}" in reverse order', "tac {1}", "new"],
        ["demo2", "coder/command", 'task: print the lines of "{1}" in reverse', "tac {1}", "new"],
      ],
    );
    const trailExamples = () => c.app.services.db.prepare("SELECT input, expected FROM examples WHERE source = 'trail' ORDER BY id").all() as Array<{ input: string; expected: string }>;
    assert.equal(trailExamples().length, 0, "a dry run stores nothing");

    const real = await c.ok<Harvested>("harvest", { sources: ["trails"] });
    assert.deepEqual(real.trails.demonstrations.map((d) => d.status), ["stored", "stored"]);
    assert.deepEqual(trailExamples().map((e) => e.expected), ["tac {1}", "tac {1}"]);
    const again = await c.ok<Harvested>("harvest", { sources: ["trails"] });
    assert.equal(again.trails.demonstrations.length, 0, "each unsolved run is taught once");

    const q = await c.ok<{ requests: Array<{ tensor: string; request_id: string }> }>("train_model", { module: "coder", source: "trail" });
    assert.deepEqual(q.requests.map((r) => r.tensor), ["coder/command"], "only the command tensor has trail examples");
    const { stdout } = await run(process.execPath, [CLI, "train-worker", "--once", "--home", c.home], { env: serverEnv(c.home), encoding: "utf8" });
    assert.deepEqual((JSON.parse(stdout) as { processed: Array<{ status: string }> }).processed.map((p) => p.status), ["deployed"]);

    // A third file, in a new session: solved alone now.
    await c.ok("tmux_session", { action: "create", session: "demo3" });
    writeFileSync(join(c.home, "trails", "demo3", "c.txt"), "a\nb\nc\n");
    const solved = await c.ok<{ success: boolean; trajectory: Array<{ command: string }> }>("run_harness", {
      task: 'print the lines of "c.txt" in reverse order',
      session: "demo3",
      llm: "off",
      max_steps: 3,
      validator: REVERSED,
    });
    assert.equal(solved.success, true, JSON.stringify(solved.trajectory));
    assert.equal(solved.trajectory[0]?.command, "tac c.txt");
  } finally {
    await c.close();
  }
});

test("templateCommand writes the task's parameters back as {n}, whole words only", () => {
  assert.equal(templateCommand("tac notes.txt", ["notes.txt"]), "tac {1}");
  assert.equal(templateCommand("cat notes.txt.bak a", ["notes.txt", "a"]), "cat notes.txt.bak {2}");
  assert.equal(templateCommand("printf '%s\\n' hi > a.txt", ["hi", "a.txt"]), "printf '%s\\n' {1} > {2}");
  assert.equal(templateCommand("cp -- 'my file.txt' b", ["my file.txt", "b"]), "cp -- {1} {2}");
  assert.equal(templateCommand("wc -l<notes.txt", ["notes.txt"]), "wc -l<{1}");
  assert.equal(templateCommand("ls", []), "ls");
});
