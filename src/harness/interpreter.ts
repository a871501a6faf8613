/**
 * How this machine says a file is run (issue 15, "execute the file b.py"): the file's own `#!`
 * line, else the language its extension maps to in /etc/mime.types (`text/x-python py` → a
 * `python3` or `python` on PATH). Nothing is guessed beyond what the machine declares; the command
 * only reads the file, so the guard has nothing to refuse and the validator decides.
 */
import { accessSync, closeSync, constants, existsSync, openSync, readFileSync, readSync } from "node:fs";
import { delimiter, extname, join } from "node:path";
import { stem, taskWords } from "./manual-match.js";

export interface Interpreter {
  /** The program that runs the file, e.g. "python3". */
  program: string;
  /** The language's name, e.g. "python": a task may say it ("run the python script x"). */
  lang: string;
}

function firstLine(path: string): string {
  let fd: number | undefined;
  try {
    fd = openSync(path, "r");
    const buf = Buffer.alloc(256);
    const n = readSync(fd, buf, 0, buf.length, 0);
    return buf.subarray(0, n).toString("utf8").split("\n")[0] ?? "";
  } catch {
    return "";
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** A program by that name on PATH (no shell, no spawn). */
export function onPath(program: string): boolean {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, program), constants.X_OK);
      return true;
    } catch {
      // not here
    }
  }
  return false;
}

let mimeTypes: Map<string, string> | undefined;

/** Extension → MIME subtype ("py" → "x-python"), from /etc/mime.types. */
function subtypes(): Map<string, string> {
  if (mimeTypes) return mimeTypes;
  mimeTypes = new Map();
  try {
    for (const line of readFileSync("/etc/mime.types", "utf8").split("\n")) {
      const [type, ...exts] = line.trim().split(/\s+/);
      const sub = /^[a-z]+\/(x-[a-z0-9]+)$/.exec(type ?? "")?.[1];
      if (sub && !line.startsWith("#")) for (const e of exts) if (!mimeTypes.has(e)) mimeTypes.set(e, sub);
    }
  } catch {
    // no mime.types: only #! lines declare an interpreter
  }
  return mimeTypes;
}

/** The interpreter this machine declares for the file at `path`, if any. */
export function interpreterFor(path: string): Interpreter | undefined {
  if (!existsSync(path)) return undefined;
  const bang = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(firstLine(path));
  if (bang) {
    const program = bang[1]!.endsWith("/env") && bang[2] ? bang[2] : bang[1]!.replace(/^.*\//, "");
    return onPath(program) ? { program, lang: program.replace(/[\d.]+$/, "") } : undefined;
  }
  const sub = subtypes().get(extname(path).slice(1).toLowerCase());
  if (!sub) return undefined;
  const lang = sub.slice(2);
  const program = [`${lang}3`, lang].find(onPath);
  return program ? { program, lang } : undefined;
}

/** Words a task to run a file may say besides the file: "execute the python script job.py". */
const RUN_WORDS = new Set(["run", "file", "script", "program", "code"].map(stem));

/**
 * `<interpreter> {k}` when the task only asks to run one file that exists in `cwd` and the machine
 * declares how to run it; undefined otherwise.
 */
export function runFileCommand(template: string, params: readonly string[], cwd: string): string | undefined {
  if (params.length !== 1) return undefined;
  const words = taskWords(template);
  if (!words.has(stem("run"))) return undefined;
  const it = interpreterFor(join(cwd, params[0]!));
  if (!it) return undefined;
  for (const w of words) if (!RUN_WORDS.has(w) && w !== stem(it.lang) && w !== stem(it.program)) return undefined;
  return `${it.program} {1}`;
}
