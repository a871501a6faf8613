#!/usr/bin/env node
// Builds eval/errors/corpus.jsonl: real error outputs of real tools, run here on small broken inputs.
//
//   node scripts/gen-error-corpus.mjs [--out eval/errors/corpus.jsonl] [--only <class-prefix>]
//
// Every instance runs in its own directory under a temp root shaped like a user's checkout
// (<root>/home/alice/billing-service); the temp root is cut from the output, so paths read as they
// would on a developer's machine. Classes whose tool is missing here are skipped (and reported);
// the committed JSONL is what tests and eval read, so they do not need every tool installed.
// Fields are those of ../shared/eval/errors-dev.jsonl: class, instance, tool, command, output
// (≤ 2000 chars), exit_code, fix, near_miss_of.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const outFile = resolve(repoRoot, args[args.indexOf("--out") + 1] && args.includes("--out") ? args[args.indexOf("--out") + 1] : "eval/errors/corpus.jsonl");
const only = args.includes("--only") ? args[args.indexOf("--only") + 1] : undefined;
const TSC = join(repoRoot, "node_modules/.bin/tsc");

// Where instance i of a class runs: different users, top directories and project names.
const PLACES = [
  ["home/alice/billing-service", "home/bob/photo-gallery", "var/lib/jenkins/ws/etl-jobs"],
  ["srv/app/chat-server", "home/carol/src/report-gen", "opt/build/clients/acme-cli"],
  ["home/dave/work/inventory", "builds/runner/42/data-import", "home/erin/projects/weather-bot"],
  ["home/frank/code/ledger", "var/tmp/ci/pipeline-7/api-gateway", "home/grace/dev/notes-app"],
];

/** One class: `run(p)` returns the files to write and the shell command; `fix` may use p. */
const classes = [];
function def(cls, tool, near, fix, instances, run) {
  classes.push({ cls, tool, near, fix, instances, run });
}

// ------------------------------------------------------------------------------------------ tsc
const tsc = (file) => `${TSC} --noEmit --strict --target es2020 --module commonjs ${file}`;
def("ts2307-relative-module", "tsc", "ts2307-package-module", "The relative import points at a file that does not exist: correct the path (or create the module).",
  [{ f: "src/invoice.ts", m: "./utils/money" }, { f: "lib/album.ts", m: "../models/photo" }, { f: "app/flags.ts", m: "./parsers/cli-args" }],
  (p) => ({ files: { [p.f]: `import { x } from "${p.m}";\nexport const y = x;\n` }, cmd: tsc(p.f) }));
def("ts2307-package-module", "tsc", "ts2307-relative-module", (p) => `Install the package and its types: npm install ${p.m}`,
  [{ f: "src/format.ts", m: "lodash" }, { f: "lib/server.ts", m: "express" }, { f: "app/colors.ts", m: "chalk" }],
  (p) => ({ files: { [p.f]: `import x from "${p.m}";\nexport const y = x;\n` }, cmd: tsc(p.f) }));
def("ts2304-cannot-find-name", "tsc", null, "Declare or import the name before using it (check its spelling).",
  [{ f: "src/a.ts", n: "totalAmount" }, { f: "lib/b.ts", n: "currentUser" }, { f: "app/c.ts", n: "retryCount" }],
  (p) => ({ files: { [p.f]: `export const z = ${p.n} + 1;\n` }, cmd: tsc(p.f) }));
def("ts2339-property-missing", "tsc", "ts2551-property-misspelled", "Add the property to the type (interface/class) or narrow the value to a type that has it.",
  [{ f: "src/user.ts", t: "User", k: "email" }, { f: "lib/order.ts", t: "Order", k: "discount" }, { f: "app/cfg.ts", t: "Config", k: "timeout" }],
  (p) => ({ files: { [p.f]: `interface ${p.t} { id: number }\nexport function f(v: ${p.t}) { return v.${p.k}; }\n` }, cmd: tsc(p.f) }));
def("ts2551-property-misspelled", "tsc", "ts2339-property-missing", "A typo: use the property name tsc suggests (\"Did you mean …?\").",
  [{ f: "src/user.ts", t: "User", k: "lastName", bad: "lastname" }, { f: "lib/order.ts", t: "Order", k: "quantity", bad: "quantiy" }, { f: "app/cfg.ts", t: "Config", k: "baseUrl", bad: "baseURL" }],
  (p) => ({ files: { [p.f]: `interface ${p.t} { ${p.k}: string }\nexport function f(v: ${p.t}) { return v.${p.bad}; }\n` }, cmd: tsc(p.f) }));
def("ts2345-argument-type", "tsc", null, "Pass an argument of the parameter's type (convert it) or widen the parameter type.",
  [{ f: "src/a.ts", fn: "charge", v: '"12"' }, { f: "lib/b.ts", fn: "resize", v: '"wide"' }, { f: "app/c.ts", fn: "retry", v: "true" }],
  (p) => ({ files: { [p.f]: `function ${p.fn}(n: number) { return n; }\nexport const r = ${p.fn}(${p.v});\n` }, cmd: tsc(p.f) }));
def("ts2554-argument-count", "tsc", null, "Call the function with the number of arguments its signature declares.",
  [{ f: "src/a.ts", fn: "sum" }, { f: "lib/b.ts", fn: "connect" }, { f: "app/c.ts", fn: "render" }],
  (p) => ({ files: { [p.f]: `function ${p.fn}(a: number, b: number) { return a + b; }\nexport const r = ${p.fn}(1);\n` }, cmd: tsc(p.f) }));
def("ts18048-possibly-undefined", "tsc", null, "Handle the undefined case first (if/??/optional chaining) before using the value.",
  [{ f: "src/a.ts", v: "price" }, { f: "lib/b.ts", v: "width" }, { f: "app/c.ts", v: "limit" }],
  (p) => ({ files: { [p.f]: `export function f(${p.v}?: number) { return ${p.v} * 2; }\n` }, cmd: tsc(p.f) }));
def("ts1005-expected-token", "tsc", null, "Syntax error: add the missing token at the position shown (a ')' or ',' or ';').",
  [{ f: "src/a.ts", n: "total" }, { f: "lib/b.ts", n: "count" }, { f: "app/c.ts", n: "ratio" }],
  (p) => ({ files: { [p.f]: `export const ${p.n} = Math.max(1, 2;\n` }, cmd: tsc(p.f) }));
