import { test } from "node:test";
import assert from "node:assert/strict";
import { openDatabase, type Db } from "../src/storage/db.js";
import { maskLine, normalizeError, stripAnsi } from "../src/registry/normalize.js";
import { errorTypeOf, FixNotFoundError, FixRegistry } from "../src/registry/registry.js";
import { TUNING } from "../src/registry/score.js";
import { decayStrength, STRENGTH } from "../src/storage/strength.js";
import { pythonStrRepr, rawSignature, structuredKey, structuredSignature } from "../src/registry/signature.js";
import { tempHome } from "./temp.js";

const DAY = 86_400_000;

function withRegistry(fn: (reg: FixRegistry, clock: { t: number }, db: Db, home: string) => void): void {
  const { home, cleanup } = tempHome("xmcp-reg-");
  const db = openDatabase(home);
  const clock = { t: 1_700_000_000_000 };
  try {
    fn(new FixRegistry(db, { now: () => clock.t }), clock, db, home);
  } finally {
    db.close();
    cleanup();
  }
}

// ---------------------------------------------------------------------------------------------
// normalization

test("stripAnsi removes colours, OSC links, cursor moves and keeps what a CR redraw leaves", () => {
  const colored = "\x1b[1m\x1b[31merror\x1b[39m\x1b[0m: \x1b]8;;file:///a.ts\x07a.ts\x1b]8;;\x07 failed\x1b[K";
  assert.equal(stripAnsi(colored), "error: a.ts failed");
  assert.equal(stripAnsi("progress 10%\rprogress 100%\r\nnext"), "progress 100%\nnext");
});

test("maskLine masks paths, locations, numbers, hashes, ports, timestamps, quotes and names", () => {
  assert.equal(maskLine("src/invoice.ts(7,9): error TS2322: Type 'string' is not assignable to type 'number'."), "<loc>: error TS2322: Type <q> is not assignable to type <q>.");
  assert.equal(maskLine("/home/ann/x/count.c:4:17: error: implicit declaration of function ‘strlen’"), "<loc>: error: implicit declaration of function <q>");
  assert.equal(maskLine("2024-05-01T10:11:12.345Z pid 4242 listening on 127.0.0.1:8080"), "<ts> pid <n> listening on <addr>");
  assert.equal(maskLine("commit 3f2a9c1d7e8b failed after 350ms in /tmp/tmp.X1y2/build"), "commit <hex> failed after <dur> in <path>");
  assert.equal(maskLine("build.sh: line 7: nmp: command not found"), "<path>: line <n>: <id>: command not found");
  assert.equal(maskLine("Error: in prepare, no such table: page_views"), "Error: in prepare, no such table: <id>");
  assert.equal(maskLine("TypeError: slugify is not a function"), "TypeError: <id> is not a function");
  assert.equal(maskLine("can't open 'x.txt': it doesn't exist"), "can't open <q>: it doesn't exist");
  assert.equal(maskLine("ERROR: No matching distribution found for torchh==2.1.0"), "ERROR: No matching distribution found for <pkg>==<n>");
  // codes survive
  assert.equal(maskLine("error[E0425]: cannot find value `x`"), "error[E0425]: cannot find value <q>");
});

interface Case {
  tool: string;
  output: string;
  type: string;
  template: string;
}

