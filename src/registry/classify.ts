/**
 * error_type: the kind of problem, as the tool itself names it where it does.
 *
 * Most specific first: a tool's own code (TS2307, E0425, ERR_MODULE_NOT_FOUND, npm's E404), then
 * an exception class (KeyError, java.lang.NullPointerException), a compiler warning flag, an eslint
 * rule, an errno (from the code or from its strerror text), a few well-known message kinds (git's
 * `fatal:`, make's `***`, a shell's "command not found", signals), and as a last resort the exit
 * code the output mentions, or plain "error".
 */
import type { Line } from "./line.js";

type Rule = (line: Line) => string | undefined;

const ERRNO_NAMES = new Set([
  "ENOENT", "EACCES", "EPERM", "EEXIST", "EISDIR", "ENOTDIR", "ENOTEMPTY", "EADDRINUSE",
  "EADDRNOTAVAIL", "ECONNREFUSED", "ECONNRESET", "ECONNABORTED", "ETIMEDOUT", "EPIPE", "EMFILE",
  "ENFILE", "ENOSPC", "EROFS", "EBUSY", "EAI_AGAIN", "ENOTFOUND", "EHOSTUNREACH", "ENETUNREACH",
  "EINVAL", "ELOOP", "ENAMETOOLONG", "EXDEV", "ESRCH", "EAGAIN", "ENOMEM", "ENOEXEC", "ETXTBSY",
  "EINTR", "EIO", "EBADF", "ECHILD", "EDQUOT", "ENOTSUP", "EPROTO", "ENOTCONN", "ESPIPE",
]);

// strerror(3) texts, as printed by shells, coreutils, compilers and language runtimes.
const STRERROR: readonly [RegExp, string][] = [
  [/No such file or directory/i, "ENOENT"],
  [/Permission denied/i, "EACCES"],
  [/Operation not permitted/i, "EPERM"],
  [/File exists/i, "EEXIST"],
  [/Is a directory/i, "EISDIR"],
  [/Not a directory/i, "ENOTDIR"],
  [/Directory not empty/i, "ENOTEMPTY"],
  [/Address already in use/i, "EADDRINUSE"],
  [/Connection refused/i, "ECONNREFUSED"],
  [/Connection reset by peer/i, "ECONNRESET"],
  [/Connection timed out/i, "ETIMEDOUT"],
  [/Broken pipe/i, "EPIPE"],
  [/Too many open files/i, "EMFILE"],
  [/No space left on device/i, "ENOSPC"],
  [/Read-only file system/i, "EROFS"],
  [/Device or resource busy/i, "EBUSY"],
  [/Text file busy/i, "ETXTBSY"],
  [/Exec format error/i, "ENOEXEC"],
  [/Cannot allocate memory/i, "ENOMEM"],
  [/Network is unreachable/i, "ENETUNREACH"],
  [/No route to host/i, "EHOSTUNREACH"],
  [/Name or service not known|Temporary failure in name resolution|Could not resolve host/i, "ENOTFOUND"],
];

const SIGNALS: readonly [RegExp, string][] = [
  [/\bSegmentation fault\b/i, "SIGSEGV"],
  [/\bBus error\b/, "SIGBUS"],
  [/\bAborted\b.*core dumped|^Aborted$/, "SIGABRT"],
  [/^Killed$|\bKilled\b.*\bsignal 9\b/, "SIGKILL"],
  [/\bFloating point exception\b/, "SIGFPE"],
  [/\bIllegal instruction\b/, "SIGILL"],
];

// SQLite result codes, from the message text (the shell prints no code).
const SQLITE: readonly [RegExp, string][] = [
  [/constraint failed/i, "SQLITE_CONSTRAINT"],
  [/database is locked/i, "SQLITE_BUSY"],
  [/database table is locked/i, "SQLITE_LOCKED"],
  [/readonly database/i, "SQLITE_READONLY"],
  [/unable to open database/i, "SQLITE_CANTOPEN"],
  [/file is not a database/i, "SQLITE_NOTADB"],
  [/database disk image is malformed/i, "SQLITE_CORRUPT"],
  [/datatype mismatch/i, "SQLITE_MISMATCH"],
  [/string or blob too big/i, "SQLITE_TOOBIG"],
  [/interrupted/i, "SQLITE_INTERRUPT"],
];
const SQLITE_MESSAGE =
  /^(?:no such (?:table|column|function|index|view|trigger|module|collation)|table \S+ has no column named|near ".*": syntax error|incomplete input|(?:table|index|view|trigger) \S+ already exists|\S+ values for \d+ columns|ambiguous column name|misuse of aggregate|.*constraint failed)/;