def("ts2305-no-exported-member", "tsc", null, "The module does not export that name: import an exported one or export it from the module.",
  [{ f: "src/a.ts", m: "money", n: "formatCents" }, { f: "lib/b.ts", m: "geometry", n: "scaleBox" }, { f: "app/c.ts", m: "flags", n: "parseFlag" }],
  (p) => ({ files: { [p.f]: `import { ${p.n} } from "./${p.m}";\nexport const y = ${p.n};\n`, [join(dirname(p.f), `${p.m}.ts`)]: "export const other = 1;\n" }, cmd: tsc(p.f) }));

// ----------------------------------------------------------------------------------------- node
def("node-module-not-found-package", "node", "node-module-not-found-relative", (p) => `Install the dependency: npm install ${p.m}`,
  [{ f: "index.js", m: "left-pad" }, { f: "server.js", m: "chalk" }, { f: "bin/cli.js", m: "dayjs" }],
  (p) => ({ files: { [p.f]: `const m = require("${p.m}");\nconsole.log(m);\n` }, cmd: `node ${p.f}` }));
def("node-module-not-found-relative", "node", "node-module-not-found-package", "The relative require points at a missing file: fix the path (relative to the requiring file) or create it.",
  [{ f: "index.js", m: "./config/settings" }, { f: "server.js", m: "./lib/routes" }, { f: "bin/cli.js", m: "../src/commands" }],
  (p) => ({ files: { [p.f]: `const m = require("${p.m}");\nconsole.log(m);\n` }, cmd: `node ${p.f}` }));
def("node-enoent-open", "node", "node-enoent-mkdir", "The file to read does not exist: check the path (relative to the working directory) or create the file first.",
  [{ f: "index.js", path: "data/input.csv" }, { f: "load.js", path: "config/app.json" }, { f: "bin/run.js", path: "fixtures/users.yaml" }],
  (p) => ({ files: { [p.f]: `const fs = require("fs");\nconsole.log(fs.readFileSync("${p.path}", "utf8"));\n` }, cmd: `node ${p.f}` }));
def("node-enoent-mkdir", "node", "node-enoent-open", "The parent directory does not exist: create it with fs.mkdirSync(dir, { recursive: true }).",
  [{ f: "index.js", path: "out/reports/2024" }, { f: "build.js", path: "dist/assets/img" }, { f: "bin/run.js", path: "cache/a/b" }],
  (p) => ({ files: { [p.f]: `const fs = require("fs");\nfs.mkdirSync("${p.path}");\n` }, cmd: `node ${p.f}` }));
def("node-eisdir-read", "node", null, "The path is a directory, not a file: read a file inside it (or use readdirSync).",
  [{ f: "index.js", d: "data" }, { f: "load.js", d: "config" }, { f: "bin/run.js", d: "templates" }],
  (p) => ({ files: { [p.f]: `const fs = require("fs");\nfs.readFileSync("${p.d}");\n`, [`${p.d}/.keep`]: "" }, cmd: `node ${p.f}` }));
def("node-eaddrinuse", "node", null, "The port is taken: stop the process that holds it (lsof -i :PORT) or listen on another port.",
  [{ f: "server.js", port: 38211 }, { f: "app.js", port: 39417 }, { f: "bin/serve.js", port: 40123 }],
  (p) => ({ files: { [p.f]: `const http = require("http");\nconst a = http.createServer().listen(${p.port}, () => {\n  http.createServer().listen(${p.port});\n  setTimeout(() => a.close(), 200);\n});\n` }, cmd: `node ${p.f}` }));
def("node-typeerror-not-a-function", "node", null, "The value called is not a function: check the import (default vs named export) and the name.",
  [{ f: "index.js", o: "utils", n: "formatDate" }, { f: "server.js", o: "db", n: "connectPool" }, { f: "bin/cli.js", o: "api", n: "fetchAll" }],
  (p) => ({ files: { [p.f]: `const ${p.o} = {};\n${p.o}.${p.n}();\n` }, cmd: `node ${p.f}` }));
def("node-typeerror-read-undefined", "node", null, "A value is undefined where an object was expected: check where it comes from, or guard with optional chaining.",
  [{ f: "index.js", o: "user", k: "profile", j: "name" }, { f: "server.js", o: "req", k: "session", j: "id" }, { f: "bin/cli.js", o: "cfg", k: "options", j: "verbose" },
    // Rewording (issue 10): a null value says "of null".
    { f: "app.js", o: "order", k: "customer", j: "email", v: `{ customer: null }` }],
  (p) => ({ files: { [p.f]: `const ${p.o} = ${p.v ?? "{}"};\nconsole.log(${p.o}.${p.k}.${p.j});\n` }, cmd: `node ${p.f}` }));
def("node-referenceerror-not-defined", "node", null, "The variable is not declared in scope: declare it (const/let) or import it.",
  [{ f: "index.js", n: "total" }, { f: "server.js", n: "port" }, { f: "bin/cli.js", n: "argv" }],
  (p) => ({ files: { [p.f]: `console.log(${p.n} + 1);\n` }, cmd: `node ${p.f}` }));
def("node-esm-import-in-commonjs", "node", "node-require-in-esm", 'The file uses import but is loaded as CommonJS: set "type": "module" in package.json or rename it to .mjs.',
  [{ f: "index.js", m: "fs" }, { f: "server.js", m: "path" }, { f: "bin/cli.js", m: "os" }],
  (p) => ({ files: { [p.f]: `import ${p.m} from "${p.m}";\nconsole.log(${p.m});\n`, "package.json": '{ "type": "commonjs" }\n' }, cmd: `node ${p.f}` }));
def("node-require-in-esm", "node", "node-esm-import-in-commonjs", "require is not available in an ES module: use import (or createRequire), or rename the file to .cjs.",
  [{ f: "index.mjs", m: "fs" }, { f: "server.mjs", m: "path" }, { f: "bin/cli.mjs", m: "os" }],
  (p) => ({ files: { [p.f]: `const ${p.m} = require("${p.m}");\nconsole.log(${p.m});\n` }, cmd: `node ${p.f}` }));