// Realistic outputs of tools that are not in the eval set, to check that the rules generalize.
const CASES: Case[] = [
  {
    tool: "cargo",
    output: [
      "   Compiling demo v0.1.0 (/home/ann/src/demo)",
      "error[E0425]: cannot find value `totl` in this scope",
      " --> src/main.rs:4:20",
      "  |",
      '4 |     println!("{}", totl);',
      "  |                    ^^^^ help: a local variable with a similar name exists: `total`",
      "",
      "For more information about this error, try `rustc --explain E0425`.",
      'error: could not compile `demo` (bin "demo") due to 1 previous error',
    ].join("\n"),
    type: "E0425",
    template: "error[E0425]: cannot find value <q> in this scope",
  },
  {
    tool: "go",
    output: "# example.com/shop/cmd/server\ncmd/server/main.go:14:2: undefined: startServer\n",
    type: "error",
    template: "<loc>: undefined: <id>",
  },
  {
    tool: "go",
    output: "panic: runtime error: index out of range [3] with length 3\n\ngoroutine 1 [running]:\nmain.main()\n\t/home/ann/go/src/demo/main.go:8 +0x1d\nexit status 2\n",
    type: "runtime error",
    template: "panic: runtime error: index out of range [<n>] with length <n>",
  },
  {
    tool: "pytest",
    output: [
      "=================================== FAILURES ===================================",
      "_________________________________ test_divide __________________________________",
      "",
      "    def test_divide():",
      ">       assert divide(7, 2) == 3",
      "E       assert 3.5 == 3",
      "E        +  where 3.5 = divide(7, 2)",
      "",
      "tests/test_calc.py:12: AssertionError",
      "=========================== short test summary info ============================",
      "FAILED tests/test_calc.py::test_divide - assert 3.5 == 3",
      "========================= 1 failed, 2 passed in 0.03s ==========================",
    ].join("\n"),
    type: "AssertionError",
    template: "assert <n> == <n>",
  },
  {
    tool: "jest",
    output: [
      "FAIL src/sum.test.js",
      "  ● sum › adds two numbers",
      "",
      "    expect(received).toBe(expected) // Object.is equality",
      "",
      "    Expected: 5",
      "    Received: 4",
      "",
      "    > 5 |     expect(sum(2, 2)).toBe(5);",
      "        |                       ^",
      "",
      "      at Object.toBe (src/sum.test.js:5:23)",
      "",
      "Tests:       1 failed, 1 total",
    ].join("\n"),
    type: "error",
    template: "expect(received).toBe(expected) // Object.is equality",
  },
  {
    tool: "eslint",
    output: "\n/home/ann/src/web/src/app.js\n  3:7  error  'helper' is assigned a value but never used  no-unused-vars\n\n✖ 1 problem (1 error, 0 warnings)\n",
    type: "no-unused-vars",
    template: "<n>:<n> error <q> is assigned a value but never used no-unused-vars",
  },
  {
    tool: "docker",
    output: 'docker: Error response from daemon: Conflict. The container name "/web" is already in use by container "3f2a9c1d7e8b4a6f9d0c". You have to remove (or rename) that container to be able to reuse that name.\nSee \'docker run --help\'.\n',
    type: "error",
    template: "docker: Error response from daemon: Conflict. The container name <q> is already in use by container <q>. You have to remove (or rename) that container to be able to reuse that name.",
  },
  {
    tool: "pip",
    output: "error: externally-managed-environment\n\n× This environment is externally managed\n╰─> To install Python packages system-wide, try apt install\n    python3-xyz.\n\nnote: If you believe this is a mistake, please contact your Python installation.\nhint: See PEP 668 for the detailed specification.\n",
    type: "externally-managed-environment",
    template: "error: externally-managed-environment",
  },
  {
    tool: "java",
    output: 'Exception in thread "main" java.lang.NullPointerException: Cannot invoke "String.length()" because "name" is null\n\tat com.acme.Greeter.greet(Greeter.java:12)\n\tat com.acme.Main.main(Main.java:5)\n',
    type: "java.lang.NullPointerException",
    template: "Exception in thread <q> java.lang.NullPointerException: Cannot invoke <q> because <q> is null",
  },
  {
    tool: "javac",
    output: "src/Main.java:7: error: cannot find symbol\n        List<String> names = new ArrayList<>();\n        ^\n  symbol:   class List\n  location: class Main\n1 error\n",
    type: "error",
    template: "<loc>: error: cannot find symbol",
  },
  {
    tool: "node",
    output: [
      "node:internal/modules/esm/resolve:854",
      "  throw new ERR_MODULE_NOT_FOUND(packageName, fileURLToPath(base), null);",
      "        ^",
      "",
      "Error [ERR_MODULE_NOT_FOUND]: Cannot find package 'express' imported from /home/ann/src/api/server.js",
      "    at packageResolve (node:internal/modules/esm/resolve:854:9) {",
      "  code: 'ERR_MODULE_NOT_FOUND'",
      "}",
      "",
      "Node.js v20.11.1",
    ].join("\n"),
    type: "ERR_MODULE_NOT_FOUND",
    template: "Error [ERR_MODULE_NOT_FOUND]: Cannot find package <q> imported from <path>",
  },
  {
    tool: "node",
    output: "Error: listen EADDRINUSE: address already in use :::3000\n    at Server.setupListenHandle [as _listen2] (node:net:1872:16) {\n  code: 'EADDRINUSE',\n  errno: -98,\n  port: 3000\n}\n",
    type: "EADDRINUSE",
    template: "Error: listen EADDRINUSE: address already in use <addr>",
  },
  {
    tool: "npm",
    output: "npm error code E404\nnpm error 404 Not Found - GET https://registry.npmjs.org/expresss - Not found\nnpm error 404\nnpm error A complete log of this run can be found in: /home/ann/.npm/_logs/2025-01-02T10_11_12_123Z-debug-0.log\n",
    type: "E404",
    template: "<n> Not Found - GET <url> - Not found",
  },
  {
    tool: "git",
    output: "fatal: not a git repository (or any of the parent directories): .git\n",
    type: "fatal",
    template: "fatal: not a git repository (or any of the parent directories): .git",
  },
  {
    tool: "gcc",
    output: "main.c:2:10: fatal error: curl/curl.h: No such file or directory\n    2 | #include <curl/curl.h>\n      |          ^~~~~~~~~~~~~\ncompilation terminated.\n",
    type: "ENOENT",
    template: "<loc>: fatal error: <path>: No such file or directory",
  },
  {
    tool: "dotnet",
    output: "Program.cs(12,17): error CS0103: The name 'conut' does not exist in the current context [/src/app/app.csproj]\n",
    type: "CS0103",
    template: "<loc>: error CS0103: The name <q> does not exist in the current context [<path>]",
  },
  {
    tool: "terraform",
    output: '╷\n│ Error: Unsupported argument\n│ \n│   on main.tf line 12, in resource "aws_s3_bucket" "logs":\n│   12:   acl_policy = "private"\n│ \n│ An argument named "acl_policy" is not expected here.\n╵\n',
    type: "error",
    template: "Error: Unsupported argument",
  },
  {
    tool: "ruby",
    output: "app.rb:3:in `<main>': undefined method `upcase' for nil:NilClass (NoMethodError)\n",
    type: "NoMethodError",
    template: "<loc>:in <q>: undefined method <q> for nil:NilClass (NoMethodError)",
  },
  {
    tool: "bash",
    output: "./run.sh: line 3: ./bin/server: Permission denied\n",
    type: "EACCES",
    template: "<path>: line <n>: <path>: Permission denied",
  },
  {
    tool: "sh",
    output: "Segmentation fault (core dumped)\n",
    type: "SIGSEGV",
    template: "Segmentation fault (core dumped)",
  },
  {
    tool: "docker build",
    output: '#8 [4/5] RUN npm ci\n#8 0.412 npm error code EUSAGE\nERROR: failed to solve: process "/bin/sh -c npm ci" did not complete successfully: exit code: 1\n',
    type: "EUSAGE",
    template: "ERROR: failed to solve: process <q> did not complete successfully: exit code: <n>",
  },
  {
    tool: "make",
    output: "make: *** No rule to make target 'instal'.  Stop.\n",
    type: "make",
    template: "make: *** No rule to make target <q>. Stop.",
  },
  // wrappers ("make: *** … Error 1", npm lifecycle, pip subprocess) yield to the cause they wrap
  {
    tool: "make",
    output: "cc -c main.c\nmain.c:3:5: error: unknown type name 'strin'\nmake: *** [Makefile:4: main.o] Error 1\n",
    type: "error",
    template: "<loc>: error: unknown type name <q>",
  },
  {
    tool: "npm",
    output: "> app@1.0.0 build\n> tsc -p .\n\nsrc/a.ts(1,20): error TS2307: Cannot find module 'zod' or its corresponding type declarations.\nnpm error Lifecycle script `build` failed with error:\nnpm error code 2\nnpm error command failed\n",
    type: "TS2307",
    template: "<loc>: error TS2307: Cannot find module <q> or its corresponding type declarations.",
  },
  {
    tool: "pip",
    output: "error: subprocess-exited-with-error\n\n× python setup.py egg_info did not run successfully.\n│ exit code: 1\n╰─> [6 lines of output]\n    Traceback (most recent call last):\n      File \"<string>\", line 2, in <module>\n    ModuleNotFoundError: No module named 'setuptools'\n    [end of output]\n\nnote: This error originates from a subprocess, and is likely not a problem with pip.\nerror: metadata-generation-failed\n",
    type: "ModuleNotFoundError",
    template: "ModuleNotFoundError: No module named <q>",
  },
  {
    tool: "cargo run",
    output: "thread 'main' panicked at src/main.rs:5:18:\ncalled `Option::unwrap()` on a `None` value\nnote: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n",
    type: "error",
    template: "thread <q> panicked at <loc>: called <q> on a <q> value",
  },
  {
    tool: "node",
    output: "node:internal/modules/cjs/loader:1148\n  throw err;\n  ^\n\nError: Cannot find module './config'\nRequire stack:\n- /a/b.js\n    at Module._resolveFilename (node:internal/modules/cjs/loader:1145:15) {\n  code: 'MODULE_NOT_FOUND',\n  requireStack: [ '/a/b.js' ]\n}\n",
    type: "MODULE_NOT_FOUND",
    template: "Error: Cannot find module <q>",
  },
];

