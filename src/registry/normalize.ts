/**
 * Raw error output → the stable part of it.
 *
 * The same problem printed twice differs in paths, line numbers, names, ports, PIDs, timestamps
 * and in how much context the tool printed around it. We drop the context (stack frames, source
 * excerpts, log boilerplate, summaries), mask the variable parts, and keep the diagnostic lines.
 * The first diagnostic line (for a Python traceback: the exception line at the bottom) is the
 * `template` that the signature is hashed from; up to a few more diagnostic lines are kept in
 * `lines` for the similar match.
 *
 * One file: the masks and the noise filters are tuned together against the corpus (a mask changes
 * what the filters see), and `npm run eval:fixes` measures them as one.
 */
import { classifyError, WRAPPER } from "./classify.js";
import type { Line } from "./line.js";

export interface NormalizedError {
  /** TS2307, ERR_MODULE_NOT_FOUND, ENOENT, KeyError, -Wimplicit-function-declaration, exit 2, error … */
  error_type: string;
  /** The headline diagnostic, masked. Hashed into the signature. */
  template: string;
  /** Distinct masked diagnostic lines, headline first (at most MAX_LINES). */
  lines: string[];
  /** Every kept (non-noise) line, masked: what the error says once the noise is gone. */
  text: string;
  /** The headline (and its continuation) as printed, prefix-stripped: the names' values live here. */
  headRaw: string;
}

export const MAX_LINES = 4;
/** Longer lines are cut (minified code, data dumps): the diagnostic is at their start. */
const MAX_LINE_CHARS = 1000;
const MAX_INPUT_LINES = 4000;

// ---------------------------------------------------------------------------------------------
// ANSI and control characters

// CSI, OSC (BEL or ST terminated), DCS/SOS/PM/APC strings, two-byte escapes, 8-bit CSI.
const ANSI =
  // eslint-disable-next-line no-control-regex
  /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[PX^_][^\x1b]*\x1b\\|\x1b[@-Z\\-_]|\x9b[0-?]*[ -/]*[@-~]/g;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g;

export function stripAnsi(text: string): string {
  const plain = text.replace(ANSI, "").replace(/\r\n/g, "\n");
  // A bare CR redraws the line (progress bars): what stays on screen is the last segment.
  const lines = plain.split("\n").map((line) => {
    if (!line.includes("\r")) return line;
    const parts = line.split("\r").filter((p) => p.trim() !== "");
    return parts[parts.length - 1] ?? "";
  });
  return lines.join("\n").replace(CONTROL, "");
}

// ---------------------------------------------------------------------------------------------
// Masking

const FILE_EXTENSIONS =
  "c|h|cc|cpp|cxx|hpp|hh|m|mm|rs|go|py|pyi|pyx|ipynb|js|mjs|cjs|jsx|ts|mts|cts|tsx|vue|svelte|json|jsonc|json5|ya?ml|toml|ini|cfg|conf|lock|md|mdx|rst|txt|csv|tsv|sh|bash|zsh|fish|ps1|bat|cmd|mk|cmake|gradle|kts?|java|scala|groovy|class|jar|war|rb|erb|php|cs|csproj|sln|fs|swift|sql|db|sqlite3?|log|xml|html?|css|scss|sass|less|lua|pl|pm|ex|exs|erl|hrl|hs|ml|mli|dart|r|jl|zig|nim|proto|graphql|tf|tfvars|properties|env|map|wasm|o|obj|a|so|dylib|dll|exe|whl|tgz|gz|zip|tar|bz2|xz|pem|crt|key|pid|sock|tmp|bak|orig|patch|diff|svg|png|jpe?g|gif|pdf|d\\.ts|mod|sum";
const BARE_FILES = "Makefile|makefile|GNUmakefile|Dockerfile|Containerfile|Jenkinsfile|Vagrantfile|Gemfile|Rakefile|Procfile|Brewfile|Justfile|Caddyfile";

