import { test } from "node:test";
import assert from "node:assert/strict";
import { connect, textOf } from "./helpers.js";

const TSC_1 = "src/importer.ts(1,19): error TS2307: Cannot find module 'csv-parse' or its corresponding type declarations.\n";
const TSC_2 = "lib/db/index.ts(4,23): error TS2307: Cannot find module 'pg' or its corresponding type declarations.\n";

test("register_fix → recall → report_outcome through MCP", async () => {
  const c = await connect();
  try {
    const reg = await c.ok<{ signature: string; status: string; error_type: string; template: string }>("register_fix", {
      error: TSC_1,
      fix: "npm i the package (and @types/<pkg> if it ships no types)",
      context: "tsc",
    });
    assert.match(reg.signature, /^[0-9a-f]{16}$/);
    assert.equal(reg.status, "created");
    assert.equal(reg.error_type, "TS2307");
    assert.equal(reg.template, "<loc>: error TS2307: Cannot find module <q> or its corresponding type declarations.");

    // The same error for another package of the same kind reinforces it…
    const TSC_3 = TSC_1.replace("csv-parse", "xml-builder").replace("importer", "export");
    const same = await c.ok<{ signature: string; status: string }>("register_fix", { error: TSC_3, fix: "npm i xml-builder", context: "tsc" });
    assert.deepEqual(same, { ...same, signature: reg.signature, status: "reinforced" });
    // …a well-known library's where the first was not (a project's?) stands beside it, a sibling.
    const again = await c.ok<{ signature: string; status: string; sibling_of?: string }>("register_fix", { error: TSC_2, fix: "npm i pg @types/pg", context: "tsc" });
    assert.deepEqual(again, { ...again, status: "sibling", sibling_of: reg.signature });

    const recalled = await c.ok<{ results: { kind: string; signature?: string; match?: string; fix?: string }[] }>("recall", { query: TSC_2, kinds: ["fix"] });
    assert.equal(recalled.results[0]?.signature, again.signature);
    assert.equal(recalled.results[0]?.match, "exact");
    assert.equal(recalled.results[0]?.fix, "npm i pg @types/pg");

    const ok = await c.ok<{ strength: number; successes: number; failures: number; pruned: boolean }>("report_outcome", { signature: again.signature, success: true });
    assert.deepEqual(ok, { strength: 1, successes: 1, failures: 0, pruned: false });
    const bad = await c.ok<{ strength: number; failures: number }>("report_outcome", { signature: again.signature, success: false });
    assert.equal(bad.failures, 1);
    assert.ok(Math.abs(bad.strength - 0.9) < 1e-9);

    const structured = await c.ok<{ signature: string; error_type: string }>("register_fix", {
      signature_fields: { severity: "major", error_type: "removal", context: "containment_task", categories: ["spatial", "physical"] },
      fix: "add the boundary element",
    });
    assert.deepEqual(structured, { ...structured, signature: "0ff1da2e27bad55f", error_type: "removal" });
  } finally {
    await c.close();
  }
});

test("register_fix and report_outcome explain every caller mistake", async () => {
  const c = await connect();
  try {
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ["register_fix", { fix: "x" }, /error .*signature_fields/],
      ["register_fix", { error: "   ", fix: "x" }, /error .*signature_fields/],
      ["register_fix", { error: TSC_1, fix: "  " }, /fix is empty/],
      ["register_fix", { error: TSC_1, signature_fields: { severity: "a", error_type: "b", context: "", categories: [] }, fix: "x" }, /either error or signature_fields/],
      ["register_fix", { error: "x".repeat(c.config.limits.maxTextChars + 1), fix: "x" }, /limit/],
      ["register_fix", { error: TSC_1, fix: "y".repeat(c.config.limits.maxTextChars + 1) }, /limit/],
      ["register_fix", { error: "-----\n=====\n", fix: "x" }, /no text/],
      ["register_fix", { error: TSC_1 }, /fix/],
      ["report_outcome", { success: true }, /signature/],
      ["report_outcome", { id: 12, success: true }, /No experience row 12/],
      ["report_outcome", { id: 12, signature: "0123456789abcdef", success: true }, /not both/],
      ["report_outcome", { signature: "0123456789abcdef", success: true }, /recall/],
      ["report_outcome", { signature: "not-a-signature", success: true }, /16 lowercase hex/],
      ["report_outcome", { signature: "0123456789abcdef" }, /success/],
      ["report_outcome", { id: 12, success: false, error: "boom" }, /error goes with a fix signature/],
      ["report_outcome", { signature: "0123456789abcdef", success: false, error: "e".repeat(c.config.limits.maxTextChars + 1) }, /limit/],
    ];
    for (const [tool, args, message] of cases) {
      const r = await c.call(tool, args);
      assert.equal(r.isError, true, `${tool} ${JSON.stringify(args).slice(0, 80)} should fail`);
      assert.match(textOf(r), message, `${tool} ${JSON.stringify(args).slice(0, 80)}`);
    }
  } finally {
    await c.close();
  }
});