test("normalization and classification generalize across tools", () => {
  for (const c of CASES) {
    const n = normalizeError(c.output);
    assert.equal(n.error_type, c.type, `${c.tool}: error_type of ${JSON.stringify(c.output.slice(0, 60))}`);
    assert.equal(n.template, c.template, `${c.tool}: template`);
  }
});

test("noise is dropped: stack frames, excerpts, carets, npm boilerplate, log chatter", () => {
  const node = normalizeError(
    "/srv/app/src/index.js:4\nconsole.log(slugify(title));\n             ^\n\nTypeError: slugify is not a function\n    at Object.<anonymous> (/srv/app/src/index.js:4:22)\n    at Module._compile (node:internal/modules/cjs/loader:1521:14)\n\nNode.js v20.20.2\n",
  );
  assert.equal(node.error_type, "TypeError");
  assert.equal(node.text, "TypeError: <id> is not a function");
  const py = normalizeError(
    '2026-01-02 03:04:05,678 1234 INFO loading /srv/conf.json\nTraceback (most recent call last):\n  File "/srv/x.py", line 12, in <module>\n    db_url = config["database_url"]\n             ~~~~~~^^^^^^^^^^^^^^^^\nKeyError: \'database_url\'\n',
  );
  assert.deepEqual([py.error_type, py.template], ["KeyError", "KeyError: <q>"]);
  const npm = normalizeError('npm error Missing script: "lint"\nnpm error\nnpm error Did you mean this?\nnpm error   npm link # Symlink a package folder\nnpm error\nnpm error To see a list of scripts, run:\nnpm error   npm run\n');
  assert.equal(npm.text, "Missing script: <q>");
  // chained Python exceptions: the last one is the headline
  const chained = normalizeError("Traceback (most recent call last):\n  File \"a.py\", line 1, in <module>\nKeyError: 'x'\n\nDuring handling of the above exception, another exception occurred:\n\nTraceback (most recent call last):\n  File \"a.py\", line 3, in <module>\nValueError: missing setting x\n");
  assert.deepEqual([chained.error_type, chained.template], ["ValueError", "ValueError: missing setting x"]);
});