// A path-like word in front of a line/column: "src/a.ts", "Makefile", "/abs/x.c", "C:\x\y.cs".
// Segments are separated by a slash their characters exclude, so matching stays linear.
const PATHISH = String.raw`(?<![\w.~@+\\/-])(?:[A-Za-z]:\\[^\s:*?"<>|()]+|(?:[\w.~@+-]*[/\\])+[\w.~@+-]+|[\w@+-][\w.@+-]*\.(?:${FILE_EXTENSIONS})|${BARE_FILES})`;

interface Mask {
  re: RegExp;
  to: string;
}

// Words that are the shape of a message, never a name: kept when they sit between two colons.
const STRUCTURAL_WORDS = new Set([
  "error", "warning", "warn", "note", "fatal", "info", "debug", "hint", "help", "remark", "panic",
  "line", "in", "at", "from", "to", "caused", "exception", "traceback", "failed", "failure", "stop",
  "usage", "code", "errno", "reason", "details", "message", "while", "during", "npm", "err",
]);

// Nouns after which a trailing ": word" is the name of the thing, e.g. "no such table: users".
const NAME_NOUNS =
  /\b(?:table|column|function|index|view|trigger|module|package|crate|command|program|name|symbol|target|file|key|variable|field|type|host|hostname|branch|tag|remote|ref|option|argument|flag|property|attribute|method|class|identifier|user|role|database|schema|directory|image|container|service|network|volume|undefined|undeclared|unknown|label|macro|import|dependency|script|task|job|step|record|collation|extension|feature|element|component|used|found)s?$/i;