def("node-json-parse", "node", null, "The JSON text is malformed: fix the file (trailing comma, quotes) or check what was actually fetched.",
  [{ f: "index.js", j: "{\\\"a\\\": 1,}" }, { f: "load.js", j: "{name: 1}" }, { f: "bin/run.js", j: "[1, 2,, 3]" },
    // Rewording (issue 10): empty input says "Unexpected end of JSON input".
    { f: "fetch.js", j: "" }],
  (p) => ({ files: { [p.f]: `JSON.parse("${p.j}");\n` }, cmd: `node ${p.f}` }));
def("node-throw-bare-error", "node", null, "An Error was thrown without a message: find the throw site from the stack and give it a message / handle the case.",
  [{ f: "index.js", fn: "validateInvoice" }, { f: "server.js", fn: "checkSession" }, { f: "bin/cli.js", fn: "parseArgs" }],
  (p) => ({ files: { [p.f]: `function ${p.fn}() {\n  throw new Error();\n}\n${p.fn}();\n` }, cmd: `node ${p.f}` }));

// -------------------------------------------------------------------------------------- python
const py = (f) => `python3 -S ${f}`;
def("py-module-not-found-library", "python", "py-module-not-found-project", (p) => `Install the package into the active environment: pip install ${p.pkg}`,
  [{ f: "main.py", m: "requests", pkg: "requests" }, { f: "app/cli.py", m: "numpy", pkg: "numpy" }, { f: "tools/report.py", m: "flask", pkg: "flask" }],
  (p) => ({ files: { [p.f]: `import ${p.m}\nprint(${p.m})\n` }, cmd: py(p.f) }));
def("py-module-not-found-project", "python", "py-module-not-found-library", "The project's own package is not on sys.path: run from the project root with python -m, or set PYTHONPATH to it.",
  [{ f: "scripts/run.py", m: "billing.models" }, { f: "tools/sync.py", m: "gallery.storage" }, { f: "bin/etl.py", m: "etl_jobs.transform" }],
  (p) => ({ files: { [p.f]: `from ${p.m} import thing\nprint(thing)\n` }, cmd: py(p.f) }));
def("py-file-not-found-open", "python", "py-file-not-found-mkdir", "The file to open does not exist: check the path (relative to the working directory) or create it first.",
  [{ f: "main.py", path: "data/input.csv" }, { f: "app/load.py", path: "config/settings.toml" }, { f: "tools/run.py", path: "fixtures/users.json" }],
  (p) => ({ files: { [p.f]: `with open("${p.path}") as fh:\n    print(fh.read())\n` }, cmd: py(p.f) }));
def("py-file-not-found-mkdir", "python", "py-file-not-found-open", "The parent directory does not exist: use os.makedirs(path, exist_ok=True) (or Path.mkdir(parents=True)).",
  [{ f: "main.py", path: "out/reports/2024" }, { f: "app/build.py", path: "dist/assets/img" }, { f: "tools/run.py", path: "cache/a/b" }],
  (p) => ({ files: { [p.f]: `import os\nos.mkdir("${p.path}")\n` }, cmd: py(p.f) }));
def("py-keyerror", "python", null, "The dict has no such key: check the key (spelling, source data) or use .get() with a default.",
  [{ f: "main.py", d: "config", k: "database_url" }, { f: "app/cli.py", d: "row", k: "customer_id" }, { f: "tools/run.py", d: "env", k: "API_TOKEN" }],
  (p) => ({ files: { [p.f]: `${p.d} = {}\nprint(${p.d}["${p.k}"])\n` }, cmd: py(p.f) }));
def("py-attributeerror-nonetype", "python", null, "The value is None: the call that produced it returned nothing; check it before use.",
  [{ f: "main.py", v: "user", a: "email" }, { f: "app/cli.py", v: "match", a: "group" }, { f: "tools/run.py", v: "conn", a: "cursor" }],
  (p) => ({ files: { [p.f]: `${p.v} = None\nprint(${p.v}.${p.a})\n` }, cmd: py(p.f) }));
def("py-typeerror-str-int-concat", "python", null, "A str and an int are combined: convert one (str(n) or int(s)) first.",
  [{ f: "main.py", v: "count" }, { f: "app/cli.py", v: "total" }, { f: "tools/run.py", v: "port" }],
  (p) => ({ files: { [p.f]: `${p.v} = 3\nprint("value: " + ${p.v})\n` }, cmd: py(p.f) }));
def("py-indentation-error", "python", null, "Indent the block under the statement ending in ':' (4 spaces, no mixed tabs).",
  [{ f: "main.py", fn: "load" }, { f: "app/cli.py", fn: "run" }, { f: "tools/run.py", fn: "sync" }],
  (p) => ({ files: { [p.f]: `def ${p.fn}():\nreturn 1\n` }, cmd: py(p.f) }));
def("py-nameerror", "python", null, "The name is not defined: define or import it before use (check spelling).",
  [{ f: "main.py", n: "total_amount" }, { f: "app/cli.py", n: "argparser" }, { f: "tools/run.py", n: "session" }],
  (p) => ({ files: { [p.f]: `print(${p.n})\n` }, cmd: py(p.f) }));
def("py-importerror-cannot-import-name", "python", null, "The module has no such name: import a name it defines (check spelling / version).",
  [{ f: "main.py", m: "os", n: "walkdir" }, { f: "app/cli.py", m: "json", n: "parse" }, { f: "tools/run.py", m: "collections", n: "OrderedSet" }],
  (p) => ({ files: { [p.f]: `from ${p.m} import ${p.n}\n` }, cmd: py(p.f) }));
def("py-assertion-bare", "python", "py-notimplemented-bare", "An assert without a message failed: read the asserted condition at the failing line and fix the data or the code.",
  [{ f: "main.py", c: "len(rows) > 0", pre: "rows = []" }, { f: "app/check.py", c: "port < 1024", pre: "port = 8080" }, { f: "tools/run.py", c: "name.isupper()", pre: "name = 'x'" }],
  (p) => ({ files: { [p.f]: `${p.pre}\nassert ${p.c}\n` }, cmd: py(p.f) }));