test("the same problem in different places gets the same signature; different problems do not", () => {
  const sig = (out: string, ctx = "t") => {
    const n = normalizeError(out);
    return rawSignature(n.error_type, ctx, n.template);
  };
  // paths, names, numbers, ports differ
  assert.equal(sig("lib/a.ts(3,20): error TS2307: Cannot find module 'pg' or its corresponding type declarations."), sig("src/deep/b.ts(10,1): error TS2307: Cannot find module './x/y' or its corresponding type declarations."));
  assert.equal(sig("Error: listen EADDRINUSE: address already in use :::3000"), sig("Error: listen EADDRINUSE: address already in use 127.0.0.1:8081"));
  assert.equal(sig("bash: line 1: dockr: command not found"), sig("bash: line 9: pyhton3: command not found"));
  assert.equal(sig('Exception in thread "main" java.lang.ArrayIndexOutOfBoundsException: Index 3 out of bounds for length 3\n\tat Main.main(Main.java:6)'), sig('Exception in thread "worker-2" java.lang.ArrayIndexOutOfBoundsException: Index 0 out of bounds for length 0\n\tat a.B.c(B.java:22)'));
  // tsc with and without --pretty (colours, excerpt, summary)
  assert.equal(
    sig("src/a.ts(7,9): error TS2322: Type 'string' is not assignable to type 'number'."),
    sig("\x1b[96msrc/b.ts\x1b[0m:\x1b[93m3\x1b[0m:\x1b[93m1\x1b[0m - \x1b[91merror\x1b[0m\x1b[90m TS2322: \x1b[0mType 'number' is not assignable to type 'string'.\n\n3 x = 1;\n  ~\n\nFound 1 error in src/b.ts\x1b[90m:3\x1b[0m\n"),
  );
  // the context is part of the signature
  assert.notEqual(sig("fatal: not a git repository", "git"), sig("fatal: not a git repository", "make"));
  // look-alikes differ
  assert.notEqual(sig("src/a.ts(1,1): error TS7006: Parameter 'x' implicitly has an 'any' type."), sig("src/a.ts(1,1): error TS7016: Could not find a declaration file for module 'x'."));
  assert.notEqual(sig("Error: in prepare, no such table: users"), sig("Error: in prepare, no such column: users"));
});

// ---------------------------------------------------------------------------------------------
// signatures

