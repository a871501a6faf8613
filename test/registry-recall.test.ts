// Issue 10: confidence, adaptation, near misses, abstention and learning from outcomes, on real
// outputs (eval/errors/corpus.jsonl, made by scripts/gen-error-corpus.mjs).
import { test } from "node:test";
import assert from "node:assert/strict";
import { openDatabase, type Db } from "../src/storage/db.js";
import { exactLookup, FixRegistry, type FixMatch } from "../src/registry/registry.js";
import { adapt, TUNING, tuningState } from "../src/registry/score.js";
import { shapeOf, traitsOf } from "../src/registry/traits.js";
import { features, normalizeError } from "../src/registry/normalize.js";
import { describeFix, HookHandler } from "../src/hooks/hook.js";
import { tempHome } from "./temp.js";
import { loadCorpus, type CorpusExample } from "./error-corpus.js";

type Example = CorpusExample;

const CORPUS = loadCorpus();

function example(cls: string, instance: number): Example {
  const e = CORPUS.find((x) => x.class === cls && x.instance === instance);
  assert.ok(e, `${cls}#${instance} in the corpus`);
  return e;
}

function withRegistry(fn: (reg: FixRegistry, db: Db) => void): void {
  const { home, cleanup } = tempHome("xmcp-recall-");
  const db = openDatabase(home);
  try {
    fn(new FixRegistry(db), db);
  } finally {
    db.close();
    cleanup();
  }
}

/** What recall and the hook show: the top match if it reaches the calibrated confidence. */
function recalled(reg: FixRegistry, output: string, context?: string): FixMatch | undefined {
  const m = reg.lookup(output, { context, limit: 3 })[0];
  return m && (m.match === "exact" || m.score >= TUNING.recallMin) ? m : undefined;
}

test("the corpus is big enough to mean something: 60+ classes, 8+ tools, 15+ near-miss pairs, 3 instances each", () => {
  const classes = new Map<string, Example[]>();
  for (const e of CORPUS) classes.set(e.class, [...(classes.get(e.class) ?? []), e]);
  assert.ok(classes.size >= 60, `${classes.size} classes`);
  assert.ok(new Set(CORPUS.map((e) => e.tool)).size >= 8);
  const pairs = new Set(
    CORPUS.filter((e) => (e as unknown as { near_miss_of: string | null }).near_miss_of).map((e) => [e.class, (e as unknown as { near_miss_of: string }).near_miss_of].sort().join("|")),
  );
  assert.ok(pairs.size >= 15, `${pairs.size} near-miss pairs`);
  for (const [cls, xs] of classes) {
    assert.ok(xs.length >= 3, cls);
    assert.equal(new Set(xs.map((x) => x.output)).size, xs.length, `${cls}: instances differ`);
  }
});

test("rg → fd: the same error with another name is similar, not exact; the fix cannot be adapted and says so", () => {
  withRegistry((reg, db) => {
    const rg = example("bash-command-not-installed", 1);
    const fd = example("bash-command-not-installed", 2);
    assert.match(rg.output, /rg: command not found/);
    assert.match(fd.output, /fd: command not found/);
    const r = reg.register({ error: rg.output, fix: "apt-get install ripgrep", context: "bash" });
    const m = reg.lookup(fd.output, { context: "bash" })[0]!;
    assert.equal(m.signature, r.signature);
    assert.equal(m.match, "similar");
    assert.ok(m.score < TUNING.sameTemplate, `confidence lowered: ${m.score}`);
    assert.deepEqual(m.adaptation, { status: "unadapted", registered_names: ["rg"], names: ["fd"], registered_fix: "apt-get install ripgrep" });
    assert.equal(m.fix, "apt-get install ripgrep");
    // the hook's fast path does not call it exact either
    assert.equal(exactLookup(db, fd.output), undefined);
    assert.equal(exactLookup(db, rg.output.replace("run.sh", "build.sh"))?.signature, r.signature);
    const text = describeFix(m);
    assert.match(text, /similar match, confidence 0\.\d\d/);
    assert.match(text, /'rg' → 'fd'/);
    assert.match(text, /cannot be adapted/);
    // the same name again is exact
    assert.equal(reg.lookup(rg.output.replace("line 2", "line 9"), { context: "bash" })[0]?.match, "exact");
  });
});

