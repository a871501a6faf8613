/**
 * Task parameters ("slots"). Quoted words are parameters, and so are the unquoted values a user
 * writes without quotes: a file or path ("notes.txt", "src/main.c", "/tmp/x"), the word after
 * "named"/"called"/"directory", the text after "the text" up to "into"/"to", and numbers.
 * `reverse the lines of notes.txt` becomes the template `reverse the lines of {1}` with ["notes.txt"],
 * so a row taught with one file fills in with another.
 */
import { tokenize } from "../experience/tokenize.js";

interface Span {
  start: number;
  end: number;
  value: string;
  quoted: boolean;
}

const QUOTED = /"([^"\n]*)"|'([^'\n]*)'/g;
/** Words that start a phrase, never a value ("the text in a.txt", "a directory called x"). */
const NOT_A_VALUE = /^(?:the|a|an|of|in|into|to|on|at|from|with|and|or|that|which|named|called|is|as|it|its|this|for|by)$/i;
const VALUE_PATTERNS: RegExp[] = [
  // the text done into status.txt / print the word hello
  /\bthe\s+(?:text|word|string|message)\s+(.+?)(?=\s+(?:into|to|in|onto|inside)\s|\s*[,;]|\s*\.?\s*$)/gi,
  // a file named notes.txt / a directory called build
  /\b(?:named|called)\s+([^\s,;]+?)(?=[.,;]?(?:\s|$))/gi,
  // the directory build / into the folder src
  /\b(?:directory|folder|dir)\s+([\w.~/-]+?)(?=[.,;]?(?:\s|$))/gi,
  // a path: a/b, ./x, ~/x, /tmp/x
  /(?<![\w{}])((?:~|\.{1,2})?\/[\w.~/-]*[\w~-]|[\w.-]+\/[\w.~/-]*[\w~-])(?![\w{}])/g,
  // a file name with an extension: notes.txt, b.py, .env
  /(?<![\w{}/.-])([\w-]*\.[A-Za-z0-9]{1,10}(?:\.[A-Za-z0-9]{1,10})?)(?![\w{}-])/g,
  // a number
  /(?<![\w{}.-])(\d+)(?![\w{}.])/g,
];

function overlaps(spans: readonly Span[], s: number, e: number): boolean {
  return spans.some((x) => s < x.end && e > x.start);
}

/**
 * The task's parameters in order of appearance, and the template with each one replaced by `{n}`
 * (a quoted one by `"{n}"`): what retrieval matches against rows written the same way.
 */
export function parameterize(task: string): { template: string; params: string[] } {
  const spans: Span[] = [];
  for (const m of task.matchAll(QUOTED)) spans.push({ start: m.index, end: m.index + m[0].length, value: m[1] ?? m[2] ?? "", quoted: true });
  for (const re of VALUE_PATTERNS) {
    for (const m of task.matchAll(re)) {
      const value = m[1]!;
      const first = value.split(/\s+/)[0] ?? "";
      if (!value || NOT_A_VALUE.test(first) || /^[.\-/]+$/.test(value)) continue;
      const start = m.index + m[0].lastIndexOf(value);
      const end = start + value.length;
      if (!overlaps(spans, start, end)) spans.push({ start, end, value, quoted: false });
    }
  }
  spans.sort((a, b) => a.start - b.start);
  let template = "";
  let at = 0;
  spans.forEach((s, i) => {
    template += task.slice(at, s.start) + (s.quoted ? `"{${i + 1}}"` : `{${i + 1}}`);
    at = s.end;
  });
  template += task.slice(at);
  return { template, params: spans.map((s) => s.value) };
}

