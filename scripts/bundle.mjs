#!/usr/bin/env node
// Bundles the server for a fast start (run after `tsc -p tsconfig.json`):
//   dist/cli.bundle.cjs  src/cli.ts and its dependencies in one CommonJS file (esbuild);
//   dist/cli.bundle.<hash>.cache V8 code cache of that file, made by one real start answering `initialize`;
//   dist/cli.js          a small launcher (replaces tsc's cli.js) that runs the bundle with the cache.
// Start -> `initialize` answered, p50 on a 2-core VM where `node -e 0` takes 75-90 ms: ~380-440 ms
// unbundled (the ESM loader resolving and loading hundreds of modules of the MCP SDK and zod),
// ~210-240 ms bundled, ~145-180 ms bundled and run with the code cache.
// External (loaded from node_modules at run time): better-sqlite3 (native addon), and typescript,
// simple-git and openai, which are loaded lazily on the paths that use them.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, isAbsolute, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
const bundle = join(dist, "cli.bundle.cjs");
const launcher = join(dist, "cli.js");

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

const built = await esbuild.build({
  write: false,
  entryPoints: [join(root, "src", "cli.ts")],
  outfile: bundle,
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  minify: true,
  legalComments: "eof",
  external: ["better-sqlite3", "typescript", "simple-git", "openai"],
  // import() of externals becomes require(): the launcher runs the bundle through vm.Script, which
  // has no ESM loader for import() (and all four externals ship CommonJS builds).
  supported: { "dynamic-import": false },
  banner: { js: 'var __xmcp_module_url = (p) => require("node:url").pathToFileURL(require("node:path").join(__dirname, p)).href;' },
  plugins: [zodSideEffects, importMetaUrl],
  logLevel: "warning",
});
const metaWarnings = built.warnings.filter((w) => w.text.includes("import.meta"));
if (metaWarnings.length > 0) throw new Error(`import.meta in a bundled module: ${metaWarnings.map((w) => w.location?.file).join(", ")}`);
// The launcher wraps the code in a function, where a hashbang line would be a syntax error.
const code = built.outputFiles[0].text.replace(/^#!.*\n/, "");
writeFileSync(bundle, code);
// V8 checks a code cache against the source's length only: name the cache after the content.
const hash = createHash("sha256").update(code).digest("hex").slice(0, 16);
const cache = join(dist, `cli.bundle.${hash}.cache`);
for (const f of readdirSync(dist)) if (/^cli\.bundle\.[0-9a-f]+\.cache$/.test(f)) unlinkSync(join(dist, f));

writeFileSync(
  launcher,
  `#!/usr/bin/env node
// Generated by scripts/bundle.mjs: runs cli.bundle.cjs with V8's code cache (cli.bundle.${hash}.cache), which
// skips most parsing and compiling at start. Without a usable cache (another Node version) the bundle
// is compiled as usual, and a fresh cache is written for the next start where dist/ is writable.
import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
const { readFileSync, writeFileSync, renameSync } = require("node:fs");
const { Script } = require("node:vm");
const file = require.resolve("./cli.bundle.cjs");
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
else if (!cachedData || script.cachedDataRejected) setTimeout(writeCache, 2000).unref();
const module = { exports: {} };
script.runInThisContext()(module.exports, createRequire(file), module, file, require("node:path").dirname(file));
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