def("py-notimplemented-bare", "python", "py-assertion-bare", "A base-class method was called: implement the method in the subclass (it raises NotImplementedError).",
  [{ f: "main.py", c: "Exporter", m: "export" }, { f: "app/store.py", c: "Storage", m: "save" }, { f: "tools/run.py", c: "Handler", m: "handle" }],
  (p) => ({ files: { [p.f]: `class ${p.c}:\n    def ${p.m}(self):\n        raise NotImplementedError\n\n${p.c}().${p.m}()\n` }, cmd: py(p.f) }));
def("py-zerodivision", "python", null, "A division by zero: guard the denominator (empty list, zero count) before dividing.",
  [{ f: "main.py", a: "total", b: "count" }, { f: "app/cli.py", a: "size", b: "pages" }, { f: "tools/run.py", a: "hits", b: "runs" },
    // Rewordings (issue 10): python names the operation, so one problem has several messages.
    { f: "stats.py", a: "done", b: "total", op: "//" }, { f: "app/paging.py", a: "items", b: "per_page", op: "%" }, { f: "tools/ratio.py", a: "ok", b: "seen", op: "%", av: "1.5" }],
  (p) => ({ files: { [p.f]: `${p.a} = ${p.av ?? 10}\n${p.b} = 0\nprint(${p.a} ${p.op ?? "/"} ${p.b})\n` }, cmd: py(p.f) }));
def("py-json-decode", "python", null, "The text is not valid JSON (often empty or HTML): check what was read before json.loads.",
  [{ f: "main.py", s: "" }, { f: "app/cli.py", s: "<html>" }, { f: "tools/run.py", s: "{'a': 1}" }],
  (p) => ({ files: { [p.f]: `import json\nprint(json.loads(${JSON.stringify(p.s)}))\n` }, cmd: py(p.f) }));
def("py-valueerror-int-parse", "python", null, "int() got text that is not a number: strip/validate the input before converting.",
  [{ f: "main.py", s: "12a" }, { f: "app/cli.py", s: "eight" }, { f: "tools/run.py", s: "3.5" }],
  (p) => ({ files: { [p.f]: `print(int("${p.s}"))\n` }, cmd: py(p.f) }));
def("py-recursion-error", "python", null, "Infinite recursion: add or fix the base case of the recursive function.",
  [{ f: "main.py", fn: "walk" }, { f: "app/tree.py", fn: "depth" }, { f: "tools/run.py", fn: "resolve" }],
  (p) => ({ files: { [p.f]: `def ${p.fn}(n):\n    return ${p.fn}(n + 1)\n\n${p.fn}(0)\n` }, cmd: py(p.f) }));
def("py-unicode-decode", "python", null, "The file is not UTF-8 text: open it in binary mode ('rb') or with the right encoding.",
  [{ f: "main.py", d: "logo.png" }, { f: "app/cli.py", d: "data.bin" }, { f: "tools/run.py", d: "archive.gz" }],
  (p) => ({ files: { [p.f]: `import sys\nopen("${p.d}", "wb").write(bytes([0x89, 0xff, 0xfe, 0x00]))\nprint(open("${p.d}", encoding="utf-8").read())\n` }, cmd: py(p.f) }));

// ---------------------------------------------------------------------------------------- bash
def("bash-command-not-installed", "bash", null, (p) => `Install the program: apt-get install -y ${p.pkg}`,
  [{ c: "rg", pkg: "ripgrep", a: "TODO src" }, { c: "fd", pkg: "fd-find", a: "-e ts" }, { c: "tree", pkg: "tree", a: "-L 2" },
    // Rewordings (issue 10): dash (/bin/sh here) prints "sh: 1: tree: not found".
    { c: "tree", pkg: "tree", a: "-d", sh: "sh" }, { c: "fzf", pkg: "fzf", a: "--version", sh: "sh" }],
  (p) => ({ files: { "run.sh": `#!/bin/bash\n${p.c} ${p.a}\n` }, cmd: `${p.sh ?? "bash"} run.sh` }));
def("bash-script-not-executable", "bash", "bash-script-bad-interpreter", "The script lacks the execute bit: chmod +x it (or run it with bash).",
  [{ s: "deploy.sh" }, { s: "scripts/build.sh" }, { s: "bin/release" }],
  (p) => ({ files: { [p.s]: "#!/bin/sh\necho ok\n" }, mode: { [p.s]: 0o644 }, cmd: `bash -c ./${p.s}` }));
def("bash-script-bad-interpreter", "bash", "bash-script-not-executable", "The script has Windows line endings (CRLF): convert it with dos2unix or sed -i 's/\\r$//'.",
  [{ s: "deploy.sh" }, { s: "scripts/build.sh" }, { s: "bin/release" }],
  (p) => ({ files: { [p.s]: "#!/bin/bash\r\necho ok\r\n" }, mode: { [p.s]: 0o755 }, cmd: `bash -c ./${p.s}` }));
def("bash-unbound-variable", "bash", null, "set -u: the variable is unset; set it, or use ${VAR:-default}.",
  [{ v: "DEPLOY_ENV" }, { v: "BUILD_DIR" }, { v: "api_token" }],
  (p) => ({ files: { "run.sh": `set -u\necho "$${p.v}"\n` }, cmd: "bash run.sh" }));
def("bash-syntax-unexpected-token", "bash", null, "Shell syntax error: close the if/for/case block (fi/done/esac) or fix the quoting before the token shown.",
  [{ v: "count", s: "run.sh", pre: "" }, { v: "name", s: "deploy.sh", pre: "set -e\n" }, { v: "dir", s: "ci/build.sh", pre: "# build\nset -eu\n" }],
  (p) => ({ files: { [p.s]: `${p.pre}for ${p.v} in a b; do\n  echo $${p.v}\nfi\n` }, cmd: `bash ${p.s}` }));
def("bash-cd-no-such-dir", "bash", "coreutils-mkdir-missing-parent", "The directory does not exist: check the path or create it first.",
  [{ d: "build/output" }, { d: "deploy/staging" }, { d: "../shared/assets" }],
  (p) => ({ files: { "run.sh": `set -e\ncd ${p.d}\n` }, cmd: "bash run.sh" }));
def("coreutils-mkdir-missing-parent", "bash", "coreutils-cp-missing-source", "The parent directory is missing: use mkdir -p.",
  [{ d: "out/reports/2024" }, { d: "dist/assets/img" }, { d: "cache/a/b" }],
  (p) => ({ files: {}, cmd: `mkdir ${p.d}` }));
