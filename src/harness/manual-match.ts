/**
 * A task against the machine's manual (manual.ts). An entry fits as far as its words cover the
 * task's words, each word weighted by how rare it is in the manual (so "lines" or "print", which
 * half the manual says, count for little and "reverse" or "kernel" for much). The task's parameters
 * fill the entry's operands by type, and an entry that cannot use every parameter, or would wait on
 * standard input, is no candidate. What taught rows show about how a command is used carries over to
 * the command's other options: a row `wc -l < {1}` teaches that a count is read from standard input
 * (the number alone), so `wc -w` for "count the words in a.txt" is typed the same way.
 */
import { tokenize } from "../experience/tokenize.js";
import { manual, type ManualEntry, type Operand, type SlotType } from "./manual.js";
import { foldWord, isContentWord, taskOfKey } from "./slots.js";

/**
 * Least coverage of the task's words for a manual entry to be typed. Calibrated with
 * `npm run eval:harness` on the calibration families only (docs/harness.md).
 */
export const MANUAL_FLOOR = 0.75;
/** A word said only of the command as a whole counts this much for one of its options. */
const ABOUT_WEIGHT = 0.6;

/** Words of the manual that say nothing about what an entry does. */
const DOC_STOP = new Set(
  "each every all any its their than then when which while with without instead use used using also only one other same given default standard if else may can will be been being are is was were do does such per via".split(" "),
);
/** A negation and the next two words: "do not create any files" says nothing about creating. */
const NEGATION = new Set(["not", "no", "never", "without", "don't", "except", "but", "unless", "instead"]);

/** A light stemmer: "created"/"create", "lines"/"line", "counts"/"count" meet. */
export function stem(word: string): string {
  let w = word;
  if (w.length <= 3) return w;
  if (w.endsWith("ies") && w.length > 4) w = `${w.slice(0, -3)}y`;
  else if (w.endsWith("sses")) w = w.slice(0, -2);
  else if (w.endsWith("ing") && w.length > 5) w = w.slice(0, -3);
  else if (w.endsWith("ed") && w.length > 4) w = w.slice(0, -2);
  else if (w.endsWith("es") && w.length > 4) w = w.slice(0, -2);
  else if (w.endsWith("s") && !w.endsWith("ss")) w = w.slice(0, -1);
  if (w.endsWith("e") && w.length > 3) w = w.slice(0, -1);
  return w;
}

/**
 * Words the task's synonyms fold that the manual uses in another sense ("at the start of each
 * line", "an equal run", "the end of the file"): on the manual's side they meet no task word.
 */
const DOC_LITERAL = new Set("run start end top bottom type change enter go switch new many how look see say store save put find".split(" "));

/** The words of a task, folded and stemmed (placeholders, stop words and numbers left out). */
export function taskWords(template: string): Set<string> {
  const words = tokenize(template.replace(/\{\d{1,2}\}/g, " ")).filter((w) => isContentWord(w) && !DOC_STOP.has(w) && w.length > 1);
  return new Set(words.map((w) => stem(foldWord(w))));
}

