/**
 * Checks derived from the task when the caller gives no validator: the ones a user would expect
 * from the words alone. A file or directory the task says to create must exist (an "empty" file
 * must be empty), one it says to delete must be gone, text it says to print must appear in the
 * new output, "containing X" / "write X into F" must be in the file, "go into the directory D"
 * must leave the shell there. A check that already held before the first command proves nothing
 * and is dropped; with no check left the run can only be `unverified`.
 */
import { readFileSync, statSync } from "node:fs";
import { basename, isAbsolute, join, resolve } from "node:path";
import { parameterize } from "./slots.js";

export interface CheckContext {
  /** The shell's directory when the run started: relative names in the task are read from there. */
  startCwd: string;
  /** The shell's directory now. */
  cwd: string;
  /** Output of the last command (after its command line). */
  output: string;
}

export interface DerivedCheck {
  describe: string;
  test(c: CheckContext): boolean;
}

const CREATE = /\b(create|creates|make|makes|touch|new|write|writes|save|put|store|copy|copies|duplicate|move|rename|generate|produce|append|add|redirect|extract|compress|archive|zip|tar|download|initiali[sz]e)\b/i;
const DELETE = /\b(delete|remove|erase|rm|get rid of)\b/i;
const MOVE = /\b(copy|copies|duplicate|move|rename|cp|mv|backup|back up)\b/i;
const CD = /\b(?:go|change|cd|enter|switch|step|move)\b(?:\s+(?:in)?to|\s+in)?\s+(?:the\s+)?(?:directory|folder|dir)\s+"?\{(\d+)\}/i;
const PRINT = /^\s*(?:please\s+)?(print|echo|say|display|output|show|write out)\b/i;
const TEXT_PARAM = /\b(?:text|word|string|message|line)\s+"?\{(\d+)\}/i;
const CONTAINING = /\b(?:containing|contains|with the (?:text|content|contents|line|word)|that says|saying)\s+"?\{(\d+)\}/i;
/** "save the kernel name into k.txt": F's content is the point, so F merely existing proves nothing. */
const WRITE_TO_FILE = /\b(?:write|writes|put|save|saves|store|stores|append|redirect)\b.*?\b(?:to|into|in|onto|inside)\b[^{]*?"?\{(\d+)\}/i;
const WRITE_INTO = /\b(?:write|writes|put|save|append|add|echo|store|print)\b[^{]*?"?\{(\d+)\}"?.*?\b(?:to|into|in|onto|inside)\b[^{]*?"?\{(\d+)\}/i;

function fileLike(template: string, n: number, value: string): boolean {
  if (/^[\w.-]*\.[A-Za-z0-9]{1,10}$/.test(basename(value)) && !/^\d+(\.\d+)?$/.test(value)) return true;
  return new RegExp(`\\bfiles?\\s+(?:named\\s+|called\\s+)?"?\\{${n}\\}`, "i").test(template);
}

function dirLike(template: string, n: number): boolean {
  return new RegExp(`\\b(?:directory|folder|dir)\\s+(?:named\\s+|called\\s+)?"?\\{${n}\\}`, "i").test(template);
}

function stat(path: string): ReturnType<typeof statSync> | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/** The checks a user would expect from the task's words; empty when the words promise nothing checkable. */
export function deriveChecks(task: string): DerivedCheck[] {
  const { template, params } = parameterize(task);
  const checks: DerivedCheck[] = [];
  const at = (c: CheckContext, p: string, inDir?: string) => {
    const base = inDir ? (isAbsolute(inDir) ? inDir : join(c.startCwd, inDir)) : c.startCwd;
    return isAbsolute(p) ? p : resolve(base, p.replace(/^~(?=\/|$)/, process.env.HOME ?? "~"));
  };
  // "a file named x in the directory d": x lives in d.
  const inDirN = /\b(?:in|inside|under|within)\s+(?:the\s+)?(?:directory|folder|dir)\s+"?\{(\d+)\}/i.exec(template)?.[1];
  const inDir = inDirN ? params[Number(inDirN) - 1] : undefined;

  const cd = CD.exec(template);
  if (cd) {
    const dir = params[Number(cd[1]) - 1]!;
    checks.push({ describe: `the shell is in ${dir}`, test: (c) => resolve(c.cwd) === at(c, dir) || basename(c.cwd) === basename(dir) });
    return checks;
  }

  const files = params.map((v, i) => ({ v, n: i + 1 })).filter(({ v, n }) => String(n) !== inDirN && fileLike(template, n, v) && !dirLike(template, n));
  const dirs = params.map((v, i) => ({ v, n: i + 1 })).filter(({ n }) => String(n) !== inDirN && dirLike(template, n));

  if (DELETE.test(template) && !CREATE.test(template.replace(DELETE, ""))) {
    for (const { v } of [...files, ...dirs]) checks.push({ describe: `${v} no longer exists`, test: (c) => stat(at(c, v, inDir)) === undefined });
    return checks;
  }

  const containing = CONTAINING.exec(template);
  const into = WRITE_INTO.exec(template);
  const pairs: Array<[string, string]> = [];
  if (containing && files.length > 0) pairs.push([params[Number(containing[1]) - 1]!, files[files.length - 1]!.v]);
  else if (into && files.some((f) => String(f.n) === into[2]) && !files.some((f) => String(f.n) === into[1])) pairs.push([params[Number(into[1]) - 1]!, params[Number(into[2]) - 1]!]);
  // Written into with content the task does not spell out: whether it exists says nothing of it.
  const unspelled = pairs.length > 0 ? undefined : WRITE_TO_FILE.exec(template)?.[1];
  if (CREATE.test(template)) {
    const targets = (MOVE.test(template) ? files.slice(-1) : files).filter((f) => String(f.n) !== unspelled);
    for (const { v } of targets) {
      const empty = /\bempty\s+files?\b/i.test(template);
      checks.push({
        describe: empty ? `${v} exists and is empty` : `${v} exists`,
        test: (c) => {
          const s = stat(at(c, v, inDir));
          return s !== undefined && s.isFile() && (!empty || s.size === 0);
        },
      });
    }
    for (const { v } of dirs) checks.push({ describe: `directory ${v} exists`, test: (c) => stat(at(c, v, inDir))?.isDirectory() === true });
  }

  for (const [text, file] of pairs) checks.push({ describe: `${file} contains ${JSON.stringify(text)}`, test: (c) => read(at(c, file, inDir))?.includes(text) === true });

  if (PRINT.test(template) && files.length === 0) {
    const n = TEXT_PARAM.exec(template)?.[1] ?? (params.length === 1 && /"\{1\}"/.test(template) ? "1" : undefined);
    const text = n ? params[Number(n) - 1] : undefined;
    if (text) checks.push({ describe: `the output shows ${JSON.stringify(text)}`, test: (c) => c.output.split("\n").some((l) => l.includes(text)) });
  }
  return checks;
}

/**
 * The output of the command typed last: the screen lines after the last line that shows the
 * command, without the prompt that came back.
 */
export function outputAfter(screen: string, command: string, prompt: string): string {
  const lines = screen.split("\n");
  let i = lines.length - 1;
  while (i >= 0 && !lines[i]!.trimEnd().endsWith(command.trimEnd())) i--;
  if (i < 0) return "";
  const out = lines.slice(i + 1);
  while (out.length > 0 && (out[out.length - 1]!.trim() === "" || (prompt && out[out.length - 1]!.trimEnd() === prompt))) out.pop();
  return out.join("\n");
}