test("structured signatures hash exactly like experience-memory (values computed with python3)", () => {
  // python3 -c "import hashlib;k=f\"major:removal:containment_task:{sorted(['spatial','physical'])}\";print(hashlib.sha256(k.encode()).hexdigest()[:16])"
  assert.equal(structuredKey({ severity: "major", error_type: "removal", context: "containment_task", categories: ["spatial", "physical"] }), "major:removal:containment_task:['physical', 'spatial']");
  assert.equal(structuredSignature({ severity: "major", error_type: "removal", context: "containment_task", categories: ["spatial", "physical"] }), "0ff1da2e27bad55f");
  assert.equal(structuredSignature({ severity: "minor", error_type: "substitution", context: "", categories: [] }), "f53ede0b3c691baa");
  // quotes, escapes, non-printable and non-ASCII characters, as Python's repr renders them
  const odd = ["it's", "plain", "a\"b'c", "tab\there", "ünï", "\u00a0nb"];
  assert.equal(structuredSignature({ severity: "catastrophic", error_type: "x", context: "it's", categories: odd }), "62f953448e91fc42");
  assert.equal(pythonStrRepr("it's"), `"it's"`);
  assert.equal(pythonStrRepr(`a"b'c`), `'a"b\\'c'`);
  // raw: python3 -c "import hashlib;print(hashlib.sha256(b'TS2322:tsc:x').hexdigest()[:16])"
  assert.equal(rawSignature("TS2322", "tsc", "x"), "2eeec01798240ba8");
  const n = normalizeError("src/invoice.ts(7,9): error TS2322: Type 'string' is not assignable to type 'number'.");
  assert.equal(rawSignature(n.error_type, "tsc", n.template), "f91a34038e7cbd8c");
});

// ---------------------------------------------------------------------------------------------
// registry

const KEY_1 = "Traceback (most recent call last):\n  File \"/srv/a/settings.py\", line 12, in <module>\n    x = config[\"database_url\"]\nKeyError: 'database_url'\n";
const KEY_2 = "Traceback (most recent call last):\n  File \"/home/b/count.py\", line 5, in <module>\n    counts[word] += 1\nKeyError: 'the'\n";
const INDEX_1 = "Traceback (most recent call last):\n  File \"/srv/cli/main.py\", line 3, in <module>\n    f = sys.argv[1]\nIndexError: list index out of range\n";
const INDEX_2 = "Traceback (most recent call last):\n  File \"/home/c/parse.py\", line 9, in status\n    return int(fields[3])\nIndexError: tuple index out of range\n";

test("register creates, the same signature again reinforces and keeps every fix in the history", () => {
  withRegistry((reg, clock) => {
    const a = reg.register({ error: KEY_1, fix: "use .get(key, default)", context: "python3" });
    assert.equal(a.status, "created");
    assert.equal(a.error_type, "KeyError");
    assert.equal(a.template, "KeyError: <q>");
    clock.t += 3 * DAY;
    const b = reg.register({ error: KEY_2, fix: "check `key in d` first", context: "python3" });
    assert.deepEqual([b.status, b.signature], ["reinforced", a.signature]);
    reg.register({ error: KEY_2, fix: "check `key in d` first", context: "python3" });
    const hist = reg.history(a.signature).map((h) => h.fix);
    assert.deepEqual(hist, ["use .get(key, default)", "check `key in d` first"]);
    const m = reg.lookupSignature(a.signature)!;
    assert.equal(m.fix, "check `key in d` first");
    // decayed 3 epochs, then +0.05 twice (capped at 1)
    assert.ok(Math.abs(m.strength - Math.min(1, Math.min(1, decayStrength(1, 3) + 0.05) + 0.05)) < 1e-6);
  });
});

test("secrets are redacted from the fix and the stored error sample", () => {
  withRegistry((reg) => {
    const token = "ghp_" + "a1B2c3D4e5F6g7H8i9J0".repeat(2).slice(0, 36);
    const r = reg.register({ error: `fatal: Authentication failed for 'https://x:${token}@github.com/a/b.git/'`, fix: `export GITHUB_TOKEN=${token} then retry`, context: "git" });
    const m = reg.lookupSignature(r.signature)!;
    assert.ok(!m.fix.includes(token), m.fix);
    assert.match(m.fix, /REDACTED/);
    for (const h of reg.history(r.signature)) assert.ok(!h.sample.includes(token) && !h.fix.includes(token));
  });
});