def("coreutils-cp-missing-source", "bash", "coreutils-mkdir-missing-parent", "The source file does not exist: check its name and the working directory.",
  [{ s: "config.example.yml", d: "config.yml" }, { s: ".env.sample", d: ".env" }, { s: "templates/base.html", d: "out.html" }],
  (p) => ({ files: {}, cmd: `cp ${p.s} ${p.d}` }));
def("coreutils-rm-is-directory", "bash", "coreutils-cp-omitting-directory", "It is a directory: rm -r it.",
  [{ d: "build" }, { d: "node_modules" }, { d: "tmp/cache" }],
  (p) => ({ files: { [`${p.d}/x`]: "" }, cmd: `rm ${p.d}` }));
def("coreutils-cp-omitting-directory", "bash", "coreutils-rm-is-directory", "It is a directory: copy it with cp -r.",
  [{ d: "assets", t: "public" }, { d: "config", t: "backup" }, { d: "src/templates", t: "dist" }],
  (p) => ({ files: { [`${p.d}/x`]: "" }, cmd: `cp ${p.d} ${p.t}` }));

// ----------------------------------------------------------------------------------------- gcc
const cc = (files, extra = "") => `gcc -Wall -o app ${files}${extra}`;
def("gcc-implicit-declaration", "gcc", null, "Include the header that declares the function (e.g. #include <string.h>), or declare it before use.",
  [{ f: "main.c", fn: "strlen", arg: '"abc"' }, { f: "src/util.c", fn: "atoi", arg: '"12"' }, { f: "lib/io.c", fn: "sqrt", arg: "2.0" }],
  (p) => ({ files: { [p.f]: `int main(void) { return (int)${p.fn}(${p.arg}); }\n` }, cmd: `gcc -Werror=implicit-function-declaration -c ${p.f}` }));
def("gcc-undefined-reference-library", "gcc", "gcc-undefined-reference-project", "The symbol lives in a system library that is not linked: add its -l flag (e.g. -lm for math, -lpthread).",
  [{ f: "main.c", fn: "cos", h: "math.h" }, { f: "src/calc.c", fn: "pow", h: "math.h" }, { f: "lib/geo.c", fn: "atan2", h: "math.h" }],
  (p) => ({ files: { [p.f]: `#include <${p.h}>\n#include <stdio.h>\nint main(int c, char **v) { printf("%f\\n", ${p.fn}((double)c${p.fn === "atan2" ? ", 1.0" : p.fn === "pow" ? ", 2.0" : ""})); return 0; }\n` }, cmd: cc(p.f) }));
def("gcc-undefined-reference-project", "gcc", "gcc-undefined-reference-library", "The project's function is declared but its .c file is not compiled/linked: add that source file to the build.",
  [{ f: "main.c", fn: "compute_total" }, { f: "src/app.c", fn: "load_config" }, { f: "lib/run.c", fn: "parse_args" }],
  (p) => ({ files: { [p.f]: `int ${p.fn}(int);\nint main(void) { return ${p.fn}(1); }\n` }, cmd: cc(p.f) }));
def("gcc-missing-system-header", "gcc", "gcc-missing-project-header", (p) => `Install the library's development package: apt-get install -y ${p.pkg}`,
  [{ f: "main.c", h: "pcre.h", pkg: "libpcre3-dev" }, { f: "src/net.c", h: "curl/curl.h", pkg: "libcurl4-openssl-dev" }, { f: "lib/db.c", h: "libpq-fe.h", pkg: "libpq-dev" }],
  (p) => ({ files: { [p.f]: `#include <${p.h}>\nint main(void) { return 0; }\n` }, cmd: `gcc -c ${p.f}` }));
def("gcc-missing-project-header", "gcc", "gcc-missing-system-header", "The project's header is not on the include path: add -I for its directory (or fix the relative #include path).",
  [{ f: "main.c", h: "config.h" }, { f: "src/net.c", h: "net/socket_util.h" }, { f: "lib/db.c", h: "internal/db_types.h" }],
  (p) => ({ files: { [p.f]: `#include "${p.h}"\nint main(void) { return 0; }\n` }, cmd: `gcc -c ${p.f}` }));
def("gcc-expected-semicolon", "gcc", null, "Add the missing ';' at the end of the previous statement.",
  [{ f: "main.c", v: "total" }, { f: "src/util.c", v: "count" }, { f: "lib/io.c", v: "size" }],
  (p) => ({ files: { [p.f]: `int main(void) {\n  int ${p.v} = 1\n  return ${p.v};\n}\n` }, cmd: `gcc -c ${p.f}` }));
def("gcc-undeclared-identifier", "gcc", null, "The identifier is not declared in this scope: declare it (or fix the spelling).",
  [{ f: "main.c", v: "buffer_len" }, { f: "src/util.c", v: "max_items" }, { f: "lib/io.c", v: "retries" }],
  (p) => ({ files: { [p.f]: `int main(void) {\n  return ${p.v};\n}\n` }, cmd: `gcc -c ${p.f}` }));
def("gcc-conflicting-types", "gcc", null, "The function is declared twice with different signatures: make the prototype and the definition agree.",
  [{ f: "main.c", fn: "area" }, { f: "src/util.c", fn: "checksum" }, { f: "lib/io.c", fn: "read_block" }],
  (p) => ({ files: { [p.f]: `int ${p.fn}(int a);\nlong ${p.fn}(int a) { return a; }\n` }, cmd: `gcc -c ${p.f}` }));

// ---------------------------------------------------------------------------------------- make
def("make-missing-separator", "make", null, "Makefile recipe lines must start with a TAB, not spaces.",
  [{ t: "all", f: "Makefile", pre: "" }, { t: "build", f: "build.mk", pre: "CC = gcc\n" }, { t: "test", f: "mk/test.mk", pre: "# tests\nPY = python3\n\n" },
    // Rewording (issue 10): with 8 spaces make adds "(did you mean TAB instead of 8 spaces?)".
    { t: "dist", f: "Makefile", pre: "", indent: 8 }, { t: "lint", f: "ci.mk", pre: "SRC = src\n", indent: 8 }],
  (p) => ({ files: { [p.f]: `${p.pre}${p.t}:\n${" ".repeat(p.indent ?? 4)}echo building\n` }, cmd: `make -f ${p.f} ${p.t}` }));
