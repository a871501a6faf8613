/** Small, dependency-free readings of a shell command line, for matching a retry to its failure. */

const WRAPPERS = new Set(["npx", "sudo", "env", "time", "exec", "nice", "command", "pnpm", "yarn", "bunx"]);

/** The segment of `cd X && … && cmd` that does the work: the last one that is not a cd. */
function mainSegment(command: string): string {
  const parts = command.split(/&&|;|\|\|/).map((p) => p.trim()).filter(Boolean);
  for (let i = parts.length - 1; i >= 0; i--) {
    const p = parts[i]!;
    if (!/^(?:cd|pushd)\s/.test(p)) return p;
  }
  return parts[parts.length - 1] ?? command.trim();
}

function words(segment: string): string[] {
  const out: string[] = [];
  for (const w of segment.split(/\s+/)) {
    if (!w) continue;
    if (out.length === 0 && (/^[A-Za-z_][A-Za-z0-9_]*=/.test(w) || WRAPPERS.has(w))) continue;
    out.push(w);
  }
  return out;
}

/** The program a command runs (`cd app && npx tsc --noEmit` → "tsc"; `./deploy/up.sh` → "bash"). */
export function programOf(command: string): string {
  const first = words(mainSegment(command))[0] ?? "";
  const base = first.replace(/^.*\//, "");
  if (/\.sh$/.test(base)) return "bash";
  return base.replace(/[^A-Za-z0-9_.+-]/g, "").slice(0, 40);
}

/** Program and first argument: `npx tsc --noEmit -p .` and `tsc --noEmit` are the same check. */
export function shapeOf(command: string): string {
  const w = words(mainSegment(command));
  return w.slice(0, 2).join(" ");
}

/** Whitespace-insensitive identity of a command line. */
export function sameCommand(a: string, b: string): boolean {
  return a.trim().replace(/\s+/g, " ") === b.trim().replace(/\s+/g, " ");
}
