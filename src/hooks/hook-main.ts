/**
 * The entry of dist/hook.bundle.cjs: `experience-mcp hook` alone, without the rest of the CLI (the
 * MCP SDK, zod, the tool handlers), so that the process Claude Code starts once per tool call loads
 * a small bundle. The launcher dist/cjs/cli.js (also loaded by the bin dist/cli.js) runs it for
 * `hook`; src/cli.ts keeps a `hook` command too, for the unbundled build.
 */
import Database from "better-sqlite3";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { useSqliteDriver } from "../storage/db.js";
import { writeStderr } from "../log.js";
import { isOutputGone } from "../shutdown.js";
import { hookCommand } from "./hook.js";

/** Set by scripts/bundle.mjs to the better-sqlite3 version bundled; undefined unbundled. */
declare const __XMCP_BETTER_SQLITE3_VERSION__: string | undefined;

// Whatever goes wrong, the agent's turn goes on: log to stderr, exit 0, never write to stdout.
const ignore = (err: unknown) => {
  if (isOutputGone(err)) return; // our reader is gone: writing about it would fail again
  writeStderr(`[experience-mcp] hook: ignored an internal error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 0;
};
// No process guards here: signals keep their default action (a hook Claude Code gave up on ends at
// once), the answer is written to fd 1 directly (never through the stdout stream, whose creation
// alone loads net and the stream modules: ~5 ms), and writeStderr watches stderr itself when an
// error has to be told.
process.on("uncaughtException", ignore);
process.on("unhandledRejection", ignore);

/**
 * Use the bundled copy of better-sqlite3's JavaScript with the installed addon, when the installed
 * package is the version that was bundled and its addon is where its install puts it; otherwise
 * (another version installed since the build, an addon elsewhere) db.ts requires the package.
 */
function useBundledSqlite(): void {
  if (typeof __XMCP_BETTER_SQLITE3_VERSION__ === "undefined") return;
  try {
    const pkg = createRequire(import.meta.url).resolve("better-sqlite3/package.json");
    const { version } = JSON.parse(readFileSync(pkg, "utf8")) as { version?: unknown };
    const addon = join(dirname(pkg), "build", "Release", "better_sqlite3.node");
    if (version === __XMCP_BETTER_SQLITE3_VERSION__ && existsSync(addon)) useSqliteDriver(Database, addon);
  } catch {
    // not resolvable from here: db.ts reports it when it opens the database
  }
}

useBundledSqlite();
hookCommand(process.argv.slice(3)).then((code) => {
  process.exitCode = code;
}, ignore);
