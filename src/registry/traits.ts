/**
 * What the normalizer masks away but that tells causes apart, kept as features ("traits"):
 *  - names: the values behind the headline's <q>/<id>/<pkg> placeholders ('left-pad', rg, yaml);
 *  - shape:  of each name: relative/absolute path, bare package, dotted or nested module, file…;
 *  - origin: whether a name is a well-known library's or (likely) the project's own;
 *  - op:     the operation an errno came from (node's syscall, a coreutils program, the call in the
 *            failing Python line);
 *  - call:   functions called on the failing source line / library functions on top of the stack;
 *  - rt:     the tool or runtime that printed the output;
 *  - include: how a C header was included (<system> or "project").
 * Each trait is one feature of the similar match, weighted like the others by how rare it is
 * among the registered errors; traits of the same family that disagree also mark a near miss.
 */
import { isWellKnown } from "./well-known.js";
import type { NormalizedError } from "./normalize.js";

/** Families whose disagreement marks a different cause (see conflicts()). */
export const DISTINGUISHING = ["shape", "origin", "op", "include", "rt"] as const;
/** The families whose disagreement is certain (origin rests on a list of names: it is not). */
export const HARD = ["shape", "op", "include", "rt"] as const;

export interface Traits {
  /** Names masked in the headline, in order, as printed (quotes removed). */
  names: string[];
  /** Paths masked in the headline (their shape is a trait; they are not names). */
  paths: string[];
  /** family:value features, sorted. */
  traits: string[];
}

const PLACEHOLDER = /<(q|id|pkg|path|loc|n|hex|url|email|ts|dur|addr)>/g;
const NAME_KINDS = new Set(["q", "id", "pkg"]);

/** The raw values behind the name placeholders of `masked`, read back from `raw`. */
export function namesOf(raw: string, masked: string): string[] {
  return valuesOf(raw, masked).names;
}

