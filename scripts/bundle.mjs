#!/usr/bin/env node
// Bundles the server for a fast start (run after `tsc -p tsconfig.json`):
//   dist/cli.bundle.cjs  src/cli.ts and its dependencies in one CommonJS file (esbuild);
//   dist/cli.bundle.<hash>.cache V8 code cache of that file, made by one real start answering `initialize`;
//   dist/hook.bundle.cjs src/hooks/hook-main.ts: `experience-mcp hook` alone (no MCP SDK, no zod), with
//                        better-sqlite3's JavaScript bundled in; hook.bundle.<hash>.cache its code cache,
//                        made by hook processes run under the V8 flags install-hooks puts in the command;
//   dist/cjs/cli.js      the launcher, CommonJS (dist/cjs/package.json): runs the hook bundle for `hook`
//                        alone, else the CLI bundle, each with its cache; install-hooks writes
//                        `node --no-regexp-tier-up /abs/dist/cjs/cli.js hook`;
//   dist/cli.js          the bin (replaces tsc's cli.js), ESM like every .js here: requires cjs/cli.js.
// Hook, spawn -> exit, p50 with 100 fixes where `node -e 0` takes ~75 ms: ~155 ms through the CLI
// bundle, ~88-100 ms through the hook bundle and the CommonJS launcher (`npm run bench -- hook`).
// Start -> `initialize` answered, p50 on a 2-core VM where `node -e 0` takes 75-90 ms: ~380-440 ms
// unbundled (the ESM loader resolving and loading hundreds of modules of the MCP SDK and zod),
// ~210-240 ms bundled, ~145-180 ms bundled and run with the code cache.
// External (loaded from node_modules at run time): better-sqlite3 (native addon), and typescript,
// simple-git, openai, node-pty and ws, which are loaded lazily on the paths that use them.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, isAbsolute, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
const launcher = join(dist, "cli.js");
// The same launcher in CommonJS, which install-hooks puts in the hook command (see below).
const cjsLauncher = join(dist, "cjs", "cli.js");

// esbuild wraps every module reachable from an import() in a lazy __esm() initialiser (the bundle
// has no code splitting). zod's package.json lists only compile.js under "sideEffects", so esbuild
// drops zod's pure re-export barrels (zod/v4/index.js, zod/v4/classic/index.js) and with them the
// init_*() call they carry: the SDK's types.js then runs z.custom() before zod's classes exist
// ("Class2 is not a constructor"; evanw/esbuild#1490, #3357). Marking zod's files as having side
// effects keeps ESM evaluation order.
const zodSideEffects = {
  name: "zod-side-effects",
  setup(build) {
    build.onResolve({ filter: /.*/ }, async (args) => {
      if (args.pluginData?.zodSideEffects) return undefined;
      if (!/^zod(\/|$)/.test(args.path) && !/[\\/]node_modules[\\/]zod[\\/]/.test(args.importer)) return undefined;
      const r = await build.resolve(args.path, {
        kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: { zodSideEffects: true },
      });
      if (r.errors.length > 0) return { errors: r.errors };
      return { ...r, sideEffects: true };
    });
  },
};

// A CommonJS bundle has no import.meta. Each of our modules gets, as import.meta.url, the URL of its
// tsc output in dist/ (dist/cli.bundle.cjs sits in dist/ too), so that paths relative to it resolve as
// unbundled: ../package.json, createRequire(...)("better-sqlite3"), ../cli.js (the launcher).
const srcDir = join(root, "src");
const importMetaUrl = {
  name: "import-meta-url",
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, async (args) => {
      const rel = relative(srcDir, args.path);
      if (rel.startsWith("..") || isAbsolute(rel)) return undefined;
      const source = await readFile(args.path, "utf8");
      if (!source.includes("import.meta")) return undefined;
      const js = rel.split(sep).join("/").replace(/\.ts$/, ".js");
      const contents = source.replaceAll("import.meta.url", `__xmcp_module_url(${JSON.stringify(js)})`);
      if (contents.includes("import.meta")) return { errors: [{ text: `${rel}: only import.meta.url is supported in the bundle` }] };
      return { contents, loader: "ts" };
    });
  },
};