test("the tools are in the memory toolset, write kind, and absent with --read-only", async () => {
  const c = await connect();
  const ro = await connect({ readOnly: true });
  try {
    const tools = (await c.client.listTools()).tools;
    for (const name of ["register_fix", "report_outcome"]) {
      const t = tools.find((x) => x.name === name);
      assert.ok(t, name);
      assert.equal(t.annotations?.readOnlyHint, false);
      assert.equal(t.annotations?.destructiveHint, false);
      assert.ok(t.outputSchema, `${name} has an outputSchema`);
    }
    const roNames = (await ro.client.listTools()).tools.map((t) => t.name);
    assert.ok(!roNames.includes("register_fix") && !roNames.includes("report_outcome"));
  } finally {
    await c.close();
    await ro.close();
  }
});

test("register_fix records the server's repository; recall scope=repo keeps only that repository's fixes", async () => {
  const { repoOf } = await import("../src/storage/repo.js");
  const c = await connect();
  try {
    const here = repoOf(process.cwd());
    assert.ok(here, "the tests run inside a git checkout");
    const error = "src/a.ts(1,1): error TS2304: Cannot find name 'fooBarBaz'.\n";
    const reg = await c.ok<{ signature: string }>("register_fix", { error, fix: "declare or import fooBarBaz" });
    const row = c.app.services.db.prepare("SELECT repo FROM fixes WHERE signature = ?").get(reg.signature) as { repo: string };
    assert.equal(row.repo, here);
    // A fix learned in another repository is left out with scope=repo, kept (ranked after) by default.
    const other = "Traceback (most recent call last):\n  File \"app.py\", line 3, in <module>\nKeyError: 'missing_key'\n";
    c.app.services.registry.register({ error: other, fix: "elsewhere", repo: "/some/other/repo/.git" });
    const scoped = await c.ok<{ results: Array<{ fix: string }> }>("recall", { query: other, kinds: ["fix"], scope: "repo" });
    assert.ok(scoped.results.every((r) => r.fix !== "elsewhere"));
    const global = await c.ok<{ results: Array<{ fix: string }> }>("recall", { query: other, kinds: ["fix"] });
    assert.ok(global.results.some((r) => r.fix === "elsewhere"));
  } finally {
    await c.close();
  }
});

test("recall through MCP: adapts a fix to new names, abstains from a near miss, learns from a failure (issue 10)", async () => {
  const c = await connect();
  try {
    const leftPad = "node:internal/modules/cjs/loader:1228\n  throw err;\n  ^\n\nError: Cannot find module 'left-pad'\nRequire stack:\n- /home/ann/app/index.js\n    at Module._resolveFilename (node:internal/modules/cjs/loader:1225:15) {\n  code: 'MODULE_NOT_FOUND',\n  requireStack: [ '/home/ann/app/index.js' ]\n}\n\nNode.js v20.20.2\n";
    const chalk = leftPad.replace(/left-pad/g, "chalk").replace(/\/ann\//g, "/bob/");
    const relative = leftPad.replace(/left-pad/g, "./lib/routes");
    const reg = await c.ok<{ signature: string }>("register_fix", { error: leftPad, fix: "npm install left-pad", context: "node" });
    type Fix = { signature: string; match: string; score: number; fix: string; adaptation?: { status: string; registered_names: string[]; names: string[] } };
    const adapted = await c.ok<{ results: Fix[] }>("recall", { query: chalk, kinds: ["fix"] });
    assert.equal(adapted.results[0]?.match, "similar");
    assert.equal(adapted.results[0]?.fix, "npm install chalk");
    assert.deepEqual(adapted.results[0]?.adaptation, { status: "adapted", registered_names: ["left-pad"], names: ["chalk"], registered_fix: "npm install left-pad" });
    const r = await c.call("recall", { query: chalk, kinds: ["fix"] });
    assert.match(textOf(r), /similar, confidence 0\.\d\d; adapted from the same error with other names \('left-pad' → 'chalk'\)/);
    // a relative path is the project's file, not a package: no fix, and the answer says why
    const none = await c.call("recall", { query: relative, kinds: ["fix"] });
    const structured = none.structuredContent as { results: unknown[]; abstained?: { nearest_signature: string; nearest_score: number; threshold: number } };
    assert.deepEqual(structured.results, []);
    assert.equal(structured.abstained?.nearest_signature, reg.signature);
    assert.match(textOf(none), /No fix recalled: the nearest registered fix .* is too far/);
    // a failure with the error it was tried on demotes the fix for errors like that one only
    await c.ok("report_outcome", { signature: reg.signature, success: false, error: chalk });
    const demoted = await c.ok<{ results: (Fix & { demoted?: boolean })[] }>("recall", { query: chalk.replace(/\/bob\//g, "/eve/"), kinds: ["fix"] });
    assert.ok(!demoted.results.some((m) => m.signature === reg.signature && !m.demoted));
    const still = await c.ok<{ results: Fix[] }>("recall", { query: leftPad.replace(/\/ann\//g, "/zed/"), kinds: ["fix"] });
    assert.deepEqual([still.results[0]?.signature, still.results[0]?.match], [reg.signature, "exact"]);
    const sibling = await c.ok<{ status: string; sibling_of?: string }>("register_fix", { error: chalk, fix: "use the vendored copy: require('./vendor/chalk')", context: "node" });
    assert.deepEqual(sibling, { ...sibling, status: "sibling", sibling_of: reg.signature });
  } finally {
    await c.close();
  }
});
