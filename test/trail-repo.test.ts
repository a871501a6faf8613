// The trail repository: one git commit per step, its format, the workspace it records, and
// serialization across async callers and across processes (none lost, seq contiguous, fsck clean).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { capturePath, commitSubject, TrailRepo } from "../src/trail/repo.js";
import { hashObject, parseTree, serializeTree } from "../src/trail/git.js";
import { validateTrail } from "../src/trail/validators.js";

function tempRoot(): { root: string; cleanup: () => void } {
  const home = mkdtempSync(join(tmpdir(), "xmcp-trail-"));
  return { root: join(home, "trails"), cleanup: () => rmSync(home, { recursive: true, force: true }) };
}

/** The environment of git as a person would run it, but blind to this machine's git config. */
function plainGitEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("GIT_")) env[k] = v;
  return { ...env, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null" };
}

/** git on the trail as a person would run it: its git directory named, `<root>/.trail.git` unless told. */
function gitOut(root: string, args: string[], gitDir = join(root, ".trail.git"), input?: string): string {
  return execFileSync("git", ["-C", root, `--git-dir=${gitDir}`, `--work-tree=${root}`, ...args], { env: plainGitEnv(), encoding: "utf8", input });
}

function assertFsckClean(root: string, gitDir?: string): void {
  // --strict: tree order, modes, header formats; throws (non-zero exit) on any error.
  const out = gitOut(root, ["fsck", "--strict", "--no-dangling", "--no-progress"], gitDir);
  assert.equal(out.trim(), "");
}

/** Subjects of every commit on main, oldest first. */
function subjects(root: string, gitDir?: string): string[] {
  return gitOut(root, ["log", "--reverse", "--format=%s", "main"], gitDir).split("\n").filter(Boolean);
}