/** The raw values behind the name and path placeholders of `masked`, read back from `raw`. */
function valuesOf(raw: string, masked: string): { names: string[]; paths: string[] } {
  if (!/<(?:q|id|pkg|path)>/.test(masked)) return { names: [], paths: [] };
  const kinds: string[] = [];
  let pattern = "^";
  let last = 0;
  for (const m of masked.matchAll(PLACEHOLDER)) {
    pattern += literal(masked.slice(last, m.index));
    pattern += "(.+?)";
    kinds.push(m[1]!);
    last = m.index! + m[0].length;
  }
  pattern += literal(masked.slice(last)) + "$";
  let match: RegExpExecArray | null = null;
  try {
    match = new RegExp(pattern, "s").exec(raw.replace(/\s+/g, " ").trim().replace(/^(\S+) - /, "$1: "));
  } catch {
    match = null;
  }
  if (!match) {
    // The masks rewrote more than the placeholders show: fall back to the quoted words.
    return { names: [...raw.matchAll(/[`'"‘“]([^`'"’”\n]{1,200})[`'"’”]/g)].map((m) => m[1]!).slice(0, 4), paths: [] };
  }
  const names: string[] = [];
  const paths: string[] = [];
  kinds.forEach((k, i) => {
    if (NAME_KINDS.has(k)) names.push(unquote(match![i + 1]!));
    else if (k === "path") paths.push(match![i + 1]!);
  });
  return { names: names.slice(0, 4), paths: paths.slice(0, 4) };
}

function literal(text: string): string {
  return text
    .split(/\s+/)
    .map((w) => w.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&"))
    .join("\\s*");
}

function unquote(s: string): string {
  const t = s.trim();
  const m = /^[`'"‘“«](.*)[`'"’”»]$/s.exec(t);
  return (m ? m[1]! : t).trim();
}

/**
 * library: a well-known library's name or symbol; other: a name that looks like the project's own
 * (a dotted/nested module, a path, an identifier in snake_case or camelCase) that no library list
 * knows. A plain word may also be a package no list knows: a disagreement on origin is weaker
 * evidence than one on shape (score.ts: TUNING.originConflict).
 */
function originOf(name: string, shape: string): "library" | "other" | undefined {
  if (shape === "text" || shape === "url" || shape === "relative" || shape === "absolute") return undefined;
  if (isWellKnown(name)) return "library";
  return "other";
}

const FILE_EXT = /\.(?:c|h|cc|cpp|hpp|py|js|mjs|cjs|ts|tsx|jsx|rs|go|java|class|rb|pl|pm|json|ya?ml|toml|csv|tsv|txt|md|sh|sql|db|sqlite|html?|css|xml|ini|cfg|conf|lock|log|env|sample|example|bak|tmp|gz|zip|tar|png|jpe?g|so|o|a|bin|exe|dll)$/i;

/**
 * The shape of a name: what kind of thing it names, independent of the name itself. Coarse on
 * purpose: only shapes that point at different causes (a relative import vs a package, a project
 * module vs a library, a file vs a word) are told apart.
 */
export function shapeOf(name: string): string {
  if (/^[a-z][\w+.-]*:\/\//i.test(name)) return "url";
  if (/^\.{1,2}[/\\]/.test(name)) return "relative";
  if (/^(?:\/|~\/|[A-Za-z]:\\)/.test(name)) return "absolute";
  if (/^@[\w.-]+\/[\w.-]+$/.test(name)) return "scoped";
  if (/::/.test(name)) return "nested";
  if (/\s/.test(name)) return "text";
  if (name.includes("/") || name.includes("\\") || /^\.\w/.test(name) || FILE_EXT.test(name)) return "path";
  if (/^[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)+$/.test(name)) return "dotted";
  if (/^[\w-]+(?:\.\d[\w-]*)*$/.test(name)) return "bare";
  return "other";
}

// What printed the output, from conventions no other tool shares.
const RUNTIMES: readonly [RegExp, string][] = [
  [/node:internal|^Node\.js v\d|\(node:\d+\)/m, "node"],
  [/^Traceback \(most recent call last\):|^\s*File "[^"]+", line \d+/m, "python"],
  [/^npm (?:error|ERR!)/m, "npm"],
  [/\berror TS\d{4,5}\b/, "tsc"],
  [/^error\[E\d{4}\]|^\s*--> \S+\.rs:\d+/m, "rust"],
  [/\.java:\d+: error:/, "javac"],
  [/\bcollect2\b|\bcc1\w*:|\/ld: |^\S+\.(?:c|h|cc|cpp):\d+:\d+: (?:fatal )?error:/m, "cc"],
  [/^g?make(?:\[\d+\])?: /m, "make"],
  [/^(?:Parse|Runtime) error near line \d+:|^Error: (?:in prepare|stepping|near line)/m, "sqlite"],
  [/^(?:fatal|error|hint): |^CONFLICT \(/m, "git"],
  [/\(@INC\b|^BEGIN failed--compilation aborted|at \S+ line \d+\.$/m, "perl"],
  [/^jq: error/m, "jq"],
  [/^(?:\S+: )?line \d+: |^bash: /m, "shell"],
];

const ERRNO_TEXT = /\bE[A-Z]{3,}\b|\[Errno \d+\]|No such file or directory|Permission denied|File exists|Is a directory|Not a directory|Directory not empty/;

/** Traits of one error output (redacted), its normalized form and the context it came from. */
export function traitsOf(raw: string, norm: NormalizedError, context: string | undefined): Traits {
  const { names, paths } = valuesOf(norm.headRaw, norm.template);
  const out = new Set<string>();
  const ctx = (context ?? "").trim().split(/\s+/)[0]?.replace(/^.*\//, "").toLowerCase();
  if (ctx) out.add(`rt:${ctx}`);
  for (const [re, rt] of RUNTIMES) {
    if (re.test(raw)) {
      out.add(`rt:${rt}`);
      break;
    }
  }
  // "other" (punctuation, a number, a version) says nothing about the cause: no trait.
  for (const n of names) {
    const shape = shapeOf(n);
    if (shape === "other") continue;
    out.add(`shape:${shape}`);
    const origin = originOf(n, shape);
    if (origin) out.add(`origin:${origin}`);
  }
  for (const p of paths) {
    const shape = shapeOf(p);
    if (shape !== "other") out.add(`shape:${shape}`);
  }
  const include = /^\s*\d*\s*\|?\s*#\s*include\s*([<"])/m.exec(raw);
  if (include) out.add(`include:${include[1] === "<" ? "angle" : "quote"}`);
  const calls = topCalls(raw);
  // Library functions only: what the project's own line calls is the project's vocabulary, not
  // the problem's (it still names the operation of an errno).
  for (const c of calls.library) out.add(`call:${c}`);
  if (ERRNO_TEXT.test(norm.text)) {
    for (const op of operations(raw, norm, [...calls.library, ...calls.source])) out.add(`op:${op}`);
  }
  return { names, paths, traits: [...out].sort() };
}

/**
 * Functions on top of the stack: those called on the failing Python line, and the library frames
 * (node:internal, the Python standard library) nearest the error. User frames are left out: their
 * names are the project's, not the problem's.
 */
function topCalls(raw: string): { library: string[]; source: string[] } {
  const out: string[] = [];
  const source: string[] = [];
  const lines = raw.split("\n");
  // Python: the source line under the last `File "...", line N, in f`
  for (let i = lines.length - 1; i >= 0; i--) {
    if (/^\s*File "[^"]+", line \d+/.test(lines[i]!)) {
      const file = /File "([^"]+)"/.exec(lines[i]!)![1]!;
      const src = lines[i + 1] ?? "";
      if (/\/lib\/python[\d.]+\//.test(file)) {
        const fn = /, in (\w+)/.exec(lines[i]!)?.[1];
        if (fn) out.push(fn);
      } else if (!/^\s*File /.test(src)) {
        for (const m of src.matchAll(/([A-Za-z_][\w.]*)\s*\(/g)) source.push(m[1]!.split(".").pop()!.toLowerCase());
      }
      break;
    }
  }
  // Node: the first library frames ("at Object.mkdirSync (node:fs:1386:26)")
  let seen = 0;
  for (const l of lines) {
    const m = /^\s+at (?:async )?([\w$.<>[\] ]+?) \((node:[^)]+)\)/.exec(l);
    if (!m) {
      if (/^\s+at /.test(l)) break; // the first user frame ends the library's part
      continue;
    }
    if (/^node:internal\/(?:modules|main)\//.test(m[2]!)) break; // the module loader, not the operation
    out.push(m[1]!.split(".").pop()!.replace(/Sync$/, ""));
    if (++seen >= 2) break;
  }
  return { library: [...new Set(out.map((c) => c.toLowerCase()))].slice(0, 4), source: [...new Set(source)].slice(0, 4) };
}

/** The operation an errno came from. */
function operations(raw: string, norm: NormalizedError, calls: string[]): string[] {
  const syscall = /\bsyscall: '(\w+)'|\bE[A-Z]{3,}: [^,\n]+, (\w+) /.exec(raw);
  if (syscall) return [(syscall[1] ?? syscall[2])!.toLowerCase()];
  // "mkdir: cannot create directory …", "bash: line 1: cd: x: No such file or directory"
  const head = norm.headRaw.replace(/^(?:\S+: )?line \d+: /, "").replace(/^bash: /, "");
  const prog = /^([a-z][\w-]*): /.exec(head)?.[1];
  if (prog && !/^(?:error|fatal|warning|make|npm)$/.test(prog)) return [prog];
  if (/^(?:g?make)(?:\[\d+\])?: /.test(norm.headRaw)) return ["exec"];
  return calls.slice(0, 2);
}

/** A bare word is as often a file or directory name as a package: the two shapes do not conflict. */
const COMPATIBLE: Record<string, string> = { "shape:bare": "shape:path", "shape:path": "shape:bare" };

/**
 * How many distinguishing families the two trait lists disagree on: both have traits of the family
 * and share none of them. (Absent on either side says nothing.)
 */
export function conflicts(a: ReadonlySet<string>, b: ReadonlySet<string>, families: readonly string[] = DISTINGUISHING): number {
  let n = 0;
  for (const fam of families) {
    let inA = false;
    let inB = false;
    let shared = false;
    for (const t of a) {
      if (!t.startsWith(fam) || t[fam.length] !== ":") continue;
      inA = true;
      if (b.has(t) || (COMPATIBLE[t] !== undefined && b.has(COMPATIBLE[t]!))) shared = true;
    }
    if (!inA || shared) continue;
    for (const t of b) if (t.startsWith(fam) && t[fam.length] === ":") inB = true;
    if (inB) n++;
  }
  return n;
}