test("requests → yaml: the fix is adapted to the new module (and to its package name); yaml → requests is not", () => {
  withRegistry((reg) => {
    const requests = "Traceback (most recent call last):\n  File \"/home/alice/app/main.py\", line 1, in <module>\n    import requests\nModuleNotFoundError: No module named 'requests'\n";
    const yaml = "Traceback (most recent call last):\n  File \"/srv/bob/tool/cli.py\", line 3, in <module>\n    import yaml\nModuleNotFoundError: No module named 'yaml'\n";
    reg.register({ error: requests, fix: "pip install requests", context: "python" });
    const m = recalled(reg, yaml, "python")!;
    assert.equal(m.match, "similar");
    assert.equal(m.fix, "pip install pyyaml");
    assert.deepEqual([m.adaptation?.status, m.adaptation?.registered_names, m.adaptation?.names], ["adapted", ["requests"], ["yaml"]]);
    assert.notEqual(m.fix, "pip install requests");
    const text = describeFix(m);
    assert.match(text, /'requests' → 'yaml'/);
    assert.match(text, /The fix, adapted to this error:\n {2}pip install pyyaml/);
  });
  withRegistry((reg) => {
    const yaml = "Traceback (most recent call last):\n  File \"/srv/bob/tool/cli.py\", line 3, in <module>\n    import yaml\nModuleNotFoundError: No module named 'yaml'\n";
    reg.register({ error: yaml, fix: "pip install pyyaml", context: "python" });
    const m = reg.lookup(yaml.replace(/yaml/g, "requests").replace("pip install pyrequests", ""), { context: "python" })[0]!;
    assert.equal(m.adaptation?.status, "unadapted");
    assert.equal(m.fix, "pip install pyyaml");
  });
});

test("left-pad → chalk: npm install is adapted; a relative module is a near miss of a package, not the same problem", () => {
  withRegistry((reg) => {
    const leftPad = example("node-module-not-found-package", 1);
    const chalk = example("node-module-not-found-package", 2);
    assert.match(leftPad.output, /Cannot find module 'left-pad'/);
    assert.match(chalk.output, /Cannot find module 'chalk'/);
    reg.register({ error: leftPad.output, fix: leftPad.fix, context: "node" });
    assert.equal(leftPad.fix, "Install the dependency: npm install left-pad");
    const m = recalled(reg, chalk.output, "node")!;
    assert.equal(m.match, "similar");
    assert.equal(m.fix, "Install the dependency: npm install chalk");
    assert.equal(m.fix, chalk.fix);
    // './config/settings' is the project's file: the package fix is not offered for it
    const relative = example("node-module-not-found-relative", 2);
    assert.equal(recalled(reg, relative.output, "node"), undefined);
    const near = reg.lookup(relative.output, { context: "node" })[0]!;
    assert.ok(near.score < TUNING.recallMin, `nearest ${near.score}`);
  });
});