// Exception classes: Python, Java, JS, C#, Ruby… The bare "Error" is JS/sqlite generic: skipped.
const EXCEPTION =
  /(?:^|[\s(\-])((?:[A-Za-z_$][\w$]*\.)*(?:[A-Z][\w$]*(?:Error|Exception|Warning|Exit|Interrupt|Fault|Failure)|StopIteration|StopAsyncIteration|KeyboardInterrupt|SystemExit|GeneratorExit|Exception))(?=:|$|\)|\s+\(|\s+\[)/;

const codeRules: readonly Rule[] = [
  // tsc TS2307, C# CS0103, MSVC C2065 / LNK2019, MSBuild MSB3073, NuGet NU1101, F# FS0039
  (l) => /\b(?:error|warning) ([A-Z]{1,4}\d{3,5})\s*:/.exec(l.raw)?.[1] ?? /^(TS\d{4,5}):/.exec(l.raw)?.[1],
  (l) => /\b(?:error|warning)\[(E\d{4})\]/.exec(l.raw)?.[1],
  (l) => /\[(ERR_[A-Z0-9_]+)\]/.exec(l.raw)?.[1],
  (l) => /^\s*(?:code|errorCode):?\s+['"]?(ERR_[A-Z0-9_]+|MODULE_NOT_FOUND|E[A-Z][A-Z0-9_]+)['"]?,?$/.exec(l.raw)?.[1],
  // npm's own codes; ELIFECYCLE only says that a script failed, the script's output says why.
  (l) => (l.via === "npm" && l.raw !== "code ELIFECYCLE" ? /^code (E[A-Z0-9_]+)$/.exec(l.raw)?.[1] : undefined),
];

const headlineRules: readonly Rule[] = [
  (l) => EXCEPTION.exec(l.raw)?.[1],
  (l) => {
    const m = /\b(E[A-Z][A-Z0-9_]+)\b/.exec(l.raw);
    return m && ERRNO_NAMES.has(m[1]!) ? m[1] : undefined;
  },
  (l) => {
    const m = /\[-W(?:error=)?([\w+=-]+)\]/.exec(l.raw);
    return m ? `-W${m[1]!}` : undefined;
  },
  // eslint: "  3:7  error  'x' is assigned a value but never used  no-unused-vars"
  (l) => /^\d+:\d+\s+(?:error|warning)\s+.*?\s{2,}(@?[\w-]+(?:\/[\w-]+)*)$/.exec(l.raw)?.[1],
  (l) => {
    if (l.via !== "sqlite" && !(/^Error: /.test(l.raw) && SQLITE_MESSAGE.test(l.raw.slice(7)))) return undefined;
    for (const [re, code] of SQLITE) if (re.test(l.raw)) return code;
    return "SQLITE_ERROR";
  },
  // pip and other tools that name the error with a slug: "error: externally-managed-environment"
  (l) => /^error: ([a-z]+(?:-[a-z]+)+)$/.exec(l.raw)?.[1],
  (l) => (/\bcommand not found\b|^\S+: \d+: \S+: not found$/.test(l.raw) ? "command not found" : undefined),
  (l) => {
    for (const [re, code] of SIGNALS) if (re.test(l.raw)) return code;
    return undefined;
  },
  (l) => {
    for (const [re, code] of STRERROR) if (re.test(l.raw)) return code;
    return undefined;
  },
  (l) => (/^panic: /.test(l.raw) ? (/^panic: runtime error\b/.test(l.raw) ? "runtime error" : "panic") : undefined),
  (l) => (/^fatal: /.test(l.raw) ? "fatal" : undefined),
  (l) => (/^CONFLICT \(/.test(l.raw) ? "CONFLICT" : undefined),
  (l) => (/\*\*\* .*\bStop\.$|^g?make(?:\[\d+\])?: \*\*\* /.test(l.raw) ? "make" : undefined),
  (l) => (/^(?:E\s+)?assert\b|^AssertionError\b/.test(l.raw) ? "AssertionError" : undefined),
];

// Lines that only report that something underneath failed ("make: *** [all] Error 1", "Command
// failed with exit code 1", pip's "subprocess-exited-with-error"): the cause is on another line.
export const WRAPPER =
  /^g?make(?:\[\d+\])?: \*\*\* \[.*\] Error \d+|\bCommand failed with exit code\b|\bProcess completed with exit code\b|\bdid not (?:complete|run) successfully\b|\bexited with (?:exit )?code\b|\breturned non-zero exit status\b|^error: subprocess-exited-with-error$|\bLifecycle script .* failed\b|^collect2: error: ld returned\b|^code E?[A-Z0-9_]+$|^(?:command failed|errno -?\d+)$/;

const EXIT = /\bexit(?:ed with)? (?:status|code)[: ]\s*(\d{1,3})\b|\bexited with (?:exit )?code (\d{1,3})\b|\breturned non-zero exit status (\d{1,3})\b|^g?make(?:\[\d+\])?: \*\*\* \[.*\] Error (\d{1,3})$/;

function firstMatch(rules: readonly Rule[], lines: readonly Line[]): string | undefined {
  for (const rule of rules) {
    for (const l of lines) {
      const t = rule(l);
      if (t) return t;
    }
  }
  return undefined;
}

/** Classify the output whose meaningful lines are `lines` and whose headline is `lines[head]`. */
export function classifyError(lines: readonly Line[], head: number): string {
  const headline = lines[head];
  const diagnostics = lines.filter((l) => l.level === "error");
  // A tool's own code anywhere in the output is the most precise name there is.
  const code = firstMatch(codeRules, headline ? [headline, ...lines] : lines);
  if (code) return code;
  if (headline) {
    const t = firstMatch(headlineRules, [headline]);
    if (t) return t;
  }
  const other = firstMatch(headlineRules, diagnostics.filter((l) => !WRAPPER.test(l.raw)));
  if (other) return other;
  // The exit code is a last resort, and says something only when no real diagnostic was printed.
  if (headline && headline.level !== "none" && !WRAPPER.test(headline.raw)) return headline.level === "warning" ? "warning" : "error";
  for (const l of lines) {
    const m = EXIT.exec(l.raw);
    if (m) return `exit ${m[1] ?? m[2] ?? m[3] ?? m[4]}`;
  }
  return headline?.level === "warning" ? "warning" : "error";
}