const MASKS: readonly Mask[] = [
  // URLs and e-mail addresses
  { re: /\b[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^\s"'<>`)\]]+/g, to: "<url>" },
  { re: /\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b/g, to: "<email>" },
  // quoted text: identifiers, values, paths, types… The opening quote is not part of a word, so
  // "can't" and "don't" do not open a quote.
  // (`name' is the old GNU/Ruby style.)
  { re: /`[^`'\s]*'(?!\w)|‘[^’\n]*’|“[^”\n]*”|«[^»\n]*»|`[^`\n]*`|(?<![\w'])'[^'\n]*'(?![\w'])|(?<![\w"])"[^"\n]*"(?![\w"])/g, to: "<q>" },
  // timestamps, dates, times of day, durations
  { re: /\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}[:_]\d{2}(?:[:_]\d{2})?(?:[.,_]\d+)?)?(?:Z|[+-]\d{2}:?\d{2}\b)?/g, to: "<ts>" },
  { re: /\b\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?\b/g, to: "<ts>" },
  { re: /\b\d+(?:\.\d+)?(?:ms|µs|us|ns|s|m|h)\b|\b\d+(?:\.\d+)? (?:ms|secs?|seconds?|mins?|minutes?|hours?)\b/g, to: "<dur>" },
  // UUIDs, hex literals, hashes (must contain a digit so words like "deadbeef"/"facade" stay)
  { re: /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, to: "<hex>" },
  { re: /\b0x[0-9a-fA-F]+\b/g, to: "<hex>" },
  { re: /\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{7,}\b/g, to: "<hex>" },
  { re: /\b(?=[0-9A-F]*\d)(?=[0-9A-F]*[A-F])[0-9A-F]{12,}\b/g, to: "<hex>" },
  // network addresses and ports
  { re: /\[?(?:[0-9a-f]{0,4}:){2,7}[0-9a-f]{0,4}\]?:\d+\b/gi, to: "<addr>" },
  { re: /\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b/g, to: "<addr>" },
  { re: /\blocalhost:\d+\b/gi, to: "<addr>" },
  // file locations: "a.ts(7,9)", "src/x.c:4:17", "Makefile:4", "(Main.java:4)"
  { re: new RegExp(String.raw`${PATHISH}\(\d+,\d+\)`, "g"), to: "<loc>" },
  { re: new RegExp(String.raw`${PATHISH}:\d+(?::\d+)?(?=$|[\s:),\]])`, "g"), to: "<loc>" },
  // paths: absolute, home-relative, Windows, relative ones that clearly are paths, bare file names
  { re: /(?<![\w.<>-])(?:~|\.{1,2})?(?:\/[\w.@+~,=-]+)+\/?/g, to: "<path>" },
  { re: /\b[A-Za-z]:\\[^\s:*?"<>|()]+/g, to: "<path>" },
  { re: new RegExp(String.raw`(?<![\w<>])(?:\.{1,2}\/)?[\w.@-]+(?:\/[\w.@-]+){2,}|(?<![\w<>])[\w.@-]+\/[\w.@-]*\.(?:${FILE_EXTENSIONS})\b`, "g"), to: "<path>" },
  { re: new RegExp(String.raw`(?<![\w<>/])[\w@-][\w.@-]*\.(?:${FILE_EXTENSIONS})\b|\b(?:${BARE_FILES})\b`, "g"), to: "<path>" },
  // nested names (Perl/Rust/C++): JSON::XS, crate::utils, std::vector (issue 10: the module is a name)
  { re: /(?<![\w<:])[A-Za-z_]\w*(?:::[A-Za-z_]\w*)+(?![\w:])/g, to: "<id>" },
  // code identifiers that cannot be English words: snake_case, dotted member chains (camelCase
  // is left alone: it is as often an API name, toBe or readFileSync, as a user's own name)
  { re: /(?<![\w<])[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b|\b_[_a-z0-9]+\b/g, to: "<id>" },
  { re: /(?<![\w<.])[a-z_$][\w$]+(?:\.[a-z_$][\w$]*)+(?:\(\))?(?![\w.])/g, to: "<id>" },
];

/** Post-passes that need the placeholders in place. */
function maskNames(line: string): string {
  let out = line;
  // "TypeError: slugify is not a function": the subject of an exception message is a name.
  out = out.replace(/^((?:[\w.]*(?:Error|Exception)|error|Uncaught \w+): )([A-Za-z_$][\w$]*(?:\(\))?)(?= (?:is|are|was|has|have|cannot|can not|must|should|does|did)\b)/, "$1<id>");
  // "line <n>: nmp: command not found": a lone word between two colons, followed by a message of
  // several words, is the name the message is about ("undefined: foo" is the other way round).
  out = out.replace(/(?<=: )([A-Za-z_][\w.+-]*)(?=: \S+ \S)/g, (m) => (isStructural(m) ? m : "<id>"));
  // "no such table: users", "undefined: foo": a lone word after a naming noun.
  out = out.replace(/^(.*\S): ([A-Za-z_][\w.+-]*)(\.?)$/, (m, head: string, word: string, dot: string) =>
    NAME_NOUNS.test(head) && !isStructural(word) ? `${head}: <id>${dot}` : m,
  );
  return out;
}

function isStructural(word: string): boolean {
  // ALLCAPS words are codes (ENOENT, ERESOLVE, CONFLICT), not names.
  return STRUCTURAL_WORDS.has(word.toLowerCase()) || /^[A-Z][A-Z0-9_]+$/.test(word) || word.startsWith("<");
}

/** Mask the variable parts of one line and collapse its whitespace. */
export function maskLine(line: string): string {
  let out = line;
  for (const m of MASKS) out = out.replace(m.re, m.to);
  out = maskNames(out);
  // numbers last: a digit run that is not part of a word (TS2322, E0425, x86_64 stay)
  out = out.replace(/(?<![\w<])[-+]?\d+(?:[.,]\d+)*(?![\w>])/g, "<n>");
  // a package pinned to a version: "numpy==<n>", "react@^<n>"
  out = out.replace(/(?<![\w.@/<-])@?[A-Za-z][\w.-]*(?:\/[\w.-]+)?(?=(?:==|>=|<=|~=|!=|@[\^~]?)<n>)/g, "<pkg>");
  out = out.replace(/\s+/g, " ").trim();
  // "a.ts:7:9 - error TS2322" (tsc --pretty) says the same as "a.ts(7,9): error TS2322"
  return out.replace(/^<loc> - /, "<loc>: ");
}

// ---------------------------------------------------------------------------------------------
// Noise

const STACK_FRAME = /^\s+at\s+\S|^\s*\.\.\. \d+ (?:more|common frames omitted)|^\s+at\s*$/;
const PY_FRAME = /^\s*File "[^"]*", line \d+/;
const PY_FRAMING = /^(?:Traceback \(most recent call last\):|During handling of the above exception, another exception occurred:|The above exception was the direct cause of the following exception:)\s*$/;
// gcc/clang/rustc source gutters, fix-it lines, rustc arrows, caret/tilde underlines.
// (A box-drawn message, terraform's "│ Error: …", is not a gutter: its prefix is stripped instead.)
const GUTTER = /^\s*\d+\s*[|│](?:\s|$)|^\s*[|│]\s*$|^\s+[|│]\s+[\^~\-+|]|^\s*\+\+\+\s*[|│]|^\s*-->\s|^\s*:::\s|^\s*=\s(?:note|help):/;
// pytest shows the failing source line behind ">".
const PYTEST_SOURCE = /^>\s{3,}\S/;
const CARET = /^[\s|│]*[\^~][\^~\-─]*(?:\s.*)?$/;
const SUMMARY = new RegExp(
  [
    String.raw`^Found \d+ errors?\b`,
    String.raw`^\d+ (?:errors?|warnings?)(?: and \d+ warnings?)? generated\.?$`,
    String.raw`^[✖×x] \d+ problems?\b`,
    String.raw`^\d+ errors? and \d+ warnings? potentially fixable`,
    String.raw`^cc1\w*: all warnings being treated as errors$`,
    String.raw`^error: could not compile .* due to \d+ previous errors?`,
    String.raw`^(?:error: )?aborting due to \d+ previous errors?`,
    String.raw`^For more information about (?:this|an) error, try`,
    String.raw`^Some errors have detailed explanations`,
    String.raw`^(?:Tests?|Test Suites|Snapshots|Time):\s+\d`,
    String.raw`^Ran all test suites`,
    String.raw`^=+ .*\b(?:passed|failed|errors?|skipped|warnings?)\b.* in [\d.]+s\b.*=+$`,
    String.raw`^=+ (?:short test summary info|FAILURES|ERRORS|warnings summary) =+$`,
    String.raw`^-- Docs: https?://`,
    String.raw`^Node\.js v\d`,
    String.raw`^A complete log of this run can be found in`,
    String.raw`^(?:To see a list of scripts, run|Did you mean (?:this|one of these)\?)`,
    String.raw`^Run \x60npm \w+\x60`,
    String.raw`^make(?:\[\d+\])?: (?:Entering|Leaving) directory`,
    String.raw`^(?:Require stack|Did you mean):?$`,
    String.raw`^npm run$`,
    String.raw`^Exited with code \d+$`,
    String.raw`^\d+ (?:errors?|warnings?)$`,
    String.raw`^# \S+$`, // go: the package being built
    String.raw`^(?:FAIL|PASS)\s+\S+$`, // jest: the test file
    String.raw`^compilation terminated\.$`,
  ].join("|"),
);
// Program chatter: leveled log lines that are not errors.
const LOG_LINE = /^\W{0,2}(?:\S+\s+){0,4}?\b(?:INFO|DEBUG|TRACE|NOTICE|VERBOSE)\b/;