test("near-miss pairs that differ only in a masked detail are told apart once both are registered", () => {
  const pairs: [string, string][] = [
    ["ts2307-relative-module", "ts2307-package-module"],
    ["node-enoent-open", "node-enoent-mkdir"],
    ["py-file-not-found-open", "py-file-not-found-mkdir"],
    ["py-module-not-found-library", "py-module-not-found-project"],
    ["gcc-undefined-reference-library", "gcc-undefined-reference-project"],
    ["gcc-missing-system-header", "gcc-missing-project-header"],
    ["perl-module-missing-library", "perl-module-missing-project"],
    ["rust-e0432-unresolved-crate", "rust-e0432-unresolved-module"],
  ];
  for (const [a, b] of pairs) {
    withRegistry((reg) => {
      const ra = reg.register({ error: example(a, 1).output, fix: example(a, 1).fix, context: example(a, 1).tool });
      const rb = reg.register({ error: example(b, 1).output, fix: example(b, 1).fix, context: example(b, 1).tool });
      assert.notEqual(ra.signature, rb.signature, `${a} / ${b} keep their own fixes`);
      for (const [cls, sig] of [[a, ra.signature], [b, rb.signature]] as const) {
        for (const i of [2, 3]) {
          const e = example(cls, i);
          assert.equal(recalled(reg, e.output, e.tool)?.signature, sig, `${cls}#${i}`);
        }
      }
    });
  }
});

test("same signature, other distinguishing traits: the second fix is a sibling, not a replacement", () => {
  withRegistry((reg) => {
    const rel = example("ts2307-relative-module", 1);
    const pkg = example("ts2307-package-module", 1);
    const a = reg.register({ error: rel.output, fix: rel.fix, context: "tsc" });
    const b = reg.register({ error: pkg.output, fix: pkg.fix, context: "tsc" });
    assert.equal(a.template, b.template);
    assert.deepEqual([b.status, b.sibling_of], ["sibling", a.signature]);
    assert.equal(reg.lookupSignature(a.signature)?.fix, rel.fix);
    assert.equal(reg.lookupSignature(b.signature)?.sibling_of, a.signature);
  });
});

test("an exception with no message text still matches (python and node)", () => {
  withRegistry((reg) => {
    for (const cls of ["py-assertion-bare", "py-notimplemented-bare", "node-throw-bare-error"]) {
      const first = example(cls, 1);
      const r = reg.register({ error: first.output, fix: first.fix, context: first.tool });
      for (const i of [2, 3]) {
        const m = recalled(reg, example(cls, i).output, first.tool);
        assert.equal(m?.signature, r.signature, `${cls}#${i}`);
        assert.equal(m?.match, "exact", `${cls}#${i}`);
      }
    }
  });
});

test("a confusion is corrected by one failure report and one registration", () => {
  withRegistry((reg) => {
    // rg is not installed; gti is a typo of git. The outputs differ only in the name.
    const rg = "run.sh: line 2: rg: command not found\n";
    const gti = "deploy.sh: line 5: gti: command not found\n";
    const gti2 = "ci.sh: line 12: gti: command not found\n";
    const install = reg.register({ error: rg, fix: "apt-get install ripgrep", context: "bash" });
    const before = recalled(reg, gti, "bash");
    assert.equal(before?.signature, install.signature, "confused: the install fix is offered for a typo");
    // one failure report, with the error it was tried on…
    reg.reportOutcome(install.signature, false, gti);
    // …and one registration of what fixed it
    const typo = reg.register({ error: gti, fix: "a typo: run git", context: "bash" });
    assert.deepEqual([typo.status, typo.sibling_of], ["sibling", install.signature]);
    // now each error gets its own fix, exactly
    const forGti = recalled(reg, gti2, "bash")!;
    assert.deepEqual([forGti.signature, forGti.match, forGti.fix], [typo.signature, "exact", "a typo: run git"]);
    const forRg = recalled(reg, rg.replace("line 2", "line 8"), "bash")!;
    assert.deepEqual([forRg.signature, forRg.match], [install.signature, "exact"]);
    // the demoted fix still ranks below the sibling for the typo, and says it failed there
    const all = reg.lookup(gti2, { context: "bash", limit: 5 });
    const demoted = all.find((m) => m.signature === install.signature);
    assert.ok(demoted && demoted.demoted && demoted.score < forGti.score);
  });
});

