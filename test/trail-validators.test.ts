// Trail validators on real trails whose answers were computed by hand (the arithmetic is in the
// comments next to each expected value).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { TrailRepo } from "../src/trail/repo.js";
import { validateTrail } from "../src/trail/validators.js";
import { connect, textOf } from "./helpers.js";

interface Step {
  /** Files to write (relative to the workspace) before the commit; null deletes. */
  files?: Record<string, string | null>;
  /** Commit time (ms) given to the injected clock. */
  at?: number;
  capture?: string;
}

/** Build a trail for `session` under `<home>/trails`, one commit per step. */
async function buildTrail(home: string, session: string, steps: readonly Step[]): Promise<string> {
  const root = join(home, "trails");
  let clock = 0;
  const repo = new TrailRepo(root, { now: () => clock });
  const dir = repo.sessionDir(session);
  for (const [i, step] of steps.entries()) {
    for (const [path, content] of Object.entries(step.files ?? {})) {
      const abs = join(dir, path);
      if (content === null) rmSync(abs, { force: true });
      else {
        mkdirSync(dirname(abs), { recursive: true });
        writeFileSync(abs, content);
      }
    }
    clock = step.at ?? 1_000 * (i + 1);
    await repo.commitStep(session, "text", `step ${i + 1}`, step.capture ?? `screen ${i + 1}`);
  }
  return root;
}

