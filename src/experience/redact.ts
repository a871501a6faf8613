/**
 * Secret redaction, applied to every text before it is stored.
 *
 * Each pattern finds a candidate; the part that is the secret (the first named group whose name
 * starts with "secret" that took part in the match, else the whole match) is replaced with
 * `[REDACTED:<name>]`, so the context around it (`password=`, `https://user:`, ...) stays readable.
 *
 * Rules the patterns keep to:
 * - Linear time: every repetition is over one character class, or over alternatives that cannot
 *   start with the same character, and unbounded runs are never followed by something that could
 *   make the engine retry them from every split point. No `[\s\S]*?` searches for a distant end.
 * - Idempotent: no secret may start with `[REDACTED:` (checked centrally), and no pattern matches
 *   inside a tag, so redacting twice changes nothing more.
 * - Specific, prefixed tokens run before the generic context patterns, so `token=ghp_...` is
 *   counted once, as a GitHub token.
 */

export interface SecretPattern {
  /** Appears in the replacement tag: `[REDACTED:<name>]`. */
  readonly name: string;
  /** Must carry the `g` and `d` flags (d gives the group offsets needed to keep the context). */
  readonly regex: RegExp;
  /**
   * Second look for context patterns that also match ordinary text. `end` is the offset just after
   * the secret in `text`. Returns where the secret really ends (usually `end`), or undefined to
   * leave this match alone.
   */
  readonly review?: (secret: string, match: RegExpExecArray, text: string, end: number) => number | undefined;
}

const TAG_PREFIX = "[REDACTED:";

const tag = (name: string): string => `${TAG_PREFIX}${name}]`;

// Quoted values: the "unrolled loop" form. The two alternatives inside cannot start with the same
// character (backslash vs non-backslash), so this is linear even though it is a nested repetition.
const DQ = String.raw`"(?<secretDq>[^"\\\r\n]*(?:\\.[^"\\\r\n]*)*)"`;
const SQ = String.raw`'(?<secretSq>[^'\\\r\n]*(?:\\.[^'\\\r\n]*)*)'`;
const BQ = String.raw`\x60(?<secretBq>[^\x60\\\r\n]*(?:\\.[^\x60\\\r\n]*)*)\x60`;