function seqsOf(subjectList: readonly string[], session: string): number[] {
  return subjectList.filter((s) => s.startsWith(`${session}: `)).map((s) => Number(s.split(" ")[1]));
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

test("commitStep: subject, timestamp trailer, dates, capture path and the workspace at that moment", async () => {
  const { root, cleanup } = tempRoot();
  try {
    let clock = 1_700_000_000_123;
    const repo = new TrailRepo(root, { now: () => clock });
    await repo.ensure();
    const dir = repo.sessionDir("s1");
    writeFileSync(join(dir, "a.py"), "x = 1\n");
    const c1 = await repo.commitStep("s1", "text", 'x = "1";\n', "$ x = 1\n");
    clock += 2_500;
    const c2 = await repo.commitStep("s1", "key", "Enter", "$ \n");
    assert.deepEqual([c1.seq, c2.seq], [1, 2]);
    assert.match(c1.sha, /^[0-9a-f]{40}$/);
    assert.equal(gitOut(root, ["rev-parse", "main"]).trim(), c2.sha);

    const msg1 = gitOut(root, ["log", "-1", "--format=%s%n%b%n%at %ct %an <%ae>", c1.sha]);
    assert.equal(msg1, 's1: 1 text "x = \\"1\\";\\n"\nExperience-Timestamp-Ms: 1700000000123\n\n1700000000 1700000000 experience-mcp <experience-mcp@localhost>\n');
    assert.equal(commitSubject("s1", 2, "key", "Enter"), 's1: 2 key "Enter"');
    assert.equal(gitOut(root, ["log", "-1", "--format=%s|%(trailers:key=Experience-Timestamp-Ms,valueonly)", c2.sha]).trim(), 's1: 2 key "Enter"|1700000002623');
    assert.equal(gitOut(root, ["log", "-1", "--format=%P", c2.sha]).trim(), c1.sha);

    assert.equal(capturePath("s1", 2), ".captures/s1/0002.txt");
    assert.equal(gitOut(root, ["show", `${c1.sha}:.captures/s1/0001.txt`]), "$ x = 1\n");
    assert.equal(gitOut(root, ["show", `${c2.sha}:.captures/s1/0002.txt`]), "$ \n");
    assert.equal(gitOut(root, ["show", `${c2.sha}:s1/a.py`]), "x = 1\n");
    assert.equal(await repo.countCommits("s1"), 2);
    assert.equal(await repo.countCommits("other"), 0);
    assertFsckClean(root);
  } finally {
    cleanup();
  }
});

test("commitStep records nested dirs, modes, symlinks and deletions; skips .git and node_modules", async () => {
  const { root, cleanup } = tempRoot();
  try {
    const repo = new TrailRepo(root);
    const dir = repo.sessionDir("ws");
    mkdirSync(join(dir, "src", "deep"), { recursive: true });
    writeFileSync(join(dir, "src", "deep", "m.ts"), "export const x = 1;\n");
    writeFileSync(join(dir, "run.sh"), "#!/bin/sh\necho hi\n");
    chmodSync(join(dir, "run.sh"), 0o755);
    symlinkSync("run.sh", join(dir, "link"));
    mkdirSync(join(dir, ".git"));
    writeFileSync(join(dir, ".git", "HEAD"), "ref: refs/heads/main\n");
    mkdirSync(join(dir, "node_modules", "pkg"), { recursive: true });
    writeFileSync(join(dir, "node_modules", "pkg", "index.js"), "module.exports = 1;\n");
    mkdirSync(join(dir, "empty"));
    const c1 = await repo.commitStep("ws", "text", "ls", "screen");
    const tree = gitOut(root, ["ls-tree", "-r", c1.sha, "--", "ws"]).trim().split("\n");
    assert.deepEqual(
      tree.map((l) => l.replace(/ [0-9a-f]{40}\t/, " ")),
      ["120000 blob ws/link", "100755 blob ws/run.sh", "100644 blob ws/src/deep/m.ts"],
    );
    assert.equal(gitOut(root, ["show", `${c1.sha}:ws/link`]), "run.sh");

    rmSync(join(dir, "run.sh"));
    writeFileSync(join(dir, "src", "deep", "m.ts"), "export const x = 2;\n");
    const c2 = await repo.commitStep("ws", "key", "Enter", "screen 2");
    assert.deepEqual(gitOut(root, ["diff", "--name-status", c1.sha, c2.sha, "--", "ws"]).trim().split("\n"), ["D\tws/run.sh", "M\tws/src/deep/m.ts"]);

    // Everything removed: the workspace entry leaves the tree, the captures stay.
    rmSync(dir, { recursive: true, force: true });
    const c3 = await repo.commitStep("ws", "key", "Enter", "screen 3");
    assert.equal(gitOut(root, ["ls-tree", "--name-only", c3.sha]).trim(), ".captures");
    assert.equal(gitOut(root, ["ls-tree", "--name-only", `${c3.sha}:.captures/ws`]).trim(), "0001.txt\n0002.txt\n0003.txt");
    assertFsckClean(root);
  } finally {
    cleanup();
  }
});

test("a file rewritten within the same second with the same size is still recorded (no stale cache)", async () => {
  const { root, cleanup } = tempRoot();
  try {
    const repo = new TrailRepo(root);
    const dir = repo.sessionDir("racy");
    const shas: string[] = [];
    for (const text of ["aaaa\n", "bbbb\n", "cccc\n"]) {
      writeFileSync(join(dir, "f.txt"), text);
      shas.push((await repo.commitStep("racy", "text", text, text)).sha);
    }
    assert.deepEqual(shas.map((s) => gitOut(root, ["show", `${s}:racy/f.txt`])), ["aaaa\n", "bbbb\n", "cccc\n"]);
  } finally {
    cleanup();
  }
});

test("commitStep rejects bad input and surfaces repository errors instead of dropping the step", async () => {
  const { root, cleanup } = tempRoot();
  try {
    const repo = new TrailRepo(root);
    await assert.rejects(repo.commitStep("bad name", "text", "x", "y"), /Invalid session name/);
    await assert.rejects(repo.commitStep("ok", "paste" as "text", "x", "y"), /Invalid step kind/);
    assert.throws(() => repo.sessionDir("../escape"), /Invalid session name/);
    await repo.commitStep("ok", "text", "x", "y");
    writeFileSync(join(root, ".trail.git", "refs", "heads", "main"), "garbage\n");
    await assert.rejects(repo.commitStep("ok", "text", "x", "y"), /does not hold an object id/);
  } finally {
    cleanup();
  }
});

test("ensure is idempotent and leaves hooks and signing off, whatever the user's config", async () => {
  const { root, cleanup } = tempRoot();
  try {
    const a = new TrailRepo(root);
    const b = new TrailRepo(root);
    await Promise.all([a.ensure(), b.ensure(), a.ensure()]);
    await new TrailRepo(root).ensure();
    assert.equal(gitOut(root, ["config", "core.hooksPath"]).trim(), "/dev/null");
    assert.equal(gitOut(root, ["config", "commit.gpgSign"]).trim(), "false");
    assert.equal(gitOut(root, ["symbolic-ref", "HEAD"]).trim(), "refs/heads/main");
  } finally {
    cleanup();
  }
});

test("the git directory is trails/.trail.git; a trails/.git that is not a trail (a user's git init there) is left alone", async () => {
  const { root, cleanup } = tempRoot();
  try {
    mkdirSync(root, { recursive: true });
    execFileSync("git", ["init", "-q", root], { env: plainGitEnv() });
    const repo = new TrailRepo(root);
    assert.equal(repo.gitDir, join(root, ".trail.git"));
    const c = await repo.commitStep("s", "text", "ls", "screen");
    assert.equal(gitOut(root, ["rev-parse", "main"]).trim(), c.sha);
    assert.equal(execFileSync("git", ["-C", root, "for-each-ref"], { env: plainGitEnv(), encoding: "utf8" }), "", "the user's repository got nothing");
    assertFsckClean(root);
  } finally {
    cleanup();
  }
});

test("3 sessions typing at once in one process (two TrailRepo objects): every step committed, seq contiguous", async () => {
  const { root, cleanup } = tempRoot();
  try {
    const repos = [new TrailRepo(root), new TrailRepo(root)];
    const perSession = 30;
    const results = await Promise.all(
      ["a", "b", "c"].map(async (session, k) => {
        const repo = repos[k % 2]!;
        const dir = repo.sessionDir(session);
        const out: Array<{ sha: string; seq: number }> = [];
        for (let i = 1; i <= perSession; i++) {
          writeFileSync(join(dir, "typed.txt"), `${session} ${i}\n`);
          out.push(await repo.commitStep(session, "text", `${i}`, `screen ${session} ${i}`));
        }
        return out;
      }),
    );
    const all = subjects(root);
    assert.equal(all.length, 3 * perSession);
    for (const [k, session] of ["a", "b", "c"].entries()) {
      assert.deepEqual(seqsOf(all, session), range(perSession));
      assert.deepEqual(results[k]!.map((r) => r.seq), range(perSession));
      const last = results[k]!.at(-1)!;
      assert.equal(gitOut(root, ["show", `${last.sha}:${session}/typed.txt`]), `${session} ${perSession}\n`);
    }
    const onMain = new Set(gitOut(root, ["rev-list", "main"]).trim().split("\n"));
    for (const r of results.flat()) assert.ok(onMain.has(r.sha), `commit ${r.sha} is on main`);
    assertFsckClean(root);
    // Validators over interleaved history see each session alone: "a 29\n" → "a 30\n" is the largest
    // diff: "--- a/typed.txt\n" 16 + "+++ b/typed.txt\n" 16 + "@@ -1 +1 @@\n" 12 + "-a 29\n" 6 + "+a 30\n" 6 = 56.
    const m = await validateTrail(root, "a");
    assert.deepEqual({ ...m, avg_interval_ms: null }, { commits: perSession, avg_interval_ms: null, max_byte_delta: 1, max_diff_chars: 56, syntax_ratio: 1 });
  } finally {
    cleanup();
  }
});

const TRAIL_MODULE = fileURLToPath(new URL("../src/trail/repo.js", import.meta.url));

// A child process that creates the repo if needed (racing its siblings) and commits `count` steps.
const CHILD = `
const [root, session, count, tag] = process.argv.slice(1);
const { TrailRepo } = await import(process.env.TRAIL_MODULE);
const { writeFileSync } = await import("node:fs");
const { join } = await import("node:path");
const repo = new TrailRepo(root);
await repo.ensure();
const dir = repo.sessionDir(session);
for (let i = 1; i <= Number(count); i++) {
  writeFileSync(join(dir, tag + ".txt"), tag + " " + i + "\\n");
  const c = await repo.commitStep(session, "text", tag + ":" + i, "capture " + tag + " " + i);
  process.stdout.write(JSON.stringify(c) + "\\n");
}
`;

function runChild(root: string, session: string, count: number, tag: string, home: string): Promise<Array<{ sha: string; seq: number }>> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["--input-type=module", "-e", CHILD, root, session, String(count), tag],
      // No usable git config (empty HOME) and a hostile GIT_DIR: the trail must not care.
      { env: { ...process.env, TRAIL_MODULE, HOME: home, XDG_CONFIG_HOME: home, GIT_DIR: "/nonexistent", GIT_INDEX_FILE: "/nonexistent/index" }, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`child ${tag} failed: ${err.message}\n${stderr}`));
        resolve(stdout.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as { sha: string; seq: number }));
      },
    );
  });
}

