/**
 * How sure a registered fix fits an error, and how to adapt it.
 *
 * Every error is a set of features: the words and word pairs of its masked diagnostic lines, its
 * error type, its traits (traits.ts: shape, origin, op, call, rt, include) and its names. A feature
 * weighs by how rare it is among the registered errors (an IDF), times a factor of its kind; the
 * confidence is the weighted Dice overlap of the two sets, discounted for a different error type,
 * for every distinguishing family whose traits disagree, and for a fix that failed on errors like
 * this one. Two errors with the same template and the same distinguishing traits are the same
 * problem: "exact" when their names are equal too, else "similar" at SAME_TEMPLATE, with the fix
 * adapted to the new names where it names the old ones.
 *
 * The numbers in TUNING were chosen by `npm run eval:fixes -- --tune` on the tuning tool families
 * only (see bench/eval-fixes.ts and docs/fix-recall.md); the held-out families never set them.
 */
import { features, messageKind } from "./normalize.js";

export const TUNING = {
  /** Weight factor of a trait feature (shape:, origin:, op:, rt:, call:, include:) against a word. */
  trait: 0.25,
  /** Weight factor of a word pair against a word (a reworded message keeps words more than pairs). */
  pair: 1,
  /** Weight factor of a word in a parenthesized aside of the message (a hint, an elaboration). */
  aside: 0.5,
  /** Weight factor of the error type (the tool's own name for the kind of problem) against a word. */
  type: 1,
  /** Share of the confidence that is how much of the registered error the query covers (the rest: Dice). */
  coverage: 0.25,
  /** Weight factor of a name feature: the same name is weak evidence, a different one none against. */
  name: 1,
  /** Weight factor of a query feature no registered error has: it tells no candidate apart, it only says "new". */
  novel: 1,
  /** Factor when one name is a well-known library's and the other looks like the project's own. */
  originConflict: 0.6,
  /** Factor per distinguishing family on which the two errors disagree. */
  conflict: 0.45,
  /** Confidence of a same-template, same-traits match whose names differ. */
  sameTemplate: 0.92,
  /** Factor when names differ and the fix does not name the registered one (it cannot be adapted). */
  unadapted: 0.8,
  /** Factor for a fix that was reported failing on an error at least as close to this one. */
  demoted: 0.35,
  /** Factor for a different error type (generic types: error, fatal, exit N). */
  otherType: 0.5,
  otherGenericType: 0.75,
  /**
   * Confidence that the same specific error type (or message kind) alone gives, divided by how
   * many registered errors share it: a type only one registered error has names its problem
   * however the message is worded ("division by zero" / "integer modulo by zero").
   */
  typePrior: 0,
  /** Below this confidence nothing is recalled: a wrong fix costs an agent more than none. */
  recallMin: 0.56,
};

/** Bumped by whoever changes TUNING at run time (the eval's --tune): cached weight sums are stale then. */
export const tuningState = { version: 0 };

/** Error types that say nothing about the problem. */
export const GENERIC_TYPE = /^(?:error|exit \d+|fatal)$/;

/** The specific type (or message kind) feature of a feature set: what typePrior rests on. */
export function specificType(features: ReadonlySet<string>, errorType: string): string | undefined {
  if (!GENERIC_TYPE.test(errorType) && errorType !== "warning") return `type:${errorType}`;
  for (const f of features) if (f.startsWith("kind:")) return f;
  return undefined;
}

/** All features of an error: words and pairs of its lines, its type (or message kind), traits and names. */
export function featureSet(lines: readonly string[], errorType: string, traits: readonly string[], names: readonly string[]): Set<string> {
  const out = new Set(features(lines));
  out.add(`type:${errorType}`);
  const kind = GENERIC_TYPE.test(errorType) && lines[0] !== undefined ? messageKind(lines[0]) : undefined;
  if (kind) out.add(`kind:${kind}`);
  for (const t of traits) out.add(t);
  for (const n of names) out.add(`name:${n.toLowerCase()}`);
  return out;
}