/** The words of a manual text, folded and stemmed, with what a negation denies left out. */
export function docWords(text: string): Set<string> {
  const out = new Set<string>();
  let denied = 0;
  // Paths ("/var/run/utmp") and options ("-c") are not words of what the entry does.
  const prose = text.replace(/n't\b/g, " not").replace(/(?:^|\s)(?:\/\S*|-{1,2}[\w-]+)/g, " ");
  for (const w of tokenize(prose)) {
    if (NEGATION.has(w)) {
      denied = 2;
      continue;
    }
    if (!isContentWord(w) || DOC_STOP.has(w) || w.length < 2) continue;
    if (denied > 0) {
      denied--;
      continue;
    }
    // A word the manual uses in another sense is kept apart ("=run"): no task word meets it.
    const word = DOC_LITERAL.has(w) ? `=${stem(w)}` : stem(foldWord(w));
    out.add(word);
    // "reinitialize" also says "initialize"; "reverse" adds only "verse", which no task says of a command.
    if (/^re[a-z]{5,}$/.test(word)) out.add(word.slice(2));
  }
  return out;
}

interface Param {
  types: ReadonlySet<SlotType>;
  dash: boolean;
}

/** What each parameter can be, from its value and the words before it ("a directory called {1}"). */
export function paramTypes(template: string, params: readonly string[]): Param[] {
  return params.map((value, i) => {
    const at = template.indexOf(`{${i + 1}}`);
    const before = template.slice(0, Math.max(0, at)).toLowerCase();
    const quoted = at > 0 && /["']$/.test(before);
    const types = new Set<SlotType>();
    if (/^\d+$/.test(value)) types.add("num");
    else if (quoted || /\b(?:text|word|string|message|pattern)\s*$/.test(before)) types.add("text");
    else if (/\b(?:directory|folder|dir)(?:\s+(?:named|called))?\s*$/.test(before)) types.add("dir");
    else {
      types.add("file");
      if (!/\.[A-Za-z0-9]{1,10}$/.test(value) || value.includes("/")) types.add("dir");
    }
    return { types, dash: value.startsWith("-") };
  });
}

/** How taught rows use each command: read its one file from standard input (`cmd … < {n}`). */
export function learnedStyle(taught: ReadonlyArray<{ value: string }>): Set<string> {
  const stdin = new Set<string>();
  for (const r of taught) {
    const m = /^([a-z][\w-]*)(?:\s+-{1,2}[\w-]+(?:[= ]\d+)?)*\s+<\s*\{\d{1,2}\}\s*$/.exec(r.value.trim());
    if (m) stdin.add(m[1]!);
  }
  return stdin;
}

/** What taught rows `… > {k}` show of saving a command's output: the word before the file ("into", "to") and the task's verb ("write"). */
export interface Redirect {
  lead: Set<string>;
  verbs: Set<string>;
}

/** A file named after "into"/"to", maybe through "a file named": where the output goes. */
const FILE_AFTER = (k: number) => new RegExp(`\\b([a-z]+)\\s+(?:(?:a|an|the)\\s+)?(?:new\\s+)?(?:files?\\s+(?:named|called)\\s+)?["']?\\{${k}\\}["']?\\s*$`, "i");

export function learnedRedirect(taught: ReadonlyArray<{ key: string; value: string }>): Redirect {
  const lead = new Set<string>();
  const verbs = new Set<string>();
  for (const r of taught) {
    const m = /[^>]\s>\s*\{(\d{1,2})\}\s*$/.exec(r.value.trim());
    if (!m) continue;
    const task = taskOfKey(r.key);
    const into = FILE_AFTER(Number(m[1])).exec(task);
    if (!into) continue;
    lead.add(into[1]!.toLowerCase());
    const verb = tokenize(task).find((w) => isContentWord(w));
    if (verb) verbs.add(foldWord(verb));
  }
  return { lead, verbs };
}

/** The command line for an entry and one of its forms, with `{n}` placeholders; undefined if the parameters do not fit it. */
export function fillEntry(entry: ManualEntry, form: readonly Operand[], params: readonly Param[], stdinStyle: ReadonlySet<string>): string | undefined {
  const used = params.map(() => false);
  const take = (type: SlotType): number | undefined => {
    // A FILE operand takes a directory too (ls, du, stat list or measure one); a wrong one fails its check.
    const i = params.findIndex((p, j) => !used[j] && (p.types.has(type) || (type === "file" && p.types.has("dir"))));
    if (i < 0) return undefined;
    used[i] = true;
    return i;
  };
  const words = [entry.cmd];
  if (entry.option) {
    const { flag, arg } = entry.option;
    if (arg) {
      const i = take(arg);
      if (i === undefined) return undefined;
      words.push(flag.startsWith("--") ? `${flag}={${i + 1}}` : `${flag} {${i + 1}}`);
    } else words.push(flag);
  }
  const operands: Array<{ i: number; type: SlotType }> = [];
  for (const op of form) {
    const i = take(op.type);
    if (i === undefined) {
      if (op.required) return undefined;
      continue;
    }
    operands.push({ i, type: op.type });
  }
  if (used.some((u) => !u)) return undefined;
  const files = operands.filter((o) => o.type === "file");
  // With no file to read, a command that reads standard input would wait for it forever.
  if (entry.readsStdin && files.length === 0 && form.some((o) => o.type === "file")) return undefined;
  if (stdinStyle.has(entry.cmd) && operands.length === 1 && files.length === 1) return `${words.join(" ")} < {${files[0]!.i + 1}}`;
  if (operands.some((o) => params[o.i]!.dash)) words.push("--");
  for (const o of operands) words.push(`{${o.i + 1}}`);
  return words.join(" ");
}

interface Indexed {
  entry: ManualEntry;
  own: Set<string>;
  about: Set<string>;
}

interface Index {
  entries: Indexed[];
  idf: Map<string, number>;
  rare: number;
}

let index: Promise<Index> | undefined;

function indexed(): Promise<Index> {
  index ??= manual().then(build);
  return index;
}

function build(manualEntries: ManualEntry[]): Index {
  const entries = manualEntries.map((entry) => ({ entry, own: docWords(entry.text), about: docWords(entry.about) }));
  const df = new Map<string, number>();
  for (const e of entries) for (const w of new Set([...e.own, ...e.about])) df.set(w, (df.get(w) ?? 0) + 1);
  const n = entries.length;
  const idf = new Map([...df].map(([w, c]) => [w, Math.log((n + 1) / (c + 1)) + 1]));
  return { entries, idf, rare: Math.log(n + 1) + 1 };
}

export interface ManualCandidate {
  command: string;
  fit: number;
  /** What the manual says the entry does, for the trajectory. */
  says: string;
}

/** How much of the task's words an entry covers, weighted by rarity; and how much of its own words the task uses. */
function fitOf(words: ReadonlySet<string>, e: Indexed, idf: Map<string, number>, rare: number): { fit: number; precision: number } {
  let total = 0;
  let got = 0;
  let shared = 0;
  for (const w of words) {
    const weight = idf.get(w) ?? rare;
    total += weight;
    if (e.own.has(w)) {
      got += weight;
      shared++;
    } else if (e.about.has(w)) got += weight * ABOUT_WEIGHT;
  }
  return { fit: total === 0 ? 0 : got / total, precision: e.own.size === 0 ? 0 : shared / e.own.size };
}

/**
 * Manual entries whose filled command fits the task at least `floor`, best first, each command
 * once; and, where taught rows show how output is saved ("… into {k}" → `… > {k}`), the entries
 * that fit the rest of the task with their output saved there.
 */
export async function manualCandidates(template: string, params: readonly string[], taught: ReadonlyArray<{ key: string; value: string }>, floor = MANUAL_FLOOR): Promise<ManualCandidate[]> {
  const ix = await indexed();
  const direct = directCandidates(ix, template, params, taught, floor);
  const saved = savedCandidates(ix, template, params, taught, floor);
  const seen = new Set<string>();
  return [...direct, ...saved].sort((a, b) => b.fit - a.fit).filter((c) => !seen.has(c.command) && seen.add(c.command));
}

/** "save the kernel name into k.txt" → `uname -s > {1}`, when a taught row saved output "into" a file. */
function savedCandidates(ix: Index, template: string, params: readonly string[], taught: ReadonlyArray<{ key: string; value: string }>, floor: number): ManualCandidate[] {
  const redirect = learnedRedirect(taught);
  if (redirect.lead.size === 0 || params.length === 0) return [];
  const k = params.length; // the file the output goes to ends the task
  const into = FILE_AFTER(k).exec(template);
  if (!into || !redirect.lead.has(into[1]!.toLowerCase()) || !paramTypes(template, params)[k - 1]!.types.has("file")) return [];
  let rest = template.slice(0, into.index);
  const verb = tokenize(rest).find((w) => isContentWord(w));
  if (verb && redirect.verbs.has(foldWord(verb))) rest = rest.replace(new RegExp(`\\b${verb}\\b`, "i"), " ");
  return directCandidates(ix, rest, params.slice(0, -1), taught, floor).map((c) => ({ ...c, command: `${c.command} > {${k}}` }));
}

function directCandidates(ix: Index, template: string, params: readonly string[], taught: ReadonlyArray<{ value: string }>, floor: number): ManualCandidate[] {
  const words = taskWords(template);
  if (words.size === 0) return [];
  const { entries, idf, rare } = ix;
  const typed = paramTypes(template, params);
  const stdinStyle = learnedStyle(taught);
  const scored: Array<ManualCandidate & { precision: number; option: boolean }> = [];
  for (const e of entries) {
    const { fit, precision } = fitOf(words, e, idf, rare);
    if (fit < floor) continue;
    for (const form of e.entry.forms) {
      const command = fillEntry(e.entry, form, typed, stdinStyle);
      if (command) scored.push({ command, fit: Math.round(fit * 1000) / 1000, precision, option: e.entry.option !== undefined, says: e.entry.text.slice(0, 120) });
    }
  }
  // Equal fits: the entry whose own words the task uses most, then the command without an option
  // (no flag the task did not ask for).
  scored.sort((a, b) => b.fit - a.fit || b.precision - a.precision || Number(a.option) - Number(b.option));
  const seen = new Set<string>();
  return scored.filter((c) => !seen.has(c.command) && seen.add(c.command)).map(({ command, fit, says }) => ({ command, fit, says }));
}