test("adapt: whole-word names are slots; names inside a word or abbreviated are not; unrelated fixes are generic", () => {
  assert.deepEqual(adapt("npm install left-pad", ["left-pad"], ["chalk"])?.fix, "npm install chalk");
  assert.equal(adapt("apt-get install ripgrep", ["rg"], ["fd"])?.status, "unadapted");
  assert.equal(adapt("apt-get install fd-find", ["fd"], ["rg"])?.status, "unadapted");
  assert.equal(adapt("pip install pyyaml", ["yaml"], ["requests"])?.status, "unadapted");
  assert.equal(adapt("use .get(key, default)", ["database_url"], ["the"])?.status, "generic");
  assert.equal(adapt("same", ["x"], ["x"]), undefined);
  // a path that contains the name is not the name
  assert.equal(adapt("rm -rf build/cache", ["cache"], ["tmp"])?.fix, "rm -rf build/cache");
});

test("traits: shapes of names and paths, library or project, the errno's operation, the runtime", () => {
  assert.deepEqual(["./utils/money", "lodash", "billing.models", "JSON::XS", "@babel/core", "/etc/x", "src/main.c"].map(shapeOf), [
    "relative", "bare", "dotted", "nested", "scoped", "absolute", "path",
  ]);
  const t = (cls: string) => {
    const e = example(cls, 1);
    return traitsOf(e.output, normalizeError(e.output), e.tool).traits;
  };
  assert.ok(t("node-enoent-mkdir").includes("op:mkdir") && t("node-enoent-open").includes("op:open"));
  assert.ok(t("py-file-not-found-mkdir").includes("op:mkdir") && t("py-file-not-found-open").includes("op:open"));
  assert.ok(t("gcc-undefined-reference-library").includes("origin:library") && t("gcc-undefined-reference-project").includes("origin:other"));
  assert.ok(t("gcc-missing-system-header").includes("include:angle") && t("gcc-missing-project-header").includes("include:quote"));
  assert.ok(t("py-module-not-found-library").includes("rt:python"));
});

test("the hook injects nothing below the calibrated confidence, and states confidence and adaptation above it", () => {
  const { home, cleanup } = tempHome("xmcp-recall-hook-");
  const db = openDatabase(home);
  try {
    const reg = new FixRegistry(db);
    const leftPad = example("node-module-not-found-package", 1);
    reg.register({ error: leftPad.output, fix: "npm install left-pad", context: "node" });
    const event = (output: string, session: string) => ({
      hook_event_name: "PostToolUseFailure",
      tool_name: "Bash",
      tool_input: { command: "node server.js" },
      error: `Exit code 1\n${output}`,
      session_id: session,
      cwd: home,
    });
    const hook = new HookHandler(db);
    const adapted = hook.handle(event(example("node-module-not-found-package", 2).output, "s1"));
    const text = adapted?.hookSpecificOutput.additionalContext ?? "";
    assert.match(text, /similar match, confidence 0\.\d\d/);
    assert.match(text, /'left-pad' → 'chalk'/);
    assert.match(text, /npm install chalk/);
    // a relative require is a near miss of the package one: nothing is said
    assert.equal(hook.handle(event(example("node-module-not-found-relative", 2).output, "s2")), undefined);
    // the same error again is exact
    const again = hook.handle(event(leftPad.output.replace(/\/home\/frank/g, "/home/zoe"), "s3"));
    assert.match(again?.hookSpecificOutput.additionalContext ?? "", /exact match/);
  } finally {
    db.close();
    cleanup();
  }
});