test("lookup: exact first, similar with a confidence, near misses not confident, unrelated nothing", () => {
  withRegistry((reg) => {
    const key = reg.register({ error: KEY_1, fix: "key fix", context: "python3" });
    const index = reg.register({ error: INDEX_1, fix: "index fix", context: "python3" });
    reg.register({ error: "Error: in prepare, no such table: users", fix: "table fix", context: "sqlite3" });
    reg.register({ error: "Error: in prepare, no such column: emial", fix: "column fix", context: "sqlite3" });

    const exact = reg.lookup(KEY_1.replace("/srv/a/settings.py", "/home/z/conf.py"), { context: "python3" });
    assert.equal(exact[0]?.signature, key.signature);
    assert.equal(exact[0]?.match, "exact");
    assert.equal(exact[0]?.score, 1);
    // without a context an identical template still matches exactly
    assert.equal(reg.lookup(KEY_1)[0]?.match, "exact");
    // the same template with another name is the same problem, but not exact: both names are shown
    const other = reg.lookup(KEY_2, { context: "python3" })[0]!;
    assert.deepEqual([other.signature, other.match], [key.signature, "similar"]);
    assert.ok(other.score > 0.8 && other.score < 1, String(other.score));
    assert.deepEqual(other.adaptation, { status: "generic", registered_names: ["database_url"], names: ["the"], registered_fix: "key fix" });

    const similar = reg.lookup(INDEX_2, { context: "python3" });
    assert.equal(similar[0]?.signature, index.signature);
    assert.equal(similar[0]?.match, "similar");
    assert.ok(similar[0]!.score > 0.5 && similar[0]!.score < 1);
    assert.ok(!similar.some((m) => m.signature === key.signature), "KeyError is not offered for an IndexError");

    // the other phrasing of a missing column goes to the column fix, not the table fix
    const col = reg.lookup("Parse error near line 4: table tasks has no column named due_date", { context: "sqlite3" });
    assert.equal(col[0]?.fix, "column fix");
    assert.equal(reg.lookup("Parse error near line 2: no such table: users", { context: "sqlite3" })[0]?.match, "exact");
    assert.equal(reg.lookup("Parse error near line 2: no such table: roles", { context: "sqlite3" })[0]?.match, "similar");

    assert.deepEqual(reg.lookup("ZeroDivisionError: division by zero"), []);
    assert.deepEqual(reg.lookup("everything went fine"), []);
    // a signature can be looked up as text
    assert.equal(reg.lookup(key.signature)[0]?.fix, "key fix");
  });
});

test("a near miss alone is not a confident match", () => {
  withRegistry((reg) => {
    reg.register({ error: "Error: in prepare, no such table: users", fix: "table fix", context: "sqlite3" });
    reg.register({ error: "src/a.ts(1,19): error TS7016: Could not find a declaration file for module 'x'. '/a/node_modules/x/index.js' implicitly has an 'any' type.", fix: "types", context: "tsc" });
    for (const m of reg.lookup("Error: in prepare, no such column: emial", { context: "sqlite3" })) assert.ok(m.score < TUNING.recallMin, `${m.fix} ${m.score}`);
    for (const m of reg.lookup("src/b.ts(8,36): error TS7006: Parameter 'socket' implicitly has an 'any' type.", { context: "tsc" })) assert.ok(m.score < TUNING.recallMin, `${m.fix} ${m.score}`);
  });
});

test("outcomes: success +0.05 capped, failure -0.10, candidate becomes active, unknown says how to find one", () => {
  withRegistry((reg) => {
    const r = reg.register({ error: INDEX_1, fix: "check len()", context: "python3", status: "candidate" });
    assert.equal(reg.lookupSignature(r.signature)?.status, "candidate");
    assert.equal(reg.lookupSignature(r.signature)?.strength, STRENGTH.initialCandidate);
    const s = reg.reportOutcome(r.signature, true);
    assert.deepEqual(s, { strength: 0.55, successes: 1, failures: 0, pruned: false });
    assert.equal(reg.lookupSignature(r.signature)?.status, "active");
    const f = reg.reportOutcome(r.signature, false);
    assert.deepEqual(f, { strength: 0.45, successes: 1, failures: 1, pruned: false });
    for (let i = 0; i < 20; i++) reg.reportOutcome(r.signature, true);
    assert.equal(reg.lookupSignature(r.signature)?.strength, 1);
    assert.throws(() => reg.reportOutcome("0123456789abcdef", true), (err: Error) => err instanceof FixNotFoundError && /recall/.test(err.message));
  });
});

test("failures prune a fix once its strength drops below 0.01", () => {
  withRegistry((reg) => {
    const r = reg.register({ error: INDEX_1, fix: "wrong fix", context: "python3" });
    let last = reg.reportOutcome(r.signature, false);
    for (let i = 0; i < 8; i++) last = reg.reportOutcome(r.signature, false);
    assert.equal(last.pruned, false);
    last = reg.reportOutcome(r.signature, false);
    assert.equal(last.pruned, true);
    assert.equal(last.failures, 10);
    assert.equal(reg.lookupSignature(r.signature), undefined);
    assert.deepEqual(reg.lookup(INDEX_2), []);
    assert.throws(() => reg.reportOutcome(r.signature, true), FixNotFoundError);
  });
});

