/**
 * The destructive-command guard. A command line that deletes, overwrites, truncates, kills or
 * rewrites history runs only when the task asks for that effect (or the caller passed
 * allow_destructive). The check reads the command's words, not a shell parse: it errs towards
 * calling a command destructive, and a refusal shows the command so the caller can opt in.
 */
import { existsSync, statSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";

export type Effect = "delete" | "overwrite" | "truncate" | "kill" | "history" | "permissions" | "format" | "system";

export interface Danger {
  effect: Effect;
  /** What in the command does it, e.g. "rm", "> notes.txt". */
  what: string;
  /** The file it overwrites or deletes, when one is named: the task must name it as that target. */
  target?: string;
}

/** Task words that ask for each effect. */
const ASKS: Record<Effect, RegExp> = {
  delete: /\b(delete|deletes|deleting|remove|removes|removing|erase|rm|rmdir|unlink|wipe|purge|get rid of|clean ?up|clear out|move|rename|shred)\b/i,
  overwrite: /\b(overwrite|overwriting|replace|replacing|write|writes|save|put|store|copy|move|rename|update|edit|modify|set|sort .* in place|in place|redirect)\b/i,
  truncate: /\b(truncate|empty|clear|blank|zero out|wipe)\b/i,
  kill: /\b(kill|terminate|stop|interrupt|shut ?down)\b/i,
  history: /\b(reset|discard|revert|undo|clean|throw away|drop|force)\b/i,
  permissions: /\b(recursive|recursively|all files|everything|whole (tree|directory)|chmod|chown|permissions?|owner)\b/i,
  system: /\b(?:set|change)\s+(?:the\s+)?(?:system\s+)?(?:date|time|clock|host ?name)\b/i,
  format: /\b(mkfs|format (the |a )?(disk|drive|partition|device|usb stick)|make a file ?system|wipe the disk|raw disk|dd)\b/i,
};

const ALWAYS: Record<string, Effect> = {
  rm: "delete", rmdir: "delete", unlink: "delete", shred: "delete", srm: "delete",
  truncate: "truncate",
  dd: "format", fdisk: "format", parted: "format", wipefs: "format",
  kill: "kill", pkill: "kill", killall: "kill", xkill: "kill",
};

/** Split a command line into simple commands (on ; & && || | and newlines), each as words. */
function simpleCommands(line: string): string[][] {
  return line
    .split(/\|\||&&|[;&|\n]/)
    .map((part) => part.trim().split(/\s+/).filter(Boolean))
    .filter((w) => w.length > 0);
}

function unquote(word: string): string {
  return word.replace(/^(['"])(.*)\1$/, "$2");
}

/** The command's words after `sudo`, `env`, `nice`, `command`, `xargs` and VAR=value prefixes. */
function program(words: string[]): { name: string; args: string[] } {
  let i = 0;
  while (i < words.length && (/^[A-Za-z_][A-Za-z0-9_]*=/.test(words[i]!) || /^(sudo|env|nice|nohup|command|exec|time|xargs|builtin)$/.test(words[i]!))) {
    i++;
    while (i < words.length && words[i - 1] !== undefined && /^(sudo|xargs|nice|env)$/.test(words[i - 1]!) && words[i]!.startsWith("-")) i++;
  }
  const name = (words[i] ?? "").replace(/^.*\//, "");
  return { name, args: words.slice(i + 1).map(unquote) };
}

function exists(cwd: string, path: string): boolean {
  if (!path || path === "/dev/null" || path.startsWith("/dev/")) return false;
  const p = isAbsolute(path) ? path : resolve(cwd, path.replace(/^~(?=\/|$)/, process.env.HOME ?? "~"));
  try {
    return existsSync(p) && statSync(p).isFile();
  } catch {
    return false;
  }
}

/** What in `command` destroys something, given the directory it runs in; empty when nothing does. */
export function dangers(command: string, cwd: string): Danger[] {
  const out: Danger[] = [];
  // `> file` onto an existing file (not >>, not 2>&1, not >/dev/null).
  for (const m of command.matchAll(/(?<![>&0-9])(?:[1]?)>(?![>&])\s*([^\s;&|<>]+)/g)) {
    const target = unquote(m[1]!);
    if (exists(cwd, target)) out.push({ effect: "overwrite", what: `> ${target}`, target });
  }
  for (const words of simpleCommands(command)) {
    const { name, args } = program(words);
    const flags = args.filter((a) => a.startsWith("-")).join(" ");
    const operands = args.filter((a) => !a.startsWith("-") && !/^[0-9]*[<>]/.test(a));
    const always = ALWAYS[name];
    if (always === "delete") for (const t of operands.length ? operands : [""]) out.push({ effect: always, what: t ? `${name} ${t}` : name, ...(t ? { target: t } : {}) });
    else if (always) out.push({ effect: always, what: name });
    else if (/^mkfs(\..+)?$/.test(name)) out.push({ effect: "format", what: name });
    else if (name === "find" && /(^|\s)-(delete|exec\s+rm)/.test(args.join(" "))) out.push({ effect: "delete", what: "find -delete" });
    else if ((name === "mv" || name === "cp" || name === "install" || name === "ln") && operands.length >= 2) {
      const target = operands[operands.length - 1]!;
      if (name === "mv") out.push({ effect: "delete", what: `mv (moves ${operands.slice(0, -1).join(" ")} away)` });
      if (exists(cwd, target)) out.push({ effect: "overwrite", what: `${name} onto ${target}`, target });
    } else if ((name === "sort" || name === "shuf" || name === "uniq") && /(^|\s)(-[a-zA-Z]*o|--output)\b/.test(flags + " " + args.join(" "))) {
      const i = args.findIndex((a) => /^(-[a-zA-Z]*o|--output(=.*)?)$/.test(a));
      const target = args[i]?.startsWith("--output=") ? args[i]!.slice(9) : args[i + 1];
      if (target && exists(cwd, target)) out.push({ effect: "overwrite", what: `${name} -o ${target}`, target });
    } else if (name === "date" && /(^|\s)(-[a-zA-Z]*s|--set)\b/.test(flags)) out.push({ effect: "system", what: "date --set" });
    else if (name === "hostname" && operands.length > 0) out.push({ effect: "system", what: "hostname NAME" });
    else if ((name === "sed" || name === "perl") && /(^|\s)-[a-zA-Z]*i/.test(flags)) out.push({ effect: "overwrite", what: `${name} -i` });
    else if ((name === "chmod" || name === "chown" || name === "chgrp") && /(^|\s)(-[a-zA-Z]*R|--recursive)/.test(flags)) out.push({ effect: "permissions", what: `${name} -R` });
    else if (name === "tee" && !/(^|\s)-a/.test(flags)) {
      for (const t of operands) if (exists(cwd, t)) out.push({ effect: "overwrite", what: `tee ${t}`, target: t });
    } else if (name === "git") {
      const sub = args.join(" ");
      if (/\breset\b.*--hard/.test(sub)) out.push({ effect: "history", what: "git reset --hard" });
      else if (/^clean\b/.test(args[0] ?? "") || /\bclean\s+-/.test(sub)) out.push({ effect: "history", what: "git clean" });
      else if (/\b(checkout|restore)\b.*(\s--\s|\s\.$|\s\.\s)/.test(` ${sub}`)) out.push({ effect: "history", what: "git checkout -- ." });
      else if (/\bpush\b.*(--force|\s-f\b)/.test(sub)) out.push({ effect: "history", what: "git push --force" });
      else if (/\bbranch\b.*\s-D\b/.test(sub)) out.push({ effect: "history", what: "git branch -D" });
      else if (/\bstash\s+(drop|clear)\b/.test(sub)) out.push({ effect: "history", what: "git stash drop" });
    }
  }
  return out;
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * The task names `target` as what the effect is done to: any mention for a delete ("delete a.txt"),
 * and for an overwrite a mention after "into", "to", "overwrite", "replace"… ("put the last lines of
 * poem.txt into end.txt" asks to write end.txt, not poem.txt), or "in place".
 */
function namesAsTarget(task: string, effect: Effect, target: string): boolean {
  const name = target.replace(/^.*\//, "");
  if (!name || !task.includes(name)) return false;
  if (effect !== "overwrite") return true;
  if (/\bin[ -]place\b/i.test(task)) return true;
  return new RegExp(`\\b(?:into|to|onto|over|overwrite|overwriting|replace|replacing|update|edit|modify|as)\\b(?:\\s+[^\\s]+){0,4}?\\s+["']?${esc(name)}(?![\\w.-])`, "i").test(task);
}

/** The dangers of `command` the task does not ask for: the reason to refuse it. */
export function unaskedDangers(command: string, task: string, cwd: string): Danger[] {
  return dangers(command, cwd).filter((d) => !ASKS[d.effect].test(task) || (d.target !== undefined && !namesAsTarget(task, d.effect, d.target)));
}