test("3 server processes committing at once, 2 of them into the same session: none lost, seq contiguous, fsck clean", async () => {
  const { root, cleanup } = tempRoot();
  const emptyHome = mkdtempSync(join(tmpdir(), "xmcp-nohome-"));
  try {
    const n = 25;
    // p0, p1, p2 each in their own session; q1 and q2 share session "shared". All start on a missing repo.
    const runs = await Promise.all([
      runChild(root, "p0", n, "p0", emptyHome),
      runChild(root, "p1", n, "p1", emptyHome),
      runChild(root, "p2", n, "p2", emptyHome),
      runChild(root, "shared", n, "q1", emptyHome),
      runChild(root, "shared", n, "q2", emptyHome),
    ]);
    const all = subjects(root);
    assert.equal(all.length, 5 * n);
    for (const s of ["p0", "p1", "p2"]) assert.deepEqual(seqsOf(all, s), range(n));
    assert.deepEqual(seqsOf(all, "shared"), range(2 * n));
    // Each process saw its own seqs increase, and the two sharers together got 1..2n exactly once.
    const sharedSeqs = [...runs[3]!, ...runs[4]!].map((c) => c.seq).sort((x, y) => x - y);
    assert.deepEqual(sharedSeqs, range(2 * n));
    const onMain = new Set(gitOut(root, ["rev-list", "main"]).trim().split("\n"));
    for (const c of runs.flat()) assert.ok(onMain.has(c.sha), `reported commit ${c.sha} is on main`);
    // A commit's capture is the one its process wrote for that step.
    const first = runs[0]![0]!;
    assert.equal(gitOut(root, ["show", `${first.sha}:.captures/p0/0001.txt`]), "capture p0 1");
    assertFsckClean(root);
    assert.equal(await new TrailRepo(root).countCommits("shared"), 2 * n);
  } finally {
    cleanup();
    rmSync(emptyHome, { recursive: true, force: true });
  }
});