test("rewordings of a registered error are recalled over the threshold; the near miss of one is not", () => {
  withRegistry((reg) => {
    // The whole corpus registered (as the eval does): the weights are those of a real registry.
    for (const e of CORPUS.filter((x) => x.instance === 1)) reg.register({ error: e.output, fix: e.fix, context: e.tool });
    // "integer division or modulo by zero" after "division by zero"; git add's "fatal: … any files"
    // after checkout's "error: … any file(s) known to git"; make's "(did you mean TAB instead of 8 spaces?)".
    for (const [cls, instance] of [["py-zerodivision", 4], ["git-pathspec-no-match", 4], ["git-pathspec-no-match", 5], ["make-missing-separator", 4]] as const) {
      const e = example(cls, instance);
      const m = reg.lookup(e.output, { context: e.tool, limit: 1 })[0];
      assert.ok(m, `${cls}#${instance} finds a fix`);
      assert.equal(m.fix, example(cls, 1).fix, `${cls}#${instance} gets its own class's fix`);
      assert.ok(m.score >= TUNING.recallMin, `${cls}#${instance}: ${m.score} ≥ ${TUNING.recallMin}`);
    }
    const column = example("sqlite-no-such-column", 2);
    assert.equal(reg.lookup(column.output, { context: column.tool, limit: 1 })[0]?.fix, column.fix, "a missing column does not get the missing table's fix");
  });
});

test("features: no word pair across ': ', plurals folded, a parenthesized aside kept apart", () => {
  const f = new Set(features(["fatal: pathspec <q> did not match any files"]));
  assert.ok(f.has("pathspec") && f.has("any file") && f.has("file"), [...f].join("|"));
  assert.ok(!f.has("fatal pathspec"), "no pair spans the colon");
  const m = new Set(features(["<loc>: *** missing separator (did you mean TAB instead of <n> spaces?). Stop."]));
  assert.ok(m.has("missing separator") && m.has("separator stop") && m.has("(tab") && m.has("(space"), [...m].join("|"));
  assert.ok(!m.has("tab") && !m.has("separator did"), "the aside's words are not the message's");
  // "file(s)" and a call "f()" are not asides.
  assert.ok(new Set(features(["error: pathspec <q> did not match any file(s) known to git"])).has("file"));
});

test("a project's own bare module is a near miss of a missing package: told apart when both are known, no fix when only the package is", () => {
  withRegistry((reg) => {
    const pkg = example("node-module-not-found-package", 1);
    reg.register({ error: pkg.output, fix: pkg.fix, context: pkg.tool });
    const own = example("node-module-not-found-project-bare", 2);
    const m = reg.lookup(own.output, { context: own.tool, limit: 1 })[0];
    assert.ok(!m || m.score < TUNING.recallMin, `npm install is not recalled for require("routes"): ${m?.score}`);
    const first = example("node-module-not-found-project-bare", 1);
    reg.register({ error: first.output, fix: first.fix, context: first.tool });
    assert.equal(reg.lookup(own.output, { context: own.tool, limit: 1 })[0]?.fix, own.fix, "adapted to 'routes'");
    const chalk = example("node-module-not-found-package", 2);
    assert.equal(reg.lookup(chalk.output, { context: chalk.tool, limit: 1 })[0]?.fix, chalk.fix);
  });
});

test("typePrior (tuned to 0): a specific type few registered errors share, with a rare word in common, lifts a rewording; a broad one does not", () => {
  const saved = TUNING.typePrior;
  Object.assign(TUNING, { typePrior: 0.9 });
  tuningState.version++;
  try {
    withRegistry((reg) => {
      for (const e of CORPUS.filter((x) => x.instance === 1)) reg.register({ error: e.output, fix: e.fix, context: e.tool });
      // ZeroDivisionError: only one registered error has it, and "zero" is shared: lifted to 0.9.
      const zero = example("py-zerodivision", 5);
      const m = reg.lookup(zero.output, { context: zero.tool, limit: 1 })[0];
      assert.equal(m?.fix, example("py-zerodivision", 1).fix);
      assert.equal(m?.score, 0.9);
      // "float modulo" shares no word but the type with "division by zero": not lifted.
      const modulo = example("py-zerodivision", 6);
      assert.ok((reg.lookup(modulo.output, { context: modulo.tool, limit: 1 })[0]?.score ?? 0) < 0.9);
    });
  } finally {
    Object.assign(TUNING, { typePrior: saved });
    tuningState.version++;
  }
});
