#!/usr/bin/env node
// `npm start` runs this first: it rebuilds only when a source is newer than the last build, so a
// start costs ~0.1 s instead of a full build (~6 s) every time.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const STAMP = join(ROOT, "dist", ".build-stamp");
const INPUTS = ["src", "scripts/bundle.mjs", "tsconfig.json", "package.json", "package-lock.json"];

function newest(path) {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let max = st.mtimeMs;
  for (const name of readdirSync(path)) max = Math.max(max, newest(join(path, name)));
  return max;
}

const built = existsSync(STAMP) && existsSync(join(ROOT, "dist", "cjs", "cli.js")) ? statSync(STAMP).mtimeMs : 0;
const changed = Math.max(...INPUTS.map((p) => newest(join(ROOT, p))));
if (changed > built) {
  process.stderr.write("experience-mcp: sources changed since the last build; building…\n");
  // The build writes the stamp (scripts/bundle.mjs), so `npm install`'s build counts too.
  const r = spawnSync("npm", ["run", "build", "--silent"], { cwd: ROOT, stdio: ["ignore", 2, 2] });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
