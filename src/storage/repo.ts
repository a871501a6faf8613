/**
 * The repository a working directory belongs to, as the absolute path of git's *common* dir: every
 * worktree of one repository shares it, so what one worktree learned serves the others.
 *
 * Read from the files git itself reads (a `.git` directory, or a `.git` file naming the worktree's
 * gitdir, whose `commondir` points at the shared one): the hook runs once per tool call and a git
 * process costs more than the rest of its work. When GIT_DIR/GIT_COMMON_DIR redirect git, or the
 * layout is not one we know, `git rev-parse --git-common-dir` answers (argv, no shell).
 */
import { existsSync, readFileSync, realpathSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, isAbsolute, join, resolve } from "node:path";

const cache = new Map<string, string>();

/** "" outside a git repository (or without git). Cached per cwd for the life of the process. */
export function repoOf(cwd: string | undefined): string {
  if (!cwd) return "";
  const hit = cache.get(cwd);
  if (hit !== undefined) return hit;
  let repo: string;
  try {
    repo = process.env.GIT_DIR || process.env.GIT_COMMON_DIR ? fromGit(cwd) : (fromFiles(cwd) ?? fromGit(cwd));
  } catch {
    repo = "";
  }
  cache.set(cwd, repo);
  return repo;
}

/** undefined: not sure, ask git. "": no repository above cwd. */
function fromFiles(cwd: string): string | undefined {
  if (!existsSync(cwd)) return "";
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    const dotGit = join(dir, ".git");
    if (existsSync(dotGit)) {
      if (statSync(dotGit).isDirectory()) return realpathSync(dotGit);
      const m = /^gitdir:\s*(.+?)\s*$/m.exec(readFileSync(dotGit, "utf8"));
      if (!m) return undefined;
      const gitdir = resolve(dir, m[1]!);
      const commondir = join(gitdir, "commondir");
      // A linked worktree names its shared dir in commondir; a submodule's gitdir is its own.
      return realpathSync(existsSync(commondir) ? resolve(gitdir, readFileSync(commondir, "utf8").trim()) : gitdir);
    }
    if (dirname(dir) === dir) return "";
  }
}

function fromGit(cwd: string): string {
  // Required here, not imported: the hook rarely needs git, and node:child_process costs it ms to load.
  const { execFileSync } = createRequire(import.meta.url)("node:child_process") as typeof import("node:child_process");
  const out = execFileSync("git", ["rev-parse", "--git-common-dir"], {
    cwd,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "ignore"],
    timeout: 2000,
  }).trim();
  return out ? realpathSync(isAbsolute(out) ? out : resolve(cwd, out)) : "";
}