/** Weight of a feature held by `df` of `n` registered errors. */
export function weight(feature: string, df: number, n: number): number {
  const idf = Math.log(1 + (n + 1) / (df + 1)) * (df === 0 ? TUNING.novel : 1);
  if (feature.startsWith("name:")) return idf * TUNING.name;
  if (feature.startsWith("type:") || feature.startsWith("kind:")) return idf * TUNING.type;
  if (/^(?:shape|origin|op|rt|call|include):/.test(feature)) return idf * TUNING.trait;
  if (feature.startsWith("(")) return idf * TUNING.aside;
  if (feature.includes(" ")) return idf * TUNING.pair;
  return idf;
}

export interface Adaptation {
  /**
   * adapted: a differing name the fix mentions was replaced by this error's;
   * unadapted: the fix names something derived from the registered name (ripgrep for rg, pyyaml
   *   for yaml) that cannot be rewritten;
   * generic: the fix names none of them: it applies as it is.
   */
  status: "adapted" | "unadapted" | "generic";
  fix: string;
  /** registered name → this error's name, for the names that differ. */
  slots: { from: string; to: string; applied: boolean }[];
}

/**
 * Adapt `fix`, registered for an error naming `registered`, to an error naming `names` (same
 * template, so the names pair up by position). A registered name that appears in the fix as a
 * whole word (`npm install left-pad`) is a slot refilled with the new name (`npm install chalk`).
 * One that only shows inside a word (`yaml` in `pyyaml`, `fd` in `fd-find`) or as its abbreviation
 * (`rg`: r…g in `ripgrep`) ties the fix to the old name in a way that cannot be rewritten.
 * undefined when the names are the same.
 */
export function adapt(fix: string, registered: readonly string[], names: readonly string[]): Adaptation | undefined {
  const slots: Adaptation["slots"] = [];
  let out = fix;
  let tied = false;
  const words = fix.toLowerCase().split(/[\s'"`()[\]{},;=]+/).filter(Boolean);
  for (let i = 0; i < Math.min(registered.length, names.length); i++) {
    const from = registered[i]!;
    const to = names[i]!;
    if (from === to || slots.some((s) => s.from === from)) continue;
    const word = new RegExp(`(?<![\\w@./-])${from.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}(?![\\w@/-]|\\.\\w)`, "g");
    const applied = from.length > 0 && word.test(fix);
    // An install command takes the package, which for some modules has another name (yaml → pyyaml).
    if (applied) out = out.replace(word, (m: string, offset: number) => (INSTALL_BEFORE.test(out.slice(0, offset).split("\n").pop()!) ? (packageOf(to) ?? to) : to));
    else if (words.some((w) => tiedTo(from.toLowerCase(), w))) tied = true;
    slots.push({ from, to, applied });
  }
  if (slots.length === 0) return undefined;
  const status = slots.some((s) => s.applied) ? "adapted" : tied ? "unadapted" : "generic";
  return { status, fix: out, slots };
}

const INSTALL_BEFORE = /\b(?:install|add|get)\b/;

/** Import names whose package is named otherwise (pip, mostly), lower case. */
const PACKAGES: Record<string, string> = {
  yaml: "pyyaml", cv2: "opencv-python", pil: "pillow", sklearn: "scikit-learn", bs4: "beautifulsoup4",
  dateutil: "python-dateutil", jwt: "pyjwt", dotenv: "python-dotenv", magic: "python-magic", crypto: "pycryptodome",
  serial: "pyserial", usb: "pyusb", attr: "attrs", docx: "python-docx", fitz: "pymupdf", openssl: "pyopenssl",
  mysqldb: "mysqlclient", skimage: "scikit-image", git: "gitpython", zmq: "pyzmq", win32api: "pywin32",
};

function packageOf(name: string): string | undefined {
  return PACKAGES[name.toLowerCase()];
}

/** The fix word contains the name, or abbreviates to it (same first letter, the name's letters in order). */
function tiedTo(name: string, word: string): boolean {
  const n = name.replace(/\.(?:h|hpp|pm|py|js)$/, "");
  if (n.length < 2 || word.length < n.length) return false;
  if (word.includes(n)) return true;
  if (word[0] !== n[0] || word.length > 4 * n.length) return false;
  let j = 0;
  for (const ch of word) if (ch === n[j]) j++;
  return j === n.length;
}
