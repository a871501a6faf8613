// Small modules stay the rule (issue 14): a file of src/ over MAX_LINES lines must say in its opening
// comment why it is one file ("One file: ..."), or be split. The opening comment is the first block
// comment or run of line comments in the file, wherever the imports put it.
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "node:test";

const MAX_LINES = 300;
const SRC = fileURLToPath(new URL("../../src", import.meta.url));
const FIRST_COMMENT = /\/\*[\s\S]*?\*\/|(?:^[ \t]*\/\/.*(?:\n|$))+/m;
const REASON = /One file:/;

function* sources(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* sources(p);
    else if (p.endsWith(".ts")) yield p;
  }
}

/** The files of `dir` over MAX_LINES lines whose opening comment gives no reason, with their length. */
function unexplained(dir: string): string[] {
  const out: string[] = [];
  for (const file of sources(dir)) {
    const text = readFileSync(file, "utf8");
    const lines = text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
    if (lines <= MAX_LINES) continue;
    if (!REASON.test(FIRST_COMMENT.exec(text)?.[0] ?? "")) out.push(`${relative(dir, file)} (${lines} lines)`);
  }
  return out;
}

test(`every file of src/ over ${MAX_LINES} lines says why it is one file, or is split`, () => {
  assert.deepEqual(unexplained(SRC), [], 'split these, or say why each is one file in its opening comment ("One file: ...")');
});

test("the check sees a long file without a reason, and one whose reason is not in its opening comment", () => {
  const dir = mkdtempSync(join(tmpdir(), "long-files-"));
  try {
    const body = "export const x = 1;\n".repeat(MAX_LINES);
    writeFileSync(join(dir, "bare.ts"), `/** A module. */\n${body}`);
    writeFileSync(join(dir, "late.ts"), `/** A module. */\n${body}// One file: too late\n`);
    writeFileSync(join(dir, "ok.ts"), `import { y } from "./y.js";\n\n/**\n * A module.\n *\n * One file: a reason.\n */\n${body}`);
    writeFileSync(join(dir, "short.ts"), "export const x = 1;\n");
    writeFileSync(join(dir, "exact.ts"), "export const x = 1;\n".repeat(MAX_LINES));
    assert.deepEqual(unexplained(dir).sort(), [`bare.ts (${MAX_LINES + 1} lines)`, `late.ts (${MAX_LINES + 2} lines)`]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