test("tree objects hash exactly as git's own mktree, including its directory sort rule", async () => {
  const { root, cleanup } = tempRoot();
  try {
    await new TrailRepo(root).ensure();
    const blob = gitOut(root, ["hash-object", "-w", "--stdin"]).trim(); // the empty blob
    const sub = gitOut(root, ["mktree"]).trim(); // the empty tree, as a subtree entry
    const names: Array<[string, string]> = [
      ["9999.txt", "100644"], ["10000.txt", "100644"], ["a", "40000"], ["a.b", "100644"], ["a-b", "100755"],
      ["a0", "120000"], ["Z", "100644"], ["é.py", "100644"], ["x y", "40000"], ["x", "100644"],
    ];
    const entries = new Map(names.map(([name, mode]) => [name, { mode, oid: mode === "40000" ? sub : blob }]));
    const ours = hashObject("tree", serializeTree(entries)).oid;
    const input = names.map(([name, mode]) => `${mode.padStart(6, "0")} ${mode === "40000" ? "tree" : "blob"} ${mode === "40000" ? sub : blob}\t${name}\n`).join("");
    const theirs = gitOut(root, ["mktree", "--missing"], undefined, input).trim();
    assert.equal(ours, theirs);
    assert.deepEqual(parseTree(serializeTree(entries)), entries);
  } finally {
    cleanup();
  }
});

test("after git gc (objects packed, ref in packed-refs) another process and this one keep committing", async () => {
  const { root, cleanup } = tempRoot();
  const emptyHome = mkdtempSync(join(tmpdir(), "xmcp-nohome-"));
  try {
    const repo = new TrailRepo(root);
    const dir = repo.sessionDir("gc");
    for (let i = 1; i <= 3; i++) {
      writeFileSync(join(dir, "f.txt"), `${i}\n`);
      await repo.commitStep("gc", "text", `${i}`, `screen ${i}`);
    }
    gitOut(root, ["gc", "--quiet", "--prune=now"]);
    assert.equal(gitOut(root, ["count-objects"]).trim(), "0 objects, 0 kilobytes");
    const child = await runChild(root, "gc", 2, "child", emptyHome); // reads the packed tip with git cat-file
    assert.deepEqual(child.map((c) => c.seq), [4, 5]);
    const mine = await repo.commitStep("gc", "key", "Enter", "screen 6"); // follows the child's loose commits
    assert.equal(mine.seq, 6);
    assert.deepEqual(seqsOf(subjects(root), "gc"), range(6));
    assert.equal(gitOut(root, ["show", `${mine.sha}:gc/child.txt`]), "child 2\n");
    assertFsckClean(root);
  } finally {
    cleanup();
    rmSync(emptyHome, { recursive: true, force: true });
  }
});