test("lazy decay equals step-by-step decay, and an idle fix dies after 105 epochs", () => {
  withRegistry((reg, clock) => {
    const r = reg.register({ error: KEY_1, fix: "get()", context: "python3" });
    const start = clock.t;
    let stepwise = 1;
    for (let k = 1; k <= 104; k++) {
      stepwise = stepwise * 0.97 - 0.001;
      clock.t = start + k * DAY;
      if ([1, 2, 7, 30, 104].includes(k)) assert.ok(Math.abs(reg.lookupSignature(r.signature)!.strength - stepwise) < 1e-6, `epoch ${k}`);
    }
    assert.ok(Math.abs(decayStrength(1, 104) - stepwise) < 1e-12);
    // an outcome materializes the decayed strength, then decay continues from there
    const after = reg.reportOutcome(r.signature, true);
    stepwise += 0.05;
    assert.ok(Math.abs(after.strength - stepwise) < 1e-6);
    for (let k = 1; k <= 3; k++) stepwise = stepwise * 0.97 - 0.001;
    clock.t += 3 * DAY;
    assert.ok(Math.abs(reg.lookupSignature(r.signature)!.strength - stepwise) < 1e-6);
    // left alone it decays away: no longer returned, and reported as pruned
    clock.t += 200 * DAY;
    assert.equal(reg.lookupSignature(r.signature), undefined);
    assert.deepEqual(reg.lookup(KEY_2), []);
    assert.throws(() => reg.reportOutcome(r.signature, true), /decayed/);
    assert.equal(reg.size, 0);
  });
});

test("the untouched-entry lifetime matches experience-memory: 105 epochs", () => {
  let s = 1;
  let epochs = 0;
  while (s >= STRENGTH.prune) {
    s = s * 0.97 - 0.001;
    epochs++;
  }
  assert.equal(epochs, 105);
  assert.ok(decayStrength(1, 104) >= STRENGTH.prune && decayStrength(1, 105) < STRENGTH.prune);
});

test("re-registering a decayed fix starts it afresh", () => {
  withRegistry((reg, clock) => {
    const r = reg.register({ error: KEY_1, fix: "old", context: "python3" });
    clock.t += 300 * DAY;
    const again = reg.register({ error: KEY_2, fix: "new", context: "python3" });
    assert.deepEqual([again.signature, again.status], [r.signature, "created"]);
    assert.equal(reg.lookupSignature(r.signature)?.strength, 1);
  });
});

test("remove deletes a fix and its history", () => {
  withRegistry((reg, _clock, db) => {
    const r = reg.register({ error: KEY_1, fix: "get()", context: "python3" });
    assert.equal(reg.remove(r.signature), 1);
    assert.equal(reg.remove(r.signature), 0);
    assert.equal(reg.lookupSignature(r.signature), undefined);
    assert.equal((db.prepare("SELECT count(*) AS n FROM fix_history").get() as { n: number }).n, 0);
  });
});

test("structured signatures register, reinforce and look up by signature", () => {
  withRegistry((reg) => {
    const fields = { severity: "major", error_type: "removal", context: "containment_task", categories: ["spatial", "physical"] };
    const r = reg.register({ signatureFields: fields, fix: "add boundary" });
    assert.deepEqual([r.signature, r.status, r.error_type], ["0ff1da2e27bad55f", "created", "removal"]);
    assert.equal(reg.register({ signatureFields: { ...fields, categories: ["physical", "spatial"] }, fix: "add boundary" }).status, "reinforced");
    assert.equal(reg.lookupSignature("0ff1da2e27bad55f")?.fix, "add boundary");
  });
});

test("input errors are explained", () => {
  withRegistry((reg) => {
    assert.throws(() => reg.register({ fix: "x" }), /error|signature_fields/);
    assert.throws(() => reg.register({ error: KEY_1, fix: "   " }), /fix is empty/);
    assert.throws(() => reg.register({ error: "----\n====\n", fix: "x" }), /no text/);
  });
});

test("two registries on the same database file see each other's writes", () => {
  const { home, cleanup } = tempHome("xmcp-reg2-");
  const dbA = openDatabase(home);
  const dbB = openDatabase(home);
  try {
    // coherenceMs 0: every read asks SQLite whether another connection wrote
    const a = new FixRegistry(dbA, { coherenceMs: 0 });
    const b = new FixRegistry(dbB, { coherenceMs: 0 });
    const r = a.register({ error: KEY_1, fix: "from A", context: "python3" });
    assert.equal(b.lookup(KEY_2, { context: "python3" })[0]?.fix, "from A");
    b.register({ error: KEY_2, fix: "from B", context: "python3" });
    assert.equal(a.lookupSignature(r.signature)?.fix, "from B");
    b.reportOutcome(r.signature, false);
    assert.equal(a.lookupSignature(r.signature)?.failures, 1);
    const idx = b.register({ error: INDEX_1, fix: "len()", context: "python3" });
    assert.equal(a.lookup(INDEX_2)[0]?.signature, idx.signature);
    assert.equal(a.remove(r.signature), 1);
    assert.equal(b.lookupSignature(r.signature), undefined);
    assert.deepEqual(b.lookup(KEY_2), []);
    assert.equal(b.size, 1);
    // a third process starting later loads everything
    const c = new FixRegistry(dbA);
    assert.equal(c.lookupSignature(idx.signature)?.fix, "len()");
  } finally {
    dbA.close();
    dbB.close();
    cleanup();
  }
});