// Values that are clearly not secrets: empty, env/template references, masks, null-ish words.
const PLACEHOLDER =
  /^(?:|null|none|nil|undefined|true|false|empty|redacted|\*+|x{3,}|\.{3}|…|<[^<>]*>|\$[A-Za-z_][A-Za-z0-9_]*|\$\{.*|\{\{.*|%[A-Za-z_][A-Za-z0-9_]*%|%s|process\.env\.[A-Za-z_][A-Za-z0-9_]*)$/i;

// `password: string` in TypeScript/Python signatures and tsc messages is a type, not a value.
const TYPE_WORD =
  /^(?:string|str|number|int|float|bool|boolean|bytes|any|unknown|never|object|void|symbol|bigint|optional|secretstr)\b/i;

// Source code shown in tracebacks: `password=args.password`, `token=get_token()`, `token=token`.
const CODE_VALUE =
  /^(?:(?:self|this|cls|args|opts|options|kwargs|config|cfg|conf|settings|params|props|request|req|ctx|context|env|os\.environ|process\.env)\b[.[]|[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*\(|(?:password|passwd|passphrase|secret|token|api_?key|apikey|access_?key|secret_?key|private_?key)$)/i;

const isSpace = (c: number): boolean => c === 32 || c === 9;
const isEol = (c: number): boolean => c === 10 || c === 13;

/** Offset where the whitespace-free token containing `end` ends (`end` if at whitespace). */
function tokenEnd(text: string, end: number): number {
  let i = end;
  while (i < text.length && !isSpace(text.charCodeAt(i)) && !isEol(text.charCodeAt(i))) i++;
  return i;
}

/** After `end` only spaces until the end of the line. */
function atLineEnd(text: string, end: number): boolean {
  for (let i = end; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (isEol(c)) return true;
    if (!isSpace(c)) return false;
  }
  return true;
}

function isQuoted(match: RegExpExecArray): boolean {
  const g = match.groups;
  return g !== undefined && (g.secretDq !== undefined || g.secretSq !== undefined || g.secretBq !== undefined);
}

/** Review for `key = value` style matches. */
function reviewAssignment(secret: string, match: RegExpExecArray, text: string, end: number): number | undefined {
  if (PLACEHOLDER.test(secret)) return undefined;
  if (isQuoted(match)) return end;
  if (CODE_VALUE.test(secret)) return undefined;
  const sep = match.groups?.sep ?? "";
  if (sep.includes(":") && !sep.includes(":=")) {
    // `key: value` is also how prose and type annotations look; only trust it when the value is
    // the last thing on the line, as in YAML or an HTTP header. There '&', ',' and ';' do not end
    // the value (they do in a query string or code), so take the whole token.
    if (TYPE_WORD.test(secret)) return undefined;
    const tokEnd = tokenEnd(text, end);
    return atLineEnd(text, tokEnd) ? tokEnd : undefined;
  }
  return end;
}

// Name segments that mark an environment variable as holding a secret.
const SECRET_SEGMENTS = new Set([
  "TOKEN",
  "TOKENS",
  "SECRET",
  "SECRETS",
  "PASSWORD",
  "PASSWD",
  "PASS",
  "PASSPHRASE",
  "PAT",
  "APIKEY",
  "CREDENTIAL",
  "CREDENTIALS",
]);

function isSecretEnvName(name: string): boolean {
  const segments = name.toUpperCase().split("_").filter((s) => s.length > 0);
  if (segments.some((s) => SECRET_SEGMENTS.has(s))) return true;
  // FOO_KEY, OPENAI_API_KEY, but not a lone KEY or KEYMAP.
  return segments.length > 1 && segments[segments.length - 1] === "KEY";
}

// Bare (unquoted) value: stops at whitespace, quotes and the usual delimiters of code and URLs.
const BARE = String.raw`(?<secretBare>[^\s"'\x60,;&)\]}]+)`;

export const SECRET_PATTERNS: readonly SecretPattern[] = [
  {
    // Whole PEM block, header lines included. The body runs over base64, whitespace, escaped
    // newlines (JSON) and "Proc-Type:"/"DEK-Info:" headers, up to the END line; a truncated block
    // (no END line) is redacted up to the first character that cannot be part of a key.
    name: "private-key",
    regex:
      /-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----(?:[A-Za-z0-9+/=\s\\:,.]|-(?!----))*(?:-----END [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----)?/dg,
  },
  {
    // Only the long-term (AKIA) and temporary (ASIA) key id prefixes, plus the two rarer key
    // prefixes; AROA/AIDA are unique ids that show up in ordinary STS errors.
    name: "aws-access-key-id",
    regex: /\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b/dg,
  },
  {
    // 40 base64 chars look like many things (a git SHA is 40 hex), so require the key name.
    name: "aws-secret-access-key",
    regex: /(?:aws_?)?secret_?access_?key["']?\s*(?::=|[:=])\s*["']?(?<secret>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])/dgi,
  },
  {
    name: "github-token",
    regex: /\b(?:gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{22,242})(?![A-Za-z0-9_])/dg,
  },
  {
    // Before openai-api-key: both start with "sk-".
    name: "anthropic-api-key",
    regex: /\bsk-ant-[A-Za-z0-9_-]{20,}/dg,
  },
  {
    // Project/service-account keys carry a dash-separated prefix; legacy keys are one alnum run.
    name: "openai-api-key",
    regex: /\bsk-(?:(?:proj|svcacct|admin|None)-[A-Za-z0-9_-]{20,}|[A-Za-z0-9]{32,}(?![A-Za-z0-9_-]))/dg,
  },
  {
    name: "slack-token",
    regex: /\bxox[abposre]-[A-Za-z0-9-]{10,}/dg,
  },
  {
    // The path after /services/ is the credential; keep the host so the text still says "Slack".
    name: "slack-webhook",
    regex: /\bhttps?:\/\/hooks\.slack\.com\/(?:services|workflows|triggers)\/(?<secret>[A-Za-z0-9_/-]{8,})/dg,
  },
  {
    name: "stripe-key",
    regex: /\b(?:(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}|whsec_[A-Za-z0-9]{24,})(?![A-Za-z0-9])/dg,
  },
  {
    name: "google-api-key",
    regex: /\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])/dg,
  },
  {
    name: "gitlab-token",
    regex: /\bgl(?:pat|dt|rt|ptt|soat|cbt|ft|imt|oas)-[0-9A-Za-z_-]{20,}/dg,
  },
  {
    name: "npm-token",
    regex: /\bnpm_[A-Za-z0-9]{36}(?![A-Za-z0-9])/dg,
  },
  {
    name: "huggingface-token",
    regex: /\bhf_[A-Za-z0-9]{34,40}(?![A-Za-z0-9])/dg,
  },
  {
    name: "pypi-token",
    regex: /\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}/dg,
  },
  {
    // header.payload.signature; the header is JSON so it always starts "eyJ". The signature may be
    // empty (alg "none"), the first two parts are long enough not to hit ordinary dotted names.
    name: "jwt",
    // The lookbehind (not \b) keeps "-eyJ" inside a long base64url run from being retried as a
    // fresh start at every occurrence, which would be quadratic when no "." follows.
    regex: /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]*/dg,
  },
  {
    // scheme://user:password@host -> keep scheme, user and host. Anchored on "://" (a literal the
    // engine can scan for); the password may contain '@', the last '@' before the path ends it.
    name: "url-credentials",
    regex: /:\/\/[^\s:@/?#"'<>]{0,256}:(?<secret>(?!\[REDACTED:)[^\s/?#"'<>]{1,256})@/dg,
  },
  {
    // Authorization: Bearer <token> / Basic <b64> / token <t>: keep the scheme word.
    name: "authorization-header",
    regex:
      /\b(?:proxy-)?authorization["']?[ \t]*[:=][ \t]*["']?(?:(?:bearer|basic|token|bot|digest|negotiate|ntlm|apikey)[ \t]+)?(?!(?:bearer|basic|token|bot|digest|negotiate|ntlm)\b)(?<secret>[^\s"',;]+)/dgi,
  },
  {
    // A bare "Bearer <token>" outside a header (curl -H, gRPC metadata, logs).
    name: "bearer-token",
    regex: /\bbearer[ \t]+(?<secret>[A-Za-z0-9._~+/-]{20,}=*)/dgi,
    // "bearer authentication_required_for_..." is prose; real tokens carry digits.
    review: (secret, _m, _t, end) => (/[0-9]/.test(secret) ? end : undefined),
  },
  {
    // export GITHUB_PAT=..., set DB_PASSWORD=..., $env:OPENAI_API_KEY = "...", ENV/ARG in Dockerfiles.
    name: "env-export",
    regex: new RegExp(
      String.raw`(?:\b(?:export|set|setx|env|arg)[ \t]+|\$env:)(?<name>[A-Za-z_][A-Za-z0-9_]{0,79})[ \t]*=[ \t]*(?:${DQ}|${SQ}|${BARE})`,
      "dgi",
    ),
    review: (secret, match, _t, end) =>
      isSecretEnvName(match.groups?.name ?? "") && !PLACEHOLDER.test(secret) ? end : undefined,
  },
  {
    // --password hunter2, --token=abc, --api-key "...".
    name: "cli-secret-flag",
    regex: new RegExp(
      String.raw`(?<![\w-])--(?:password|passwd|passphrase|token|api-?key|secret|client-secret|access-token|auth-token)(?<sep>=|[ \t]+)(?!-)(?:${DQ}|${SQ}|${BARE})`,
      "dgi",
    ),
    review: (secret, match, _t, end) => {
      if (PLACEHOLDER.test(secret)) return undefined;
      // With a space, "--token to pass a token" is help text; want a digit or symbol, or length.
      const spaced = match.groups?.sep !== "=";
      const wordy = !isQuoted(match) && !/[^A-Za-z]/.test(secret) && secret.length < 16;
      return spaced && wordy ? undefined : end;
    },
  },
  {
    // curl -u user:password / --user user:password. Only on a curl line: elsewhere -u is a uid
    // (docker run -u 1000:1000) or upstream (git push -u). The scan up to "-u" never fails (the
    // credential part is optional), so it consumes the line and "curl curl curl ..." cannot make
    // every occurrence rescan the rest of the line.
    name: "curl-user",
    regex:
      /\bcurl\b(?:[^\r\n-]|-(?!u|-user))*(?:(?:-u|--user)[ \t]*["']?[^\s:"']{1,128}:(?<secret>[^\s"']{1,256}))?/dg,
    review: (_s, match, _t, end) => (match.groups?.secret === undefined ? undefined : end),
  },
  {
    // ~/.netrc: machine host login user password secret
    name: "netrc-password",
    regex: /\bmachine[ \t]+\S+[ \t]+login[ \t]+\S+[ \t]+password[ \t]+(?<secret>\S+)/dg,
  },
  {
    // password=..., "api_key": "...", client_secret: '...', DB_PASSWORD=..., token := "...".
    // The key must END with the keyword (so TokenExpiredError:, max_tokens=, tokenizer: do not
    // match), and "==" / "=>" are comparisons and arrows, not assignments.
    name: "secret-assignment",
    regex: new RegExp(
      String.raw`(?:password|passwd|passphrase|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|signing[_-]?key|encryption[_-]?key)(?<sep>["']?[ \t]*(?::=|[:=](?![=>]))[ \t]*)(?:${DQ}|${SQ}|${BQ}|${BARE})`,
      "dgi",
    ),
    review: reviewAssignment,
  },
];

/** Offsets of the secret part of a match: the first "secret*" group that matched, else all of it. */
function secretSpan(m: RegExpExecArray): [number, number] {
  const groups = m.indices?.groups;
  if (groups) {
    for (const [name, span] of Object.entries(groups)) {
      if (span !== undefined && name.startsWith("secret")) return span;
    }
  }
  return [m.index, m.index + m[0].length];
}

function applyPattern(text: string, p: SecretPattern): { text: string; count: number } {
  let out = "";
  let last = 0;
  let count = 0;
  for (const m of text.matchAll(p.regex)) {
    const [start, matchEnd] = secretSpan(m);
    if (start < last) continue; // inside a span an earlier match extended over
    const secret = text.slice(start, matchEnd);
    if (secret.startsWith(TAG_PREFIX)) continue;
    const end = p.review ? p.review(secret, m, text, matchEnd) : matchEnd;
    if (end === undefined) continue;
    // A bare value that runs into an earlier tag ("x-[REDACTED:jwt]") stops at its "]": swallow it
    // so no stray bracket is left behind.
    const redacted = end === matchEnd ? secret : text.slice(start, end);
    const inner = redacted.lastIndexOf(TAG_PREFIX);
    const cut = inner > 0 && !redacted.includes("]", inner) && text[end] === "]" ? end + 1 : end;
    out += text.slice(last, start) + tag(p.name);
    last = cut;
    count++;
  }
  return count === 0 ? { text, count } : { text: out + text.slice(last), count };
}

/**
 * Replace every secret found in `text` with `[REDACTED:<pattern name>]`.
 * Returns the redacted text and how many secrets were replaced. Idempotent.
 */
export function redactSecrets(text: string): { text: string; count: number } {
  let out = text;
  let count = 0;
  for (const p of SECRET_PATTERNS) {
    const r = applyPattern(out, p);
    out = r.text;
    count += r.count;
  }
  return { text: out, count };
}