def("make-no-rule-for-target", "make", "make-no-rule-for-prerequisite", "No such target: check the target name (make -qp | grep '^[a-z]' lists them).",
  [{ t: "instal" }, { t: "biuld" }, { t: "deploy-prod" }],
  (p) => ({ files: { Makefile: "all:\n\techo ok\ninstall:\n\techo ok\nbuild:\n\techo ok\n" }, cmd: `make ${p.t}` }));
def("make-no-rule-for-prerequisite", "make", "make-no-rule-for-target", "A prerequisite file is missing: create it or fix its path in the rule.",
  [{ o: "app", src: "src/main.c" }, { o: "server", src: "lib/net.c" }, { o: "tool", src: "cmd/tool.c" }],
  (p) => ({ files: { Makefile: `${p.o}: ${p.src}\n\tcc -o $@ $<\n` }, cmd: "make" }));
def("make-recipe-command-missing", "make", null, "A program the recipe runs is not installed (or misspelled): install it or fix the recipe.",
  [{ c: "protoc-gen-lint" }, { c: "asciidoctor" }, { c: "sassc" }],
  (p) => ({ files: { Makefile: `all:\n\t${p.c} --version\n` }, cmd: "make" }));

// -------------------------------------------------------------------------------------- sqlite
const sq = (db, sql) => `sqlite3 ${db} ${JSON.stringify(sql)}`;
def("sqlite-no-such-table", "sqlite", "sqlite-no-such-column", "The table does not exist: run the migration that creates it, or fix the table name.",
  [{ db: "app.db", t: "invoices" }, { db: "data/shop.sqlite", t: "orders" }, { db: "var/cache.db", t: "sessions" }],
  (p) => ({ files: {}, cmd: sq(p.db, `CREATE TABLE IF NOT EXISTS other(id); SELECT * FROM ${p.t};`), pre: `mkdir -p $(dirname ${p.db})` }));
def("sqlite-no-such-column", "sqlite", "sqlite-no-such-table", "The column does not exist in that table: add it with ALTER TABLE … ADD COLUMN (a migration) or fix the name.",
  [{ db: "app.db", t: "invoices", c: "due_date" }, { db: "data/shop.sqlite", t: "orders", c: "shipped_at" }, { db: "var/cache.db", t: "sessions", c: "expires" },
    // Rewordings (issue 10): an INSERT says "table T has no column named C".
    { db: "tasks.db", t: "tasks", c: "due_at", insert: true }, { db: "data/crm.sqlite", t: "contacts", c: "phone", insert: true }],
  (p) => ({ files: {}, cmd: sq(p.db, `CREATE TABLE ${p.t}(id INTEGER); ${p.insert ? `INSERT INTO ${p.t}(${p.c}) VALUES (1)` : `SELECT ${p.c} FROM ${p.t}`};`), pre: `mkdir -p $(dirname ${p.db})` }));
def("sqlite-unique-constraint", "sqlite", "sqlite-notnull-constraint", "A row with that key exists: update it (INSERT … ON CONFLICT DO UPDATE) or use another key.",
  [{ db: "app.db", t: "users", c: "email" }, { db: "data/shop.sqlite", t: "products", c: "sku" }, { db: "var/cache.db", t: "tokens", c: "value" }],
  (p) => ({ files: {}, cmd: sq(p.db, `CREATE TABLE ${p.t}(${p.c} TEXT UNIQUE); INSERT INTO ${p.t} VALUES('a'); INSERT INTO ${p.t} VALUES('a');`), pre: `mkdir -p $(dirname ${p.db})` }));
def("sqlite-notnull-constraint", "sqlite", "sqlite-unique-constraint", "A required column got NULL: supply a value for it (or give the column a DEFAULT).",
  [{ db: "app.db", t: "users", c: "email" }, { db: "data/shop.sqlite", t: "products", c: "sku" }, { db: "var/cache.db", t: "tokens", c: "value" }],
  (p) => ({ files: {}, cmd: sq(p.db, `CREATE TABLE ${p.t}(id INTEGER, ${p.c} TEXT NOT NULL); INSERT INTO ${p.t}(id) VALUES(1);`), pre: `mkdir -p $(dirname ${p.db})` }));
def("sqlite-syntax-error", "sqlite", null, "SQL syntax error near the token shown: fix the statement (missing comma, reserved word, stray keyword).",
  [{ db: "app.db", t: "users" }, { db: "data/shop.sqlite", t: "orders" }, { db: "var/cache.db", t: "items" }],
  (p) => ({ files: {}, cmd: sq(p.db, `SELEC * FROM ${p.t};`), pre: `mkdir -p $(dirname ${p.db})` }));
def("sqlite-table-exists", "sqlite", null, "The table exists already: use CREATE TABLE IF NOT EXISTS, or make the migration run once.",
  [{ db: "app.db", t: "users" }, { db: "data/shop.sqlite", t: "orders" }, { db: "var/cache.db", t: "items" }],
  (p) => ({ files: {}, cmd: sq(p.db, `CREATE TABLE ${p.t}(id); CREATE TABLE ${p.t}(id);`), pre: `mkdir -p $(dirname ${p.db})` }));

// ----------------------------------------------------------------------------------------- git
const gitInit = "git init -q -b main . && git -c user.name=dev -c user.email=dev@example.com commit -q --allow-empty -m init";
def("git-not-a-repository", "git", null, "Not inside a git repository: cd into the checkout (or git init / git clone first).",
  [{ c: "status", d: "" }, { c: "log --oneline", d: "--git-dir=repo/.git " }, { c: "rev-parse HEAD", d: "--git-dir=/srv/checkout/.git " }],
  (p) => ({ files: {}, cmd: `GIT_CEILING_DIRECTORIES=$(dirname $PWD) git ${p.d}${p.c}` }));