// Prefixes some tools put in front of every line; the rest of the line is what matters.
// The sqlite3 shell says where the statement came from ("Parse error near line 3:" for a script,
// "Error: in prepare," for an argument); that depends on how it was run, not on the problem.
const PREFIXES: readonly { re: RegExp; via: string; level?: Line["level"] }[] = [
  { re: /^npm (?:error|ERR!)\s?/, via: "npm" },
  { re: /^npm (?:warn|WARN|notice|verbose|info|http|timing|sill)\s?/, via: "npm", level: "warning" },
  { re: /^E {2,}|^E\t/, via: "pytest" },
  { re: /^remote: /, via: "git" },
  { re: /^##\[(?:error|warning)\]/, via: "actions" },
  { re: /^#\d+ \d+\.\d+ /, via: "buildkit" },
  { re: /^\[(?:ERROR|FATAL)\]\s*/, via: "maven", level: "error" },
  { re: /^\[(?:WARN|WARNING)\]\s*/, via: "maven", level: "warning" },
  { re: /^[│┃]\s?/, via: "box" },
  { re: /^(?:Parse|Runtime) error near line \d+: |^Error: (?:in prepare, |stepping, |near line \d+: )/, via: "sqlite" },
];

// ---------------------------------------------------------------------------------------------
// Diagnostic levels

const ERROR_WORDS =
  /\b(?:errors?|err!|fatal|failed|failure|fail|exceptions?|panic(?:ked)?|abort(?:ed|ing)?|cannot|can't|can ?not|could ?not|couldn't|unable|not found|no such|denied|invalid|missing|undefined|undeclared|unexpected|unknown|unrecognized|unresolved|unsupported|conflicts?|refused|timed out|timeout|segmentation fault|core dumped|killed|out of memory|overflow|mismatch(?:ed)?|violat\w*|not allowed|forbidden|unauthorized|incompatible|expected|already (?:in use|exists|defined|declared)|not (?:a|an|defined|installed|permitted|supported|assignable|callable|iterable|subscriptable)|is not|are not|does not|did not|doesn't|isn't|no rule|no matching|no module|no version|corrupt(?:ed)?|malformed|illegal|bad|wrong|stop\.|assert(?:ion)?)\b|\*\*\*/i;
// Exception class names (case matters: "KeyError" is one, "mirror" is not).
const EXCEPTION_NAME = /[a-z](?:Error|Exception)\b|\b[A-Z]\w*(?:Error|Exception|Exit|Interrupt)\b/;
const WARNING_WORDS = /\b(?:warn(?:ing)?s?|deprecated|deprecation)\b/i;
const NOTE_PREFIX = /^(?:<loc>: )?(?:note|help|hint|info|suggestion)(?:\[\w+\])?:/i;
// "file:line:col: message" (go, gcc, javac) is a diagnostic whatever its words.
const LOCATED = /^<loc>: \S/;

function levelOf(masked: string, forced?: Line["level"]): Line["level"] {
  if (NOTE_PREFIX.test(masked)) return "note";
  if (/^(?:<loc>: )?warning\b/i.test(masked)) return "warning";
  if (forced) return forced;
  if (ERROR_WORDS.test(masked) || EXCEPTION_NAME.test(masked) || LOCATED.test(masked)) return "error";
  if (WARNING_WORDS.test(masked)) return "warning";
  return "none";
}

// ---------------------------------------------------------------------------------------------

/** Split, strip and mask; noise lines are gone from the result. */
export function meaningfulLines(raw: string): Line[] {
  let input = stripAnsi(raw).split("\n");
  // Errors are named near the top (compilers) or the bottom (tracebacks) of a long output.
  if (input.length > MAX_INPUT_LINES) input = [...input.slice(0, MAX_INPUT_LINES / 2), ...input.slice(-MAX_INPUT_LINES / 2)];
  const out: Line[] = [];
  // Indentation of the last `File "...", line N` (its source line is indented deeper); -1 outside.
  let frameIndent = -1;
  // Inside a list that is not the error: npm's "Did you mean" (indented), node's "Require stack" ("- path").
  let list: RegExp | undefined;
  for (let i = 0; i < input.length; i++) {
    let text = input[i]!.slice(0, MAX_LINE_CHARS).replace(/\s+$/, "");
    let via: string | undefined;
    let forced: Line["level"] | undefined;
    // Prefixes nest ("#8 0.412 npm error …" in a docker build): strip until none is left.
    for (let pass = 0, again = true; again && pass < 4; pass++) {
      again = false;
      for (const p of PREFIXES) {
        const m = p.re.exec(text);
        if (!m || m[0].length === 0) continue;
        text = text.slice(m[0].length);
        via = p.via;
        forced ??= p.level;
        again = true;
      }
    }
    const trimmed = text.trim();
    // Python: `File "...", line N, in f` is followed by the (more indented) source line.
    if (PY_FRAME.test(text)) {
      frameIndent = indentOf(text);
      continue;
    }
    if (frameIndent >= 0 && indentOf(text) > frameIndent && trimmed !== "") {
      frameIndent = -1;
      continue;
    }
    frameIndent = -1;
    if (trimmed === "") {
      list = undefined;
      continue;
    }
    // "Did you mean this?" / "Require stack:" introduce indented lists that are not the error.
    if (/^Did you mean (?:this|one of these)\?$/.test(trimmed)) {
      list = /^\s/;
      continue;
    }
    if (trimmed === "Require stack:") {
      list = /^- /;
      continue;
    }
    if (list?.test(text)) continue;
    list = undefined;
    if (STACK_FRAME.test(text) || PYTEST_SOURCE.test(text) || PY_FRAMING.test(trimmed) || GUTTER.test(text) || CARET.test(text)) continue;
    // A line right above a caret line is the source excerpt it points into.
    const next = input[i + 1];
    if (next !== undefined && CARET.test(next) && !GUTTER.test(text)) continue;
    if (SUMMARY.test(trimmed)) continue;
    // Rules, box corners, the braces of a dumped error object: no words at all.
    if (!/[\p{L}\p{N}]/u.test(trimmed)) continue;
    const masked = maskLine(trimmed);
    // Only a location ("/x/index.js:4", an eslint file header) or only placeholders.
    if (/^(?:<\w+>[\s:,()]*)+$/.test(masked)) continue;
    let level = levelOf(masked, forced);
    if (level === "error" && LOG_LINE.test(trimmed) && !/\b(?:ERROR|FATAL|CRITICAL)\b/.test(trimmed)) level = "none";
    out.push(via ? { raw: trimmed, masked, level, via } : { raw: trimmed, masked, level });
  }
  return out;
}

function indentOf(line: string): number {
  return line.length - line.trimStart().length;
}

// Python prints the exception last, after the frames; so does anything with a traceback.
const EXCEPTION_LINE = /^(?:[A-Za-z_][\w]*\.)*[A-Z]\w*(?:Error|Exception|Warning|Exit|Interrupt|Iteration)(?::\s|$)/;

/** Index of the headline among `lines`: the line the problem is named on. */
export function headlineIndex(lines: readonly Line[], hasTraceback: boolean): number {
  if (hasTraceback) {
    for (let i = lines.length - 1; i >= 0; i--) if (EXCEPTION_LINE.test(lines[i]!.raw)) return i;
  }
  for (const level of ["error", "warning"] as const) {
    const i = lines.findIndex((l) => l.level === level && !WRAPPER.test(l.raw));
    if (i >= 0) return i;
  }
  // Only wrappers, or nothing that looks like a diagnostic: the first wrapper, else the last line.
  const wrapper = lines.findIndex((l) => l.level === "error");
  return wrapper >= 0 ? wrapper : lines.length - 1;
}

export function normalizeError(raw: string): NormalizedError {
  const lines = meaningfulLines(raw);
  const hasTraceback = /^\s*Traceback \(most recent call last\):/m.test(raw);
  const head = headlineIndex(lines, hasTraceback);
  const headline = lines[head];
  let template = headline?.masked ?? "";
  // "thread 'main' panicked at src/main.rs:5:18:" — a headline ending in a colon is continued on
  // the next line, which says what actually went wrong.
  const next = lines[head + 1];
  const continued = template.endsWith(":") && next !== undefined && next.level !== "note" && next.level !== "warning";
  if (continued) template = `${template} ${next.masked}`;
  const used = new Set([headline, continued ? next : undefined]);
  const diagnostics = headline ? [template] : [];
  for (const l of lines) {
    if (diagnostics.length >= MAX_LINES) break;
    if (used.has(l) || l.level !== "error" || WRAPPER.test(l.raw) || diagnostics.includes(l.masked)) continue;
    diagnostics.push(l.masked);
  }
  const text = [...new Set(lines.map((l) => l.masked))].join("\n");
  const headRaw = headline ? (continued ? `${headline.raw} ${next.raw}` : headline.raw) : "";
  return {
    error_type: classifyError(lines, head),
    template,
    lines: diagnostics,
    text,
    headRaw,
  };
}

// ---------------------------------------------------------------------------------------------
// Tokens for the similar match

// Function words that carry no meaning of their own. "no", "not" and "such" are handled apart:
// negations are kept, "such" is dropped so "no such column" and "has no column" share "no column".
const STOPWORDS = new Set([
  "a", "an", "the", "of", "to", "in", "on", "at", "for", "by", "with", "from", "as", "and", "or",
  "is", "are", "was", "were", "be", "been", "it", "its", "this", "that", "these", "those", "such",
  "then", "than", "there", "here", "into", "onto", "if", "so", "do", "e", "g", "i", "s",
]);

/** Lower-cased word tokens of masked text, placeholders and stopwords removed, in order. */
export function templateWords(masked: string): string[] {
  const words: string[] = [];
  for (const m of masked.replace(/<\w+>/g, " ").toLowerCase().matchAll(/[\p{L}\p{N}_]+/gu)) {
    const w = m[0];
    if (!STOPWORDS.has(w)) words.push(w);
  }
  return words;
}

/**
 * Features of a normalized error for the similar match: the words of its diagnostic lines, and
 * adjacent word pairs (so "no column" and "no table" differ even though both share "no").
 * A pair never spans a ": " (the fields of a message: "parse error: Expected …", "fatal: pathspec"),
 * and a plural is folded into its singular ("files" → "file"), so that a reworded message (issue
 * 10: "did not match any file(s)" / "any files") shares the words it really shares.
 */
export function features(lines: readonly string[]): string[] {
  const out = new Set<string>();
  for (const line of lines) {
    // An aside in parentheses ("(did you mean TAB instead of <n> spaces?)", "(or any of the parent
    // directories)") elaborates on the message: its words are features of their own kind, "(word",
    // that score.ts weighs less, and the words around it still pair up.
    const main = line.replace(/(?<=\s)\(([^()]*)\)/g, (_m, aside: string) => {
      for (const w of templateWords(aside)) out.add(`(${singular(w)}`);
      return " ";
    });
    for (const field of main.split(/:\s/)) {
      const words = templateWords(field).map(singular);
      for (let i = 0; i < words.length; i++) {
        out.add(words[i]!);
        if (i > 0) out.add(`${words[i - 1]!} ${words[i]!}`);
      }
    }
  }
  return [...out];
}

/** "files" → "file", "values" → "value"; "class", "status", "is", "has" stay. */
function singular(word: string): string {
  return word.length > 3 && /[^su]s$/.test(word) && !/(?:ss|us|is)$/.test(word) ? word.slice(0, -1) : word;
}

/**
 * The fixed prefix a tool names its kind of message with, when the error type is generic:
 * "parse error" (jq), "no such column" (sqlite). Lower case, at most four words, no placeholder;
 * undefined when the headline has none.
 */
export function messageKind(template: string): string | undefined {
  const head = template.replace(/^(?:<\w+>(?::<n>)*:\s)+/, "");
  const m = /^([A-Za-z][\w -]{0,60}?):\s/.exec(head);
  if (!m || m[1]!.trim().split(/\s+/).length > 4) return undefined;
  const kind = m[1]!.toLowerCase().trim();
  return /^(?:error|fatal|warning|note|hint|make|npm|bash|sh|line)$/.test(kind) ? undefined : kind;
}
