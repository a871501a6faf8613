// The house stays as drawn: scripts/check-layers.mjs writes the floors of src/ down once, and this
// test fails on any import that runs up or sideways a floor, any folder without a floor, and any
// circle of folders or of the files in one folder.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { test } from "node:test";

type Check = (src?: string) => string[];
const SCRIPT = new URL("../../scripts/check-layers.mjs", import.meta.url).href;
const load = async (): Promise<Check> => ((await import(SCRIPT)) as { check: Check }).check;

test("src/ imports only downward and has no circle", async () => {
  const check = await load();
  assert.deepEqual(check(), []);
});

test("the check sees an upward import, a sideways one, a folder without a floor, and circles of folders and of files", async () => {
  const check = await load();
  const src = mkdtempSync(join(tmpdir(), "layers-"));
  try {
    const put = (path: string, text: string): void => {
      mkdirSync(dirname(join(src, path)), { recursive: true });
      writeFileSync(join(src, path), text);
    };
    put("storage/db.ts", 'import { tool } from "../tools/tool.js";\nexport const db = tool;\n');
    put("tools/tool.ts", 'import { db } from "../storage/db.js";\nexport const tool = db;\n');
    put("train/run.ts", 'import { loop } from "../harness/loop.js";\nexport const run = loop;\n');
    put("harness/loop.ts", "export const loop = 1;\n");
    put("attic/old.ts", 'export { loop } from "../harness/loop.js";\n');
    put("registry/classify.ts", 'import type { Line } from "./normalize.js";\nexport type Rule = (l: Line) => string;\n');
    put("registry/normalize.ts", 'import type { Rule } from "./classify.js";\nexport interface Line { rule?: Rule }\n');
    const problems = check(src);
    assert.ok(problems.includes("storage/db.ts imports tools (a floor above)"), problems.join("\n"));
    assert.ok(problems.includes("train/run.ts imports harness (same floor)"), problems.join("\n"));
    assert.ok(problems.includes("attic/old.ts: attic has no floor in scripts/check-layers.mjs"), problems.join("\n"));
    assert.ok(problems.some((p) => /^cycle: (storage → tools → storage|tools → storage → tools)$/.test(p)), problems.join("\n"));
    assert.ok(problems.some((p) => /^file cycle: registry\/(classify|normalize)\.ts → registry\/(normalize|classify)\.ts → registry\/(classify|normalize)\.ts$/.test(p)), problems.join("\n"));
    assert.ok(!problems.some((p) => p.startsWith("tools/tool.ts")), "a downward import is not a problem");
  } finally {
    rmSync(src, { recursive: true, force: true });
  }
});