def("git-pathspec-no-match", "git", null, "No branch or file by that name: list branches (git branch -a), fetch, or fix the name.",
  [{ b: "feature/login" }, { b: "release-2.1" }, { b: "hotfix_payments" },
    // Rewordings (issue 10): git add and git rm say "fatal: pathspec 'x' did not match any files".
    { b: "docs/setup.md", op: "add" }, { b: "src/legacy.c", op: "rm" }],
  (p) => ({ files: {}, pre: gitInit, cmd: `git ${p.op ?? "checkout"} ${p.b}` }));
def("git-branch-exists", "git", "git-tag-exists", "The branch exists: switch to it (git switch NAME) or pick another name.",
  [{ b: "feature/login" }, { b: "release-2.1" }, { b: "hotfix_payments" }],
  (p) => ({ files: {}, pre: `${gitInit} && git branch ${p.b}`, cmd: `git branch ${p.b}` }));
def("git-tag-exists", "git", "git-branch-exists", "The tag exists: pick a new version number, or move it deliberately with git tag -f.",
  [{ b: "v1.0.0" }, { b: "release-2.1" }, { b: "v3.4-rc1" }],
  (p) => ({ files: {}, pre: `${gitInit} && git tag ${p.b}`, cmd: `git tag ${p.b}` }));
def("git-no-such-remote", "git", null, "No remote by that name: add it (git remote add origin URL) or use an existing one (git remote -v).",
  [{ r: "origin" }, { r: "upstream" }, { r: "deploy" }],
  (p) => ({ files: {}, pre: gitInit, cmd: `git push ${p.r} main` }));
def("git-unknown-revision", "git", null, "The revision does not exist here: fetch it, or check the commit/branch name.",
  [{ r: "release-9" }, { r: "origin/develop" }, { r: "v2.0.0" }],
  (p) => ({ files: {}, pre: gitInit, cmd: `git log ${p.r}` }));
def("git-merge-conflict", "git", null, "Resolve the conflict markers in the files listed, git add them, then git commit.",
  [{ f: "README.md" }, { f: "src/config.js" }, { f: "setup.py" }],
  (p) => ({ files: {}, pre: `${gitInit} && mkdir -p $(dirname ${p.f}) && echo a > ${p.f} && git add . && git -c user.name=d -c user.email=d@e.x commit -qm a && git checkout -qb other && echo b > ${p.f} && git -c user.name=d -c user.email=d@e.x commit -qam b && git checkout -q main && echo c > ${p.f} && git -c user.name=d -c user.email=d@e.x commit -qam c`, cmd: "git -c user.name=d -c user.email=d@e.x merge other" }));

// ---------------------------------------------------------------------------------------- perl
def("perl-module-missing-library", "perl", "perl-module-missing-project", (p) => `Install the CPAN module: cpanm ${p.m}`,
  [{ f: "script.pl", m: "JSON::XS" }, { f: "bin/report.pl", m: "Text::CSV_XS" }, { f: "tools/sync.pl", m: "DBD::Pg" }],
  (p) => ({ files: { [p.f]: `use strict;\nuse ${p.m};\nprint "ok\\n";\n` }, cmd: `perl ${p.f}` }));
def("perl-module-missing-project", "perl", "perl-module-missing-library", "The project's own module is not on @INC: add use lib 'lib' (or perl -Ilib).",
  [{ f: "script.pl", m: "Billing::Invoice" }, { f: "bin/report.pl", m: "Gallery::Album" }, { f: "tools/sync.pl", m: "Etl::Jobs" }],
  (p) => ({ files: { [p.f]: `use strict;\nuse ${p.m};\nprint "ok\\n";\n`, [`lib/${p.m.replace(/::/g, "/")}.pm`]: "package X; 1;\n" }, cmd: `perl ${p.f}` }));
def("perl-global-symbol", "perl", null, "use strict: declare the variable with my (or fix its name).",
  [{ f: "script.pl", v: "total" }, { f: "bin/report.pl", v: "count" }, { f: "tools/sync.pl", v: "rows" }],
  (p) => ({ files: { [p.f]: `use strict;\n$${p.v} = 1;\n` }, cmd: `perl ${p.f}` }));

// --------------------------------------------------------------------------------------- rustc
def("rust-e0425-unresolved-name", "rustc", null, "The name is not in scope: declare it, or import it with use.",
  [{ f: "main.rs", v: "total" }, { f: "src/bin.rs", v: "config" }, { f: "app.rs", v: "retries" }],
  (p) => ({ files: { [p.f]: `fn main() {\n    println!("{}", ${p.v});\n}\n` }, cmd: `rustc --edition 2021 --out-dir target ${p.f}` }));
def("rust-e0308-mismatched-types", "rustc", null, "Make the value's type match the expected type (convert it or change the annotation).",
  [{ f: "main.rs", v: "total" }, { f: "src/bin.rs", v: "config" }, { f: "app.rs", v: "retries" }],
  (p) => ({ files: { [p.f]: `fn main() {\n    let ${p.v}: u32 = "seven";\n    println!("{}", ${p.v});\n}\n` }, cmd: `rustc --edition 2021 --out-dir target ${p.f}` }));
def("rust-e0432-unresolved-crate", "rustc", "rust-e0432-unresolved-module", (p) => `Add the crate to Cargo.toml: cargo add ${p.c}`,
  [{ f: "main.rs", c: "serde" }, { f: "src/bin.rs", c: "regex" }, { f: "app.rs", c: "tokio" }],
  (p) => ({ files: { [p.f]: `use ${p.c}::Thing;\nfn main() {}\n` }, cmd: `rustc --edition 2021 --out-dir target ${p.f}` }));
def("rust-e0432-unresolved-module", "rustc", "rust-e0432-unresolved-crate", "The crate's own module is not declared: add `mod NAME;` in main.rs/lib.rs (or fix the crate:: path).",
  [{ f: "main.rs", c: "crate::utils" }, { f: "src/bin.rs", c: "crate::config" }, { f: "app.rs", c: "crate::handlers" }],
  (p) => ({ files: { [p.f]: `use ${p.c}::Thing;\nfn main() {}\n` }, cmd: `rustc --edition 2021 --out-dir target ${p.f}` }));
def("rust-e0382-use-after-move", "rustc", null, "The value was moved: clone it, borrow it (&), or restructure so it is used once.",
  [{ f: "main.rs", v: "names" }, { f: "src/bin.rs", v: "config" }, { f: "app.rs", v: "buffer" }],
  (p) => ({ files: { [p.f]: `fn take(_v: Vec<u8>) {}\nfn main() {\n    let ${p.v} = vec![1u8];\n    take(${p.v});\n    take(${p.v});\n}\n` }, cmd: `rustc --edition 2021 --out-dir target ${p.f}` }));

