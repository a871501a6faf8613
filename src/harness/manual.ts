/**
 * The machine's own manual as offline experience (issue 15): what each installed command says it
 * does, read from its `--help` (the usage forms, the summary, every option line) and its one-line
 * `whatis` entry, and the `git help -a` list. Each command and each option becomes an entry: words
 * that describe it and the operands it takes, typed (a file, a directory, a number, a text), so a
 * task's parameters can fill them. Read once per process, with argv (no shell), only for commands
 * that read and print or create something new; the destructive guard still checks every command.
 */
import { execFile } from "node:child_process";

/** What an operand or an option argument takes. */
export type SlotType = "file" | "dir" | "num" | "text";

export interface Operand {
  type: SlotType;
  required: boolean;
}

export interface ManualEntry {
  cmd: string;
  /** An option, as typed ("-n", "--kernel-name"), with the type of its argument if it takes one. */
  option?: { flag: string; arg?: SlotType };
  /** What this entry does: the option's description, or the command's summary. */
  text: string;
  /** What the command as a whole does (summary, whatis, its name): weaker evidence for an option. */
  about: string;
  /** The command's usage forms: the operands each takes after the options. */
  forms: Operand[][];
  /** With no file operand the command reads standard input (typed alone, it would wait forever). */
  readsStdin: boolean;
}

/** Commands that only read and print, or create something new; their --help is safe to run. */
const COMMANDS = [
  "uname", "date", "ls", "wc", "sort", "head", "tail", "cut", "uniq", "nl", "cat", "tac", "rev", "df", "du", "id",
  "nproc", "uptime", "who", "whoami", "hostname", "free", "seq", "touch", "mkdir", "echo", "basename", "dirname",
  "realpath", "pwd", "grep", "fold", "fmt", "expand", "paste", "comm", "md5sum", "sha256sum", "sha1sum", "base64",
  "stat", "printenv", "factor", "shuf", "od", "cksum", "numfmt", "groups", "tty", "users", "arch", "printf",
];
/** git subcommands that only read, or create a repository: the rest can lose work. */
const GIT = new Set(["init", "status", "log", "diff", "show", "shortlog", "describe", "blame", "ls-files", "rev-parse"]);

const TYPES: Record<string, SlotType> = {
  FILE: "file", FILES: "file", INPUT: "file",
  DIRECTORY: "dir", DIR: "dir",
  NUM: "num", N: "num", NUMBER: "num", FIRST: "num", LAST: "num", INCREMENT: "num", COUNT: "num", K: "num",
  PATTERN: "text", PATTERNS: "text", STRING: "text", TEXT: "text", WORD: "text", NAME: "text",
};
const NOT_AN_OPERAND = /^(OPTION|SHORT-OPTION|LONG-OPTION|OPTIONS)$/;

/** The operands of one usage form ("[OPTION]... FIRST LAST"); undefined when one has an unknown type. */
export function parseForm(form: string): Operand[] | undefined {
  const operands: Operand[] = [];
  for (const word of form.trim().split(/\s+/)) {
    if (!word) continue;
    const m = /^(\[)?([A-Z][A-Z0-9_-]*)\]?(?:\.\.\.)?\]?(?:\.\.\.)?$/.exec(word);
    if (!m) {
      // "[-c", "|", "...", an optional "[+FORMAT]" or "[<directory>]": left out, never filled.
      if (word.startsWith("[") || /^[|.]+$/.test(word)) continue;
      return undefined; // a required literal word or placeholder: not a form we can fill
    }
    if (NOT_AN_OPERAND.test(m[2]!)) {
      // "OPTION..." without brackets: an option is required, so the plain command is no form.
      if (!m[1] && m[2] === "OPTION") return undefined;
      continue;
    }
    const type = TYPES[m[2]!];
    if (!type) {
      if (m[1]) continue;
      return undefined;
    }
    operands.push({ type, required: !m[1] });
  }
  return operands;
}