/** A word the shell reads as itself: left bare; anything else in single quotes. */
export function shellQuote(value: string): string {
  if (/^[A-Za-z0-9_./:=@%+,-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Fill `{n}` with the n-th parameter, shell-quoted; a placeholder without a parameter stays as it is. */
export function fillTemplate(command: string, params: readonly string[]): string {
  return command.replace(/\{(\d{1,2})\}/g, (m, n: string) => {
    const v = params[Number(n) - 1];
    return v === undefined ? m : shellQuote(v);
  });
}

/** Placeholders `{n}` the command uses that have no parameter: such a command is never typed. */
export function unfilledPlaceholders(command: string, params: readonly string[]): string[] {
  return [...command.matchAll(/\{(\d{1,2})\}/g)].filter((m) => params[Number(m[1]) - 1] === undefined).map((m) => m[0]);
}

/**
 * A demonstrated (task, command) pair as a template pair: the task's parameters become `{n}` in
 * both, so `tac notes.txt` for "reverse the lines of notes.txt" answers "reverse the lines in {1}".
 */
export function templatePair(task: string, command: string): { task: string; command: string } {
  const { template, params } = parameterize(task);
  let out = command;
  // Longest first, so "a.txt" inside "data.txt" is not replaced before "data.txt".
  const order = params.map((p, i) => ({ p, i })).filter((x) => x.p.length > 0).sort((a, b) => b.p.length - a.p.length);
  for (const { p, i } of order) {
    const forms = [shellQuote(p), `'${p.replace(/'/g, `'\\''`)}'`, `"${p}"`, p];
    for (const form of new Set(forms)) {
      const re = new RegExp(`(?<![\\w./-])${form.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?![\\w/-]|\\.\\w)`, "g");
      if (re.test(out)) {
        out = out.replace(re, `{${i + 1}}`);
        break;
      }
    }
  }
  return { task: template, command: out };
}

const COMMAND_HINT = "text: type the shell command that does the task";

/**
 * A train_model example for a command tensor, as the harness retrieves it: a plain task becomes
 * "text: <hint>\ntask: <template>", a "text: …\ntask: …" input gets its task templated, and the
 * task's values in the expected command become `{n}`.
 */
export function commandExample(input: string, expected: string): { input: string; expected: string } {
  if (/^ctrl\s*:/.test(input)) return { input, expected };
  const m = /^(text\s*:[^\n]*)\ntask:\s*([\s\S]*)$/.exec(input);
  const hint = m ? m[1]! : COMMAND_HINT;
  const task = m ? m[2]!.trim() : input.trim();
  if (/\{\d{1,2}\}/.test(task)) return { input: `${hint}\ntask: ${task}`, expected };
  const pair = templatePair(task, expected);
  return { input: `${hint}\ntask: ${pair.task}`, expected: pair.command };
}

// ---- how well a row's task fits the task ---------------------------------------------------------

const STOP = new Set(
  "the a an of in into to on at for from with and or by as is be it its this that these those please me my i you your some all each every current named called there here then now order".split(" "),
);
/** Words that say the same thing, folded to one, so another wording of a taught task still fits. */
const SAME: Record<string, string> = {
  make: "create", new: "create", touch: "create", generate: "create",
  remove: "delete", erase: "delete", rm: "delete", del: "delete",
  display: "show", print: "show", output: "show", echo: "show", view: "show", see: "show", cat: "show", type: "show", say: "show",
  folder: "directory", dir: "directory", directories: "directory", folders: "directory",
  execute: "run", launch: "run", start: "run",
  duplicate: "copy", cp: "copy",
  rename: "move", mv: "move",
  lines: "line", files: "file", words: "word", characters: "character", chars: "character", numbers: "number", bytes: "byte",
  how: "count", many: "count", tally: "count",
  invert: "reverse", backwards: "reverse", reversed: "reverse",
  find: "search", look: "search", grep: "search",
  contents: "content", containing: "contain", contains: "contain",
  top: "first", beginning: "first", bottom: "last", end: "last", final: "last",
  ordered: "sort", sorted: "sort", alphabetically: "sort",
  unique: "distinct", duplicates: "distinct", uniq: "distinct",
  put: "write", save: "write", store: "write",
  go: "cd", enter: "cd", change: "cd", switch: "cd",
};

/** A word as the fit reads it: words that say the same thing folded to one. */
export function foldWord(word: string): string {
  return SAME[word] ?? word;
}

/** The words of a task that carry its meaning: not a stop word, not a number. */
export function isContentWord(word: string): boolean {
  return !STOP.has(word) && !/^\d+$/.test(word);
}

/** The content words of a task (placeholders, stop words and the hint boilerplate left out), folded. */
export function contentWords(text: string): Set<string> {
  const words = tokenize(text.replace(/\{\d{1,2}\}/g, " "));
  return new Set(words.filter(isContentWord).map(foldWord));
}

/** The task line of a command-expert key ("text: <hint>\ntask: <task>"), or the whole key. */
export function taskOfKey(key: string): string {
  const m = /(?:^|\n)task:\s*([\s\S]*)$/.exec(key);
  return m ? m[1]!.trim() : key;
}

const slotCount = (text: string) => new Set(text.match(/\{\d{1,2}\}/g) ?? []).size;

/**
 * Jaccard of the content words of the task and of a row's task: boilerplate shared by every row
 * scores nothing. A row written for another number of parameters scores half: its `{1}` would
 * take the wrong value ("show the first 2 lines of a.txt" is not "show the first line of {1}").
 */
export function taskFit(task: string, rowKey: string): number {
  const rowTask = taskOfKey(rowKey);
  const a = contentWords(task);
  const b = contentWords(rowTask);
  if (a.size === 0 || b.size === 0) return 0;
  let shared = 0;
  for (const w of a) if (b.has(w)) shared++;
  const jaccard = shared / (a.size + b.size - shared);
  return slotCount(task) === slotCount(rowTask) ? jaccard : jaccard / 2;
}