async function withHome<T>(fn: (home: string) => Promise<T>): Promise<T> {
  const home = mkdtempSync(join(tmpdir(), "xmcp-trailv-"));
  try {
    return await fn(home);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

/** Cumulative content: step i holds the first i lines. */
function typed(lines: readonly string[]): Step[] {
  return lines.map((_, i) => ({ files: { "a.py": lines.slice(0, i + 1).join("") } }));
}

test("single-line Python statements appended in order: every commit parses; sizes, diffs, interval by hand", async () => {
  await withHome(async (home) => {
    const steps = typed(["x = 1\n", "y = 2\n", "print(x + y)\n"]);
    steps[0]!.at = 1_000;
    steps[1]!.at = 1_250;
    steps[2]!.at = 1_700;
    steps[2]!.capture = "a very long screen capture ".repeat(200); // captures never count
    const root = await buildTrail(home, "py", steps);
    assert.deepEqual(await validateTrail(root, "py"), {
      commits: 3,
      avg_interval_ms: 350, // (1700 - 1000) / (3 - 1)
      // totals 6, 12, 25 bytes → deltas 6, 13
      max_byte_delta: 13,
      // step 2→3: "--- a/a.py\n" 11 + "+++ b/a.py\n" 11 + "@@ -1,2 +1,3 @@\n" 16
      //           + " x = 1\n" 7 + " y = 2\n" 7 + "+print(x + y)\n" 14 = 66   (step 1→2: 50)
      max_diff_chars: 66,
      syntax_ratio: 1,
    });
  });
});

test("a block opener left without a body and an unclosed bracket lower the ratio exactly", async () => {
  await withHome(async (home) => {
    const root = await buildTrail(home, "blk", [
      { files: { "f.py": "def f():\n" } }, // invalid: expected an indented block
      { files: { "f.py": "def f():\n    return 1\n" } }, // valid
      { files: { "f.py": "def f():\n    return 1\nx = [1,\n" } }, // invalid: '[' never closed
      { files: { "f.py": "def f():\n    return 1\nx = [1,\n     2]\n" } }, // valid
      { files: { "f.py": "def f():\n    return 1\nx = [1,\n     2]\nprint(f(), x)\n" } }, // valid
    ]);
    const m = await validateTrail(root, "blk");
    assert.equal(m.commits, 5);
    assert.equal(m.syntax_ratio, 3 / 5);
  });
});

test("a commit with no source file counts as valid; a non-source file is never parsed", async () => {
  await withHome(async (home) => {
    const root = await buildTrail(home, "mix", [
      {}, // empty workspace: valid
      { files: { "notes.txt": "def f(:\n", "py.md": "if\n" } }, // not source: valid
      { files: { "b.py": "if x\n" } }, // invalid
      { files: { "b.py": "if x:\n    pass\n" } }, // valid
    ]);
    assert.equal((await validateTrail(root, "mix")).syntax_ratio, 3 / 4);
  });
});

test("JavaScript: an open function body and an open object literal are caught", async () => {
  await withHome(async (home) => {
    const lines = ["function f(a, b) {\n", "  return a + b;\n", "}\n", "const o = { a: 1,\n", "  b: 2 };\n"];
    const root = await buildTrail(home, "js", lines.map((_, i) => ({ files: { "app.js": lines.slice(0, i + 1).join("") } })));
    // valid after lines 3 and 5 only → 2 / 5
    assert.equal((await validateTrail(root, "js")).syntax_ratio, 2 / 5);
  });
});

test("TypeScript: syntax errors count, type errors do not; .tsx/.jsx/.mjs parse with their grammar", async () => {
  await withHome(async (home) => {
    const root = await buildTrail(home, "ts", [
      { files: { "m.ts": "interface P { x: number }\n" } }, // valid
      { files: { "m.ts": "interface P { x: number }\nfunction g(p: P): number {\n" } }, // invalid: '}' expected
      { files: { "m.ts": "interface P { x: number }\nfunction g(p: P): number {\n  return p.x;\n}\n" } }, // valid
      { files: { "m.ts": "interface P { x: number }\nfunction g(p: P): number {\n  return p.x;\n}\nconst y = g({ x: 1 } as P\n" } }, // invalid: ')' expected
      // valid syntax, wrong types (a string into a number): still valid
      { files: { "m.ts": 'interface P { x: number }\nfunction g(p: P): number {\n  return p.x;\n}\nconst y = g({ x: 1 } as P);\nconst z: number = "s";\n' } },
      { files: { "v.tsx": "export const e = <div>{1}</div>;\n", "w.jsx": "const w = <b>hi</b>;\n", "u.mjs": "export default 1;\n" } }, // valid
      { files: { "w.jsx": "const w = <b>hi</b;\n" } }, // invalid JSX closing tag
    ]);
    // valid: steps 1, 3, 5, 6 → 4 / 7
    assert.equal((await validateTrail(root, "ts")).syntax_ratio, 4 / 7);
  });
});

test("the ratio needs every file valid at once: a broken JS file spoils a valid Python one", async () => {
  await withHome(async (home) => {
    const root = await buildTrail(home, "both", [
      { files: { "a.py": "x = 1\n" } }, // valid
      { files: { "b.js": "let y = ;\n" } }, // a.py valid, b.js invalid → invalid
      { files: { "b.js": "let y = 2;\n" } }, // valid
    ]);
    assert.equal((await validateTrail(root, "both")).syntax_ratio, 2 / 3);
  });
});

test("byte delta and diff size with a deleted file, known answers; other sessions do not interfere", async () => {
  await withHome(async (home) => {
    const big = `${"x".repeat(99)}\n`; // 100 bytes
    const root = await buildTrail(home, "del", [
      { files: { "big.txt": big } },
      { files: { "s.py": "print(12)\n" } }, // 10 bytes
      { files: { "big.txt": null } },
    ]);
    // Another session, with much bigger changes, in the same repository.
    await buildTrail(home, "noise", [{ files: { "n.txt": "n".repeat(5000) } }, { files: { "n.txt": "" } }]);
    assert.deepEqual(await validateTrail(root, "del"), {
      commits: 3,
      avg_interval_ms: 1000, // injected 1000, 2000, 3000
      // totals 100, 110, 10 → deltas 10, 100
      max_byte_delta: 100,
      // deletion: "--- a/big.txt\n" 14 + "+++ /dev/null\n" 14 + "@@ -1 +0,0 @@\n" 14 + "-" + 99 x + "\n" 101 = 143
      // (addition of s.py: "--- /dev/null\n" 14 + "+++ b/s.py\n" 11 + "@@ -0,0 +1 @@\n" 14 + "+print(12)\n" 11 = 50)
      max_diff_chars: 143,
      syntax_ratio: 1,
    });
    const noise = await validateTrail(root, "noise");
    assert.equal(noise.commits, 2);
    assert.equal(noise.max_byte_delta, 5000);
  });
});

test("diff size counts characters, not bytes; session filter is an exact prefix", async () => {
  await withHome(async (home) => {
    const root = await buildTrail(home, "u", [{ files: { "t.txt": "" } }, { files: { "t.txt": "日本\n" } }]);
    await buildTrail(home, "u2", [{ files: { "t.txt": "zzz\n" } }]);
    const m = await validateTrail(root, "u");
    assert.equal(m.commits, 2); // "u2: …" commits are not "u: …"
    // "--- a/t.txt\n" 12 + "+++ b/t.txt\n" 12 + "@@ -0,0 +1 @@\n" 14 + "+日本\n" 4 = 42 (the file is 7 bytes)
    assert.equal(m.max_diff_chars, 42);
    assert.equal(m.max_byte_delta, 7);
  });
});

test("fewer than two commits: interval is null, deltas 0; unknown session: zero commits", async () => {
  await withHome(async (home) => {
    const root = await buildTrail(home, "one", [{ files: { "a.py": "def f(:\n" } }]);
    assert.deepEqual(await validateTrail(root, "one"), { commits: 1, avg_interval_ms: null, max_byte_delta: 0, max_diff_chars: 0, syntax_ratio: 0 });
    assert.equal((await validateTrail(root, "nobody")).commits, 0);
    assert.equal((await validateTrail(join(home, "no-such-dir"), "one")).commits, 0);
    await assert.rejects(validateTrail(root, "../etc"), /Invalid session name/);
  });
});

test("validate_trail tool: metrics for a recorded session, an actionable error for an unknown one", async () => {
  await withHome(async (home) => {
    await buildTrail(home, "tool", typed(["a = 1\n", "b = 2\n"]));
    const app = await connect({ home });
    try {
      const m = await app.ok<Record<string, unknown>>("validate_trail", { session: "tool" });
      assert.deepEqual(m, { commits: 2, avg_interval_ms: 1000, max_byte_delta: 6, max_diff_chars: 50, syntax_ratio: 1 });
      const missing = await app.call("validate_trail", { session: "ghost" });
      assert.equal(missing.isError, true);
      assert.match(textOf(missing), /No trail commits for session "ghost".*tmux_session/);
      const bad = await app.call("validate_trail", { session: "no spaces" });
      assert.equal(bad.isError, true);
    } finally {
      await app.close();
    }
  });
});
