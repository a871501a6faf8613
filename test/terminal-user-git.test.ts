// A session's directory is a plain directory to whoever types in it: the trail's git directory lies
// outside it (trails/.trail.git), so git typed there finds no repository, `git init` makes the
// user's own, and nothing the user does with git reaches the trail. Data directories of older
// versions (the trail in trails/.git) are still read and appended to. Real tmux, real git.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, realpathSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { connect, type Connected } from "./helpers.js";
import { checkTrail } from "../src/doctor.js";
import { TmuxCli } from "../src/tmux/tmux.js";
import { TrailRepo } from "../src/trail/repo.js";
import { validateTrail } from "../src/trail/validators.js";

const SOCKET = `xmcp-usergit-${process.pid}`;
const CLI = fileURLToPath(new URL("../src/cli.js", import.meta.url));

after(async () => {
  await new TmuxCli({ socket: SOCKET }).killServer();
});

/** git as the test reads a repository: no GIT_* from outside, no machine config. */
function gitIn(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("GIT_")) env[k] = v;
  const r = spawnSync("git", args, { env: { ...env, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null" }, encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function trailGit(gitDir: string, args: string[]): string {
  const r = gitIn([`--git-dir=${gitDir}`, ...args]);
  assert.equal(r.status, 0, `git ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

let marks = 0;

/**
 * Type `line` in the session and wait until it returned: its exit status and what it printed
 * (the screen between the typed line and the end mark). The mark is computed by the shell, so
 * the typed line itself never matches it.
 */
async function run(c: Connected, session: string, line: string): Promise<{ rc: number; out: string }> {
  const id = 1000 + ++marks;
  const typed = `${line}; echo "rc=$? END-$((${id}+1))"`;
  await c.ok("send_text", { session, text: typed, enter: true });
  const end = `END-${id + 1}`;
  const cap = await c.ok<{ text: string; wait: { met: boolean } }>("capture_pane", { session, wait_for: "text", text: end, timeout_ms: 30_000, lines: 500 });
  assert.ok(cap.wait.met, `${line}: no end mark; screen:\n${cap.text}`);
  const after = cap.text.slice(cap.text.lastIndexOf(typed) + typed.length);
  const m = new RegExp(`rc=(\\d+) ${end}`).exec(after);
  assert.ok(m, `${line}: ${after}`);
  return { rc: Number(m[1]), out: after.slice(0, m.index) };
}

/** Subjects of the session's trail commits, oldest first. */
function trailSubjects(gitDir: string, session: string): string[] {
  return trailGit(gitDir, ["log", "--reverse", "--format=%s", "main"])
    .split("\n")
    .filter((s) => s.startsWith(`${session}: `));
}

test("git typed in a session finds no repository; git init makes the user's own; reset --hard and clean -fdx leave the trail whole", async () => {
  const c = await connect({ tmuxSocket: SOCKET, toolsets: ["terminal"] });
  const s = "mine";
  try {
    const created = await c.ok<{ cwd: string; trail: string }>("tmux_session", { action: "create", session: s, width: 220, height: 50 });
    const dir = join(c.home, "trails", s);
    const gitDir = join(c.home, "trails", ".trail.git");
    assert.equal(created.cwd, dir, "the shell starts in the session's directory");
    assert.ok(existsSync(join(gitDir, "HEAD")), "the trail's git directory");
    assert.ok(!existsSync(join(c.home, "trails", ".git")) && !existsSync(join(dir, ".git")), "no .git above or in the session's directory");

    // Only this machine's directories above the data directory are kept out of the search, so
    // the answer depends on the data directory alone, wherever the temp dir is.
    assert.equal((await run(c, s, `export GIT_CEILING_DIRECTORIES=${realpathSync(dirname(c.home))}`)).rc, 0);
    const before = await run(c, s, "git rev-parse --git-dir");
    assert.equal(before.rc, 128, before.out);
    assert.match(before.out, /not a git repository/);
    assert.equal((await run(c, s, "test -d .git")).rc, 1, "no .git before any git command");
    assert.equal((await run(c, s, "git status --short")).rc, 128, "git status finds nothing to report on");

    const init = await run(c, s, "git init");
    assert.equal(init.rc, 0, init.out);
    assert.match(init.out, /Initialized empty Git repository in .*\/trails\/mine\/\.git\//);
    assert.doesNotMatch(init.out, /Reinitialized/);
    const id = "-c user.name=User -c user.email=user@example.com -c commit.gpgSign=false";
    const commit = await run(c, s, `printf 'mine\\n' > mine.txt && git add mine.txt && git ${id} commit -q -m 'user commit'`);
    assert.equal(commit.rc, 0, commit.out);

    // The user's repository holds exactly the user's commit.
    const userLog = gitIn(["-C", dir, "log", "--all", "--format=%H %s"]);
    assert.equal(userLog.status, 0, userLog.stderr);
    const userCommits = userLog.stdout.trim().split("\n");
    assert.equal(userCommits.length, 1, userLog.stdout);
    const [userSha, ...subject] = userCommits[0]!.split(" ");
    assert.equal(subject.join(" "), "user commit");
    assert.equal(gitIn(["-C", dir, "rev-parse", "--absolute-git-dir"]).stdout.trim(), realpathSync(join(dir, ".git")));

    // The trail kept its per-keystroke commits, with what was typed, and none of the user's objects.
    const typedSoFar = trailSubjects(gitDir, s);
    assert.ok(typedSoFar.length >= 20, `per-chunk commits: ${typedSoFar.length}`);
    assert.deepEqual(typedSoFar.map((l) => Number(l.split(" ")[1])), Array.from({ length: typedSoFar.length }, (_, i) => i + 1), "seq contiguous");
    assert.ok(typedSoFar.some((l) => l.includes('text "git init')), "the typed git init is on the trail");
    assert.notEqual(gitIn([`--git-dir=${gitDir}`, "cat-file", "-e", userSha!]).status, 0, "the user's commit is not in the trail");

    // Destructive git in the session: the user's repository does what it says, the trail is untouched.
    const tipBefore = trailGit(gitDir, ["rev-parse", "main"]).trim();
    const wipe = await run(c, s, "printf 'changed\\n' > mine.txt && printf 'junk\\n' > junk.txt && git reset -q --hard && git clean -fdxq");
    assert.equal(wipe.rc, 0, wipe.out);
    const restored = await run(c, s, "cat mine.txt && test ! -e junk.txt");
    assert.equal(restored.rc, 0, restored.out);
    assert.match(restored.out, /^mine$/m, "reset --hard restored the user's file");
    // A step records the workspace as it is when the step is typed: this line's steps came after
    // the commit and the wipe had finished.
    const tree = trailGit(gitDir, ["ls-tree", "-r", "--name-only", "main", "--", s]).trim().split("\n");
    assert.deepEqual(tree, [`${s}/mine.txt`], "the workspace file is recorded, the user's .git is not");
    assert.equal(gitIn(["--git-dir", join(dir, ".git"), "rev-list", "--count", "--all"]).stdout.trim(), "1");
    const typedAfter = trailSubjects(gitDir, s);
    assert.ok(typedAfter.length > typedSoFar.length);
    assert.deepEqual(typedAfter.slice(0, typedSoFar.length), typedSoFar, "history kept");
    assert.equal(gitIn([`--git-dir=${gitDir}`, "merge-base", "--is-ancestor", tipBefore, "main"]).status, 0, "main only grew");
    trailGit(gitDir, ["fsck", "--strict", "--no-progress"]);

    // Validators, the session list and the recording read the same trail.
    const metrics = await c.ok<{ commits: number }>("validate_trail", { session: s });
    assert.equal(metrics.commits, typedAfter.length);
    const listed = await c.ok<{ sessions: Array<{ session: string; commits: number }> }>("tmux_session", { action: "list" });
    assert.equal(listed.sessions.find((x) => x.session === s)?.commits, typedAfter.length);
    const replay = await c.ok<{ steps: number }>("replay_session", { session: s });
    assert.equal(replay.steps, typedAfter.length);
    const cast = execFileSync(process.execPath, [CLI, "trail", "cast", s, "--home", c.home], { encoding: "utf8" });
    assert.match(cast, /Initialized empty Git repository/);
  } finally {
    await c.close();
  }
});

test("a data directory of an older version (trail in trails/.git) is read and appended to where it is", async () => {
  // The old layout, byte for byte: the same repository, kept in trails/.git; built under another
  // path and moved, so nothing of this process's state knows it.
  const scratch = mkdtempSync(join(tmpdir(), "xmcp-oldtrail-"));
  const home = join(scratch, "home");
  try {
    const builtAt = join(scratch, "built", "trails");
    const old = new TrailRepo(builtAt);
    writeFileSync(join(old.sessionDir("legacy"), "notes.txt"), "from before\n");
    for (const step of ["echo before", "Enter"]) await old.commitStep("legacy", step === "Enter" ? "key" : "text", step, `$ ${step}\n`);
    renameSync(join(builtAt, ".trail.git"), join(builtAt, ".git"));
    renameSync(join(scratch, "built"), home);
    const oldGitDir = join(home, "trails", ".git");

    const c = await connect({ home, tmuxSocket: SOCKET, toolsets: ["terminal"] });
    try {
      assert.equal((await c.ok<{ commits: number }>("validate_trail", { session: "legacy" })).commits, 2, "read where it is");
      await c.ok("tmux_session", { action: "create", session: "legacy" });
      await c.ok("tmux_session", { action: "create", session: "fresh" });
      const sent = await c.ok<{ commits: string[] }>("send_text", { session: "legacy", text: "echo appended", enter: true });
      await c.ok("send_text", { session: "fresh", text: "echo new", enter: true });
      await c.app.services.terminal.waitForText("legacy", /^appended$/m, { timeoutMs: 20_000 });

      assert.ok(!existsSync(join(home, "trails", ".trail.git")), "no second trail is started beside the old one");
      const subjects = trailSubjects(oldGitDir, "legacy");
      assert.equal(subjects.length, 2 + sent.commits.length);
      assert.deepEqual(subjects.map((l) => Number(l.split(" ")[1])), Array.from({ length: subjects.length }, (_, i) => i + 1), "seq continues");
      assert.equal(trailSubjects(oldGitDir, "fresh").length, 2, "a new session of an old data directory joins the old trail");
      assert.equal(trailGit(oldGitDir, ["show", "main:legacy/notes.txt"]), "from before\n");
      assert.equal((await c.ok<{ commits: number }>("validate_trail", { session: "legacy" })).commits, subjects.length);
      trailGit(oldGitDir, ["fsck", "--strict", "--no-progress"]);
    } finally {
      await c.close();
    }
    // doctor says how to move it; moving it by hand gives the new layout, history and all.
    const [warned] = checkTrail(home);
    assert.equal(warned?.status, "warn");
    assert.equal(warned?.fix, `stop the servers using ${home}, then mv ${oldGitDir} ${join(home, "trails", ".trail.git")}`);
    renameSync(oldGitDir, join(home, "trails", ".trail.git"));
    assert.equal(checkTrail(home)[0]?.status, "ok");
    const moved = new TrailRepo(join(home, "trails"));
    assert.equal(moved.gitDir, join(home, "trails", ".trail.git"));
    const seqs = await moved.countCommits("legacy");
    assert.equal((await moved.commitStep("legacy", "key", "Enter", "$\n")).seq, seqs + 1);
    assert.equal((await validateTrail(join(home, "trails"), "legacy")).commits, seqs + 1);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
});