// node-pty (a native addon) and ws serve only the viewer (`ui`), which is imported when used.
const external = ["better-sqlite3", "typescript", "simple-git", "openai", "node-pty", "ws"];

/** Bundle one entry to dist/<name>.bundle.cjs; returns the content hash that names its code cache. */
async function bundleEntry(entry, name, { forbidden = [], external: externals = external, define } = {}) {
  const out = join(dist, `${name}.bundle.cjs`);
  const built = await esbuild.build({
    write: false,
    entryPoints: [entry],
    outfile: out,
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    minify: true,
    legalComments: "eof",
    external: externals,
    define,
    // import() of externals becomes require(): the launcher runs the bundle through vm.Script, which
    // has no ESM loader for import() (and all four externals ship CommonJS builds).
    supported: { "dynamic-import": false },
    banner: { js: 'var __xmcp_module_url = (p) => require("node:url").pathToFileURL(require("node:path").join(__dirname, p)).href;' },
    plugins: [zodSideEffects, importMetaUrl],
    metafile: true,
    logLevel: "warning",
  });
  const metaWarnings = built.warnings.filter((w) => w.text.includes("import.meta"));
  if (metaWarnings.length > 0) throw new Error(`import.meta in a bundled module: ${metaWarnings.map((w) => w.location?.file).join(", ")}`);
  const inputs = Object.keys(built.metafile.inputs);
  const bad = inputs.filter((f) => forbidden.some((re) => re.test(f)));
  if (bad.length > 0) throw new Error(`${name}.bundle.cjs must not contain ${bad.slice(0, 5).join(", ")}`);
  // The launcher wraps the code in a function, where a hashbang line would be a syntax error.
  const code = built.outputFiles.find((f) => f.path.endsWith(".cjs")).text.replace(/^#!.*\n/, "");
  writeFileSync(out, code);
  // V8 checks a code cache against the source's length only: name the cache after the content.
  const hash = createHash("sha256").update(code).digest("hex").slice(0, 16);
  const stale = new RegExp(`^${name}\\.bundle\\.[0-9a-f]+\\.cache$`);
  for (const f of readdirSync(dist)) if (stale.test(f)) unlinkSync(join(dist, f));
  return hash;
}

/**
 * The statements that run dist/<name>.bundle.cjs with V8's code cache, which skips most parsing and
 * compiling at start; `require` must be in scope. Without a usable cache (another Node version) the
 * bundle is compiled as usual, and a fresh cache is written where dist/ is writable: `onExit` at
 * exit (the hook lives a few ms), else after 2 s of running (the server).
 */
function runBundle(name, hash, { onExit = false, flags, dir = "." } = {}) {
  return `{
  const { readFileSync, writeFileSync, renameSync } = require("node:fs");
  const { Script } = require("node:vm");
  const file = require.resolve("${dir}/${name}.bundle.cjs");
  const cacheFile = file.replace(/\\.cjs$/, ".${hash}.cache");
  const source = readFileSync(file, "utf8");
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {}
  const script = new Script(\`(function (exports, require, module, __filename, __dirname) {\${source}\\n})\`, { filename: file, cachedData });
  const writeCache = () => {
    try {
      const tmp = \`\${cacheFile}.\${process.pid}.tmp\`;
      writeFileSync(tmp, script.createCachedData());
      renameSync(tmp, cacheFile);
    } catch {}
  };
  if (process.env.EXPERIENCE_MCP_WRITE_CODE_CACHE === "1") process.on("exit", writeCache);
  else if (!cachedData || (script.cachedDataRejected${flags ? ` && process.execArgv.join(" ") === ${JSON.stringify(flags.join(" "))}` : ""})) ${onExit ? 'process.on("exit", writeCache)' : "setTimeout(writeCache, 2000).unref()"};
  const bundle = { exports: {} };
  script.runInThisContext()(bundle.exports, require("node:module").createRequire(file), bundle, file, require("node:path").dirname(file));
}`;
}

const cliHash = await bundleEntry(join(root, "src", "cli.ts"), "cli");
// The hook starts once per tool call: its bundle holds the hook and what it uses, nothing else.
// better-sqlite3's JavaScript is bundled in too (hook-main.ts uses it with the installed addon when
// the installed version is this one); `bindings`, which it requires only without an addon path, is not.
const sqliteVersion = JSON.parse(await readFile(join(dirname(createRequire(import.meta.url).resolve("better-sqlite3")), "..", "package.json"), "utf8")).version;
const hookHash = await bundleEntry(join(root, "src", "hooks", "hook-main.ts"), "hook", {
  forbidden: [
    /node_modules[\\/](?:@modelcontextprotocol|zod|yaml|openai|simple-git|typescript|ws|node-pty|@xterm|asciinema-player)[\\/]/,
    /src[\\/](?:server|services|transport|tools|train|tmux|harness|harvest|viewer)[\\/.]/,
  ],
  external: ["bindings", ...external.filter((e) => e !== "better-sqlite3")],
  define: { __XMCP_BETTER_SQLITE3_VERSION__: JSON.stringify(sqliteVersion) },
});
const hash = cliHash;
// The V8 flags install-hooks runs the hook with (HOOK_NODE_FLAGS in src/hooks/install.ts).
const HOOK_NODE_FLAGS = ["--no-regexp-tier-up"];
const cache = join(dist, `cli.bundle.${hash}.cache`);
const hookCache = join(dist, `hook.bundle.${hookHash}.cache`);

// dist/cjs/cli.js: the launcher in CommonJS (dist/cjs/package.json says so), which Node starts
// without its ESM loader: ~10 ms less than an ESM entry such as dist/cli.js. install-hooks writes
// `node --no-regexp-tier-up /abs/dist/cjs/cli.js hook`. \`hook\` alone runs the small hook bundle
// instead of the server's.
mkdirSync(dirname(cjsLauncher), { recursive: true });
writeFileSync(join(dirname(cjsLauncher), "package.json"), `${JSON.stringify({ type: "commonjs" })}\n`);
writeFileSync(
  cjsLauncher,
  `#!/usr/bin/env node
"use strict";
// Generated by scripts/bundle.mjs. \`hook\` alone (Claude Code starts it once per tool call, event JSON on
// stdin, answer on stdout) runs hook.bundle.cjs with its code cache (hook.bundle.${hookHash}.cache);
// anything else runs cli.bundle.cjs with its code cache (cli.bundle.${hash}.cache).
// The hook's cache is made under the flags install-hooks puts in the command (HOOK_NODE_FLAGS in
// src/hooks/install.ts); a start under other flags, which V8 makes reject it, does not replace it.
if (process.argv[2] === "hook" && process.argv.length === 3) ${runBundle("hook", hookHash, { onExit: true, flags: HOOK_NODE_FLAGS, dir: ".." })}
else ${runBundle("cli", hash, { dir: ".." })}
`,
);
chmodSync(cjsLauncher, 0o755);

// dist/cli.js (the package's bin) is ESM, as package.json's "type" makes every .js here.
writeFileSync(
  launcher,
  `#!/usr/bin/env node
// Generated by scripts/bundle.mjs: runs cjs/cli.js, the launcher of the bundles (cli.bundle.cjs, and
// hook.bundle.cjs for \`hook\`).
import { createRequire } from "node:module";
createRequire(import.meta.url)("./cjs/cli.js");
`,
);
chmodSync(launcher, 0o755);
if (existsSync(`${launcher}.map`)) unlinkSync(`${launcher}.map`);

// The code cache: one real start that answers `initialize`, so that the functions compiled on that
// path are in the cache too. V8 rejects the cache under another V8 version or other V8 flags.
const home = mkdtempSync(join(tmpdir(), "xmcp-bundle-"));
// NODE_OPTIONS (e.g. --inspect, coverage) would change V8's flags and make the cache unusable later.
const { NODE_OPTIONS: _nodeOptions, ...env } = process.env;
try {
  await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [launcher], {
      env: { ...env, EXPERIENCE_MCP_HOME: home, EXPERIENCE_MCP_WRITE_CODE_CACHE: "1", EXPERIENCE_MCP_LOG: "error" },
      stdio: ["pipe", "pipe", "inherit"],
    });
    let out = "";
    const timer = setTimeout(() => { child.kill(); reject(new Error("bundled server did not answer initialize in 20 s")); }, 20_000);
    child.stdout.on("data", (d) => {
      out += d;
      if (out.includes("\n")) {
        if (!out.includes('"result"')) { child.kill(); reject(new Error(`bundled server answered: ${out.slice(0, 500)}`)); return; }
        child.stdin.end();
      }
    });
    child.on("error", reject);
    child.on("exit", (code) => {
      clearTimeout(timer);
      if (code === 0 && existsSync(cache)) resolve();
      else reject(new Error(`bundled server exited with ${code}, no code cache`));
    });
    child.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "bundle", version: "1" } } })}\n`);
  });
} finally {
  rmSync(home, { recursive: true, force: true });
}

// The hook's code cache: a failure is met, fixed and met again in a fresh data directory, one hook
// process per event as Claude Code runs them; the last one (a failure answered with the learned fix)
// writes the cache, with the functions of the lookup path compiled. It doubles as a check that the
// hook bundle works.
const hookHome = mkdtempSync(join(tmpdir(), "xmcp-bundle-hook-"));
try {
  const runHook = (event, extraEnv = {}) =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [...HOOK_NODE_FLAGS, cjsLauncher, "hook"], {
        env: { ...env, EXPERIENCE_MCP_HOME: hookHome, EXPERIENCE_MCP_LOG: "error", ...extraEnv },
        stdio: ["pipe", "pipe", "inherit"],
      });
      let out = "";
      const timer = setTimeout(() => { child.kill(); reject(new Error("the hook bundle did not answer in 20 s")); }, 20_000);
      child.stdout.on("data", (d) => (out += d));
      child.on("error", reject);
      child.on("exit", (code) => {
        clearTimeout(timer);
        if (code === 0) resolve(out);
        else reject(new Error(`the hook bundle exited with ${code}`));
      });
      child.stdin.end(JSON.stringify({ session_id: "bundle", cwd: hookHome, transcript_path: "/dev/null", ...event }));
    });
  const error = "Exit code 2\nsrc/a.ts(1,7): error TS2322: Type 'string' is not assignable to type 'number'.";
  const failed = { hook_event_name: "PostToolUseFailure", tool_name: "Bash", tool_input: { command: "npx tsc --noEmit" }, error };
  const ran = (command) => ({ hook_event_name: "PostToolUse", tool_name: "Bash", tool_input: { command }, tool_response: { stdout: "", stderr: "" } });
  await runHook({ hook_event_name: "SessionStart", source: "startup" });
  await runHook(failed);
  await runHook(ran("sed -i s/x/y/ src/a.ts"));
  await runHook(ran("npx tsc --noEmit"));
  const answer = await runHook({ ...failed, session_id: "bundle-2" }, { EXPERIENCE_MCP_WRITE_CODE_CACHE: "1" });
  if (!answer.includes("sed -i s/x/y/ src/a.ts")) throw new Error(`the hook bundle did not answer with the learned fix: ${answer.slice(0, 500)}`);
  if (!existsSync(hookCache)) throw new Error("the hook bundle wrote no code cache");
} finally {
  rmSync(hookHome, { recursive: true, force: true });
}

// When this build finished: `npm start` (scripts/build-if-stale.mjs) rebuilds only for newer sources.
writeFileSync(join(dist, ".build-stamp"), `${new Date().toISOString()}\n`);