// "  -n, --lines=[+]NUM   output the last NUM lines" / "  -s, --kernel-name   print the kernel name" / "      --help  …"
const OPTION = /^\s{1,8}(?:(-[A-Za-z0-9])(?:,\s+(--[a-z][\w-]*))?|(--[a-z][\w-]*))(\[?=[^\s]+|\s[A-Z]+)?\s{2,}(\S.*)$/;
const CONTINUATION = /^\s{10,}(\S.*)$/;

/** One command's --help as entries: the command itself, and each option whose argument can be filled. */
export function parseHelp(cmd: string, help: string, whatis = ""): ManualEntry[] {
  const lines = help.split("\n");
  const forms: Operand[][] = [];
  const summary: string[] = [];
  let i = 0;
  for (; i < lines.length; i++) {
    const usage = /^\s*(?:Usage|or):\s+(\S+)\s*(.*)$/i.exec(lines[i]!);
    if (!usage) break;
    const form = parseForm(usage[2]!);
    if (form) forms.push(form);
  }
  // The summary: the paragraphs before the first option line or "Mandatory arguments…".
  for (; i < lines.length; i++) {
    const line = lines[i]!;
    if (OPTION.test(line) || /^Mandatory arguments|^\S.*:\s*$/.test(line)) break;
    if (/^\S/.test(line) && !/^Example:/.test(line)) summary.push(line.trim());
  }
  // A command whose every usage needs an operand we cannot fill (printf FORMAT, tr SET1) has no entry.
  if (forms.length === 0 && i > 0) return [];
  const about = [cmd, whatis, summary.join(" ")].filter(Boolean).join(". ");
  const readsStdin = /standard input/i.test(help);
  const entries: ManualEntry[] = [];
  if (forms.length === 0) forms.push([]);
  entries.push({ cmd, text: [whatis, summary.join(" ")].filter(Boolean).join(". "), about, forms, readsStdin });
  let last: ManualEntry | undefined;
  /** The long option's words ("kernel name"), added once its wrapped description is whole. */
  const names = new Map<ManualEntry, string>();
  for (; i < lines.length; i++) {
    const line = lines[i]!;
    const m = OPTION.exec(line);
    if (!m) {
      const more = CONTINUATION.exec(line);
      if (more && last) last.text += ` ${more[1]}`;
      else last = undefined;
      continue;
    }
    last = undefined;
    const short = m[1];
    const long = m[2] ?? m[3];
    if (long === "--help" || long === "--version") continue;
    const rawArg = m[4]?.trim();
    let arg: SlotType | undefined;
    if (rawArg && !rawArg.startsWith("[")) {
      const name = /[A-Z][A-Z0-9_]*/.exec(rawArg)?.[0] ?? "";
      arg = TYPES[name];
      if (!arg) continue; // an argument we cannot fill from a task (FORMAT, WHEN, SIZE…)
    }
    // An option that changes the system or writes a file (date -s, sort -o FILE) is no way to do a
    // task offline: the manual offers commands that read, print or create something new.
    if (/^(?:set|change|write|remove|delete|kill|send)\b|\binstead of standard output\b/i.test(m[5]!.trim())) continue;
    const flag = short ?? long!;
    const longWords = long ? long.replace(/^--/, "").replace(/-/g, " ") : "";
    const entry: ManualEntry = { cmd, option: { flag, ...(arg ? { arg } : {}) }, text: m[5]!.trim(), about, forms, readsStdin };
    entries.push(entry);
    names.set(entry, longWords);
    last = entry;
  }
  for (const [entry, words] of names) entry.text = `${entry.text} ${words}`.trim();
  return entries;
}

/** `git help -a` lines ("   init   Create an empty Git repository…") for the subcommands that lose nothing. */
export function parseGitHelp(text: string): ManualEntry[] {
  const entries: ManualEntry[] = [];
  for (const line of text.split("\n")) {
    const m = /^\s{2,}([a-z][\w-]*)\s{2,}(\S.*)$/.exec(line);
    if (!m || !GIT.has(m[1]!)) continue;
    entries.push({ cmd: `git ${m[1]}`, text: m[2]!, about: `git ${m[1]}. ${m[2]}`, forms: [[]], readsStdin: false });
  }
  return entries;
}

/** whatis lines ("tac (1)  - concatenate and print files in reverse"), section 1 only. */
export function parseWhatis(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^(\S+)\s+\(1\)\s+-\s+(.*)$/.exec(line);
    if (m && !out.has(m[1]!)) out.set(m[1]!, m[2]!.trim());
  }
  return out;
}

let cache: Promise<ManualEntry[]> | undefined;

/** A command's standard output ("" when it is missing or fails); never a shell. */
function read(command: string, args: string[]): Promise<string> {
  return new Promise((done) => {
    execFile(command, args, { encoding: "utf8", timeout: 2000, maxBuffer: 1 << 20, env: { ...process.env, LC_ALL: "C", MANPAGER: "cat", PAGER: "cat" } }, (_err, stdout) => done(typeof stdout === "string" ? stdout : ""));
  });
}

/** The manual of the installed commands, read once per process, all at once (a missing command or whatis gives nothing). */
export function manual(): Promise<ManualEntry[]> {
  cache ??= (async () => {
    const [whatisText, gitText, ...helps] = await Promise.all([read("whatis", COMMANDS), read("git", ["help", "-a"]), ...COMMANDS.map((cmd) => read(cmd, ["--help"]))]);
    const whatis = parseWhatis(whatisText);
    const entries: ManualEntry[] = [];
    COMMANDS.forEach((cmd, i) => {
      if (/^\s*Usage:/im.test(helps[i]!)) entries.push(...parseHelp(cmd, helps[i]!, whatis.get(cmd)));
    });
    entries.push(...parseGitHelp(gitText));
    return entries;
  })();
  return cache;
}