test("with the default coherence window a read is at most ~1 ms behind another process", () => {
  const { home, cleanup } = tempHome("xmcp-reg3-");
  const dbA = openDatabase(home);
  const dbB = openDatabase(home);
  try {
    const a = new FixRegistry(dbA);
    const b = new FixRegistry(dbB);
    const r = a.register({ error: KEY_1, fix: "from A", context: "python3" });
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    assert.equal(b.lookupSignature(r.signature)?.fix, "from A");
    a.remove(r.signature);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    assert.equal(b.lookupSignature(r.signature), undefined);
  } finally {
    dbA.close();
    dbB.close();
    cleanup();
  }
});

test("a registry loaded near one error type answers that type's errors as the full one does, confidently", () => {
  withRegistry((full, clock, db) => {
    for (const [i, c] of CASES.entries()) full.register({ error: c.output, fix: `fix ${i}`, context: c.tool });
    full.register({ error: KEY_1, fix: "key fix", context: "python3" });
    full.register({ error: INDEX_1, fix: "index fix", context: "python3" });
    full.register({ error: "make: *** [all] Error 2", fix: "generic fix" });
    const queries = [...CASES.map((c) => ({ error: c.output, context: c.tool })), { error: KEY_2, context: "python3" }, { error: INDEX_2, context: "python3" }];
    let specific = 0;
    for (const q of queries) {
      const near = new FixRegistry(db, { now: () => clock.t, nearErrorType: errorTypeOf(q.error) });
      const confident = (r: FixRegistry) => r.lookup(q.error, { context: q.context, limit: 3 }).filter((m) => m.match === "exact" || m.score >= 0.5);
      // The same fixes in the same order; the weights come from the fixes loaded (IDF), so the
      // scores may differ a little from the full registry's.
      const [a, b] = [confident(near), confident(full)];
      assert.deepEqual(a.map((m) => [m.signature, m.match]), b.map((m) => [m.signature, m.match]), q.error.slice(0, 80));
      a.forEach((m, i) => assert.ok(Math.abs(m.score - b[i]!.score) < 0.05, `${m.score} vs ${b[i]!.score}`));
      // What it leaves out are other specific types: at best weak matches in the full registry.
      const seen = new Set(near.lookup(q.error, { context: q.context, limit: 50 }).map((m) => m.signature));
      for (const m of full.lookup(q.error, { context: q.context, limit: 50 }).filter((x) => !seen.has(x.signature))) assert.ok(m.score < 0.5, `${m.error_type} ${m.score}`);
      const type = errorTypeOf(q.error);
      if (/^(error|fatal|exit \d+)$/.test(type)) assert.equal(near.size, full.size);
      else {
        assert.ok(near.size < full.size, `${near.size} of ${full.size} loaded for ${type}`);
        specific++;
      }
    }
    assert.ok(specific >= 10, `${specific} specific types`);
    // A one-shot registry (no postings, a scan) ranks exactly like the indexed one, weak matches too.
    const scan = new FixRegistry(db, { now: () => clock.t, oneShot: true });
    // Reworded and cut errors are similar (not exact) matches of the registered ones.
    const reworded = CASES.map((c) => ({ error: `${c.output.split("\n").slice(1).join("\n")}\nthe build stopped here`, context: c.tool }));
    const probes = [...queries, ...reworded, { error: "Error: in prepare, no such column: emial", context: "sqlite3" }, { error: "KeyError: 'x'\nIndexError: y", context: "python3" }];
    let similarSeen = 0;
    for (const q of probes) {
      const expected = full.lookup(q.error, { context: q.context, limit: 50 });
      assert.deepEqual(scan.lookup(q.error, { context: q.context, limit: 50 }), expected, q.error.slice(0, 80));
      similarSeen += expected.filter((m) => m.match === "similar").length;
    }
    assert.ok(similarSeen >= 5, `${similarSeen} similar matches compared`);
    // A generic type can match any type at 0.75 of the score: it loads everything.
    assert.equal(new FixRegistry(db, { nearErrorType: "error" }).size, full.size);
  });
});