// ---------------------------------------------------------------------------------------- java
def("javac-cannot-find-symbol", "javac", null, "The symbol is not declared or imported: declare it, add the import, or fix the spelling.",
  [{ c: "Invoice", v: "totalAmount" }, { c: "Album", v: "photoCount" }, { c: "Flags", v: "verbose" }],
  (p) => ({ files: { [`${p.c}.java`]: `public class ${p.c} {\n  int f() { return ${p.v}; }\n}\n` }, cmd: `javac ${p.c}.java` }));
def("javac-public-class-file-name", "javac", null, "A public class must be in a file of the same name: rename the file or the class.",
  [{ c: "Invoice", f: "Billing" }, { c: "Album", f: "Photos" }, { c: "Flags", f: "Cli" }],
  (p) => ({ files: { [`${p.f}.java`]: `public class ${p.c} {}\n` }, cmd: `javac ${p.f}.java` }));
def("javac-missing-return", "javac", null, "A non-void method can end without returning: return a value on every path.",
  [{ c: "Invoice", m: "total" }, { c: "Album", m: "count" }, { c: "Flags", m: "level" }],
  (p) => ({ files: { [`${p.c}.java`]: `public class ${p.c} {\n  int ${p.m}(int x) { if (x > 0) return 1; }\n}\n` }, cmd: `javac ${p.c}.java` }));

// ------------------------------------------------------------------------------------------ jq
def("jq-cannot-index", "jq", null, "The filter indexes a value of the wrong type: check the JSON's shape (e.g. .[] before .field).",
  [{ j: '["a"]', q: ".name" }, { j: '"x"', q: ".id" }, { j: "[1,2]", q: ".items" }],
  (p) => ({ files: { "in.json": p.j }, cmd: `jq '${p.q}' in.json` }));
def("jq-parse-error", "jq", null, "The input is not valid JSON: fix it (trailing comma, unquoted key) or check what produced it.",
  [{ j: '{"a": 1,}' }, { j: "{name: 2}" }, { j: "[1 2]" }],
  (p) => ({ files: { "in.json": p.j }, cmd: "jq . in.json" }));

// node, added last (a class in the middle would move every later class to other places).
// Issue 10: the same template as a missing package, but the bare name is the project's own file
// (require("config") for ./config.js): a near miss told apart only by the name's origin.
def("node-module-not-found-project-bare", "node", "node-module-not-found-package", (p) => `The project's own file is required by a bare name, which node looks up in node_modules: put ./ before ${p.m} in the require`,
  [{ f: "index.js", m: "config" }, { f: "server.js", m: "routes" }, { f: "bin/cli.js", m: "helpers" }],
  (p) => ({ files: { [p.f]: `const m = require("${p.m}");\nconsole.log(m);\n`, [join(dirname(p.f), `${p.m}.js`)]: "module.exports = {};\n" }, cmd: `node ${p.f}` }));

// ------------------------------------------------------------------------------------------ run
const root = mkdtempSync(join(tmpdir(), "errgen-"));
const lines = [];
const skipped = [];
const rotate = (k) => PLACES[k % PLACES.length];
classes.forEach((c, k) => {
  if (only && !c.cls.startsWith(only)) return;
  c.instances.forEach((p, i) => {
    // Instances past the third (rewordings) run in the next class's places.
    const where = rotate(k + Math.floor(i / 3))[i % 3];
    // Each class and instance gets its own tree: no leftovers from another class.
    const top = join(root, String(k));
    const dir = join(top, where);
    mkdirSync(dir, { recursive: true });
    const spec = c.run(p);
    for (const [f, text] of Object.entries(spec.files)) {
      mkdirSync(dirname(join(dir, f)), { recursive: true });
      writeFileSync(join(dir, f), text);
    }
    for (const [f, mode] of Object.entries(spec.mode ?? {})) chmodSync(join(dir, f), mode);
    if (spec.pre) {
      const r = spawnSync("bash", ["-c", spec.pre], { cwd: dir, encoding: "utf8", env: gitEnv() });
      if (r.status !== 0) throw new Error(`${c.cls}#${i + 1}: setup failed: ${r.stderr}`);
    }
    const r = spawnSync("bash", ["-c", `${spec.cmd} 2>&1`], { cwd: dir, encoding: "utf8", env: gitEnv(), timeout: 60_000 });
    const output = (r.stdout ?? "").split(top).join("");
    if (r.status === 0 || /command not found/.test(output) && c.tool !== "bash" && c.tool !== "make") {
      skipped.push(`${c.cls}#${i + 1} (exit ${r.status}): ${output.slice(0, 200)}`);
      return;
    }
    const shown = spec.cmd.split(TSC).join("npx tsc").split(top).join("");
    lines.push(JSON.stringify({
      class: c.cls,
      instance: i + 1,
      tool: c.tool,
      command: `cd /${where} && ${shown}`,
      output: output.length > 2000 ? output.slice(0, 2000) : output,
      exit_code: r.status,
      fix: typeof c.fix === "function" ? c.fix(p) : c.fix,
      near_miss_of: c.near,
      trimmed: output.length > 2000,
    }));
  });
});
rmSync(root, { recursive: true, force: true });

function gitEnv() {
  // No user configuration leaks in: the same outputs on every machine.
  return { ...process.env, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null", LC_ALL: "C", NO_COLOR: "1", PYTHONDONTWRITEBYTECODE: "1" };
}

mkdirSync(dirname(outFile), { recursive: true });
writeFileSync(outFile, lines.join("\n") + "\n");
const tools = new Set(classes.map((c) => c.tool));
const pairs = new Set(classes.filter((c) => c.near).map((c) => [c.cls, c.near].sort().join(" | "))).size;
process.stdout.write(`${lines.length} instances of ${new Set(lines.map((l) => JSON.parse(l).class)).size} classes, ${tools.size} tools, ${pairs} near-miss pairs → ${outFile}\n`);
for (const s of skipped) process.stdout.write(`skipped ${s}\n`);
