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
 *
 * One file: the patterns are one ordered list, checked together for linear time and idempotence
 * (test/redact*.test.ts); split, the order that makes them correct would span files.
 */

export interface SecretPattern {
  /** Appears in the replacement tag: `[REDACTED:<name>]`. */
  readonly name: string;
  /**
   * Found in every match of `regex` (a literal V8 scans for fast): a text without it skips the
   * pattern. test/redact.test.ts checks it against every case.
   */
  readonly anchor: RegExp;
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
  /^(?:(?:new|await|function|lambda|async|typeof|yield|not|require|import)$|(?:self|this|cls|args|opts|options|kwargs|config|cfg|conf|settings|params|props|request|req|ctx|context|env|os\.environ|process\.env)\b[.[]|[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*\(|(?:password|passwd|passphrase|secret|token|api_?key|apikey|access_?key|secret_?key|private_?key)$)/i;

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

/** Offset where a bare env-style value ends: the next whitespace or quote ('&', ';' and '#' belong to it). */
function envValueEnd(text: string, end: number): number {
  let i = end;
  while (i < text.length && !/[\s"'\x60]/.test(text[i]!)) i++;
  return i;
}

/**
 * A `NAME=value` written the way env files and shells write it: the name has no lowercase letter
 * (DB_PASSWORD=) or starts its line (a .env line). There the value runs to the next whitespace,
 * so `Tr0ub4dor&3horse` loses its `&3horse` too; in a query string (`?token=a&b=c`) '&' ends it.
 */
function isEnvStyle(match: RegExpExecArray, text: string): boolean {
  if ((match.groups?.sep ?? "=").trim() !== "=" || isQuoted(match)) return false;
  let start = match.index;
  while (start > 0 && /[A-Za-z0-9_]/.test(text[start - 1]!)) start--;
  const name = text.slice(start, match.index + match[0].indexOf("="));
  if (!/[a-z]/.test(name)) return true;
  // Only blanks, or "export" and blanks, between the line's start and the name. Walked back
  // character by character (a lastIndexOf of the line break would rescan a long line per match).
  let i = start;
  while (i > 0 && isSpace(text.charCodeAt(i - 1))) i--;
  if (i >= 6 && text.slice(i - 6, i) === "export" && i < start) {
    i -= 6;
    while (i > 0 && isSpace(text.charCodeAt(i - 1))) i--;
  }
  return i === 0 || isEol(text.charCodeAt(i - 1));
}

/** Review for `key = value` style matches. */
function reviewAssignment(secret: string, match: RegExpExecArray, text: string, end: number): number | undefined {
  if (PLACEHOLDER.test(secret)) return undefined;
  if (isQuoted(match)) return end;
  if (CODE_VALUE.test(secret)) return undefined;
  // A relative path names a file that holds the secret (--from-file=password=./pw.txt).
  if (/^(?:\.{1,2}|~)\//.test(secret)) return undefined;
  if (isEnvStyle(match, text)) return envValueEnd(text, end);
  const sep = match.groups?.sep ?? "";
  if (sep.includes(":") && !sep.includes(":=")) {
    // `key: value` is also how prose and type annotations look; only trust it when the value is
    // the last thing on the line, as in YAML or an HTTP header. There '&', ',' and ';' do not end
    // the value (they do in a query string or code), so take the whole token.
    if (TYPE_WORD.test(secret)) return undefined;
    const tokEnd = tokenEnd(text, end);
    if (atLineEnd(text, tokEnd)) return tokEnd;
    // Mid-line (a YAML line joined into a longer one, "password: x && cmd"): only a value that
    // looks generated, letters and digits mixed over 8 characters or more ("invalid" stays).
    const run = /^[A-Za-z0-9+/=_.~!@#$%^*-]+/.exec(secret)?.[0] ?? "";
    return run.length >= 8 && /[A-Za-z]/.test(run) && /[0-9]/.test(run) ? end - (secret.length - run.length) : undefined;
  }
  return end;
}

// Name parts that mark a variable, key or flag as holding a secret (DB_PASS, apiKey, --client-secret).
const SECRET_SEGMENTS = new Set([
  "TOKEN",
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
  "CREDS",
]);
// Only with another part before them: PWD alone is the working directory.
const QUALIFIED_SEGMENTS = new Set(["PWD", "PW"]);
// A last part that makes the name describe a secret rather than hold one: PASSWORD_MIN_LENGTH,
// TOKEN_URL, SECRET_NAME, API_KEY_ID, token_type.
const DESCRIBING_SEGMENTS = new Set([
  "LENGTH", "LEN", "MIN", "MAX", "COUNT", "FILE", "PATH", "DIR", "ENV", "VAR", "NAME", "SOCK", "SOCKET", "TTL",
  "EXPIRY", "EXPIRES", "EXPIRATION", "TIMEOUT", "TYPE", "PROMPT", "HEADER", "FIELD", "POLICY", "RESET",
  "REQUIRED", "ENABLED", "ALGORITHM", "ALG", "AGE", "LIFETIME", "URL", "URI", "ENDPOINT", "HOST", "PORT",
  "USER", "USERNAME", "LOGIN", "EMAIL", "HINT", "STRENGTH", "RULES", "PATTERN", "SIZE", "BITS", "VERSION",
  "MODE", "FORMAT", "KIND", "REF", "LIMIT", "USAGE", "STORE", "PROVIDER", "MANAGER", "LABEL",
]);
// FOO_KEY holds a secret, except these kinds of key, which are names or public halves.
const PLAIN_KEY_KINDS = new Set([
  "PUBLIC", "PRIMARY", "FOREIGN", "SORT", "PARTITION", "CACHE", "IDEMPOTENCY", "ROUTING", "ROW", "RANGE",
  "SHARD", "UNIQUE", "MAP", "HOT", "LOOKUP", "GROUP", "OBJECT", "DEDUP", "MESSAGE", "TRANSLATION", "I18N",
  "HASH", "INDEX", "COMPOSITE", "NATURAL", "SURROGATE", "DISTRIBUTION", "CLUSTER", "SEARCH", "KEYBOARD",
]);

/** DB_PASSWORD, dbPassword, client-secret -> their upper-case parts. */
function nameSegments(name: string): string[] {
  return name
    .split(/[^A-Za-z0-9]+/)
    .flatMap((part) => part.match(/[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+/g) ?? [])
    .map((s) => s.toUpperCase());
}

/**
 * Whether a variable, key or flag name says its value is a secret: a part such as TOKEN, SECRET,
 * PASSWORD, PASS, CREDENTIALS (PWD, PW and AUTH only after another part), a FOO_KEY / AccountKey
 * that is not a plain kind of key, or a fused name such as PGPASSWORD or DBPASS; unless its last
 * part only describes the secret (PASSWORD_MIN_LENGTH, TOKEN_URL).
 */
export function isSecretName(name: string): boolean {
  const segments = nameSegments(name);
  if (segments.length === 0) return false;
  const last = segments[segments.length - 1]!;
  if (DESCRIBING_SEGMENTS.has(last)) return false;
  if (segments.some((s, i) => SECRET_SEGMENTS.has(s) || (i > 0 && QUALIFIED_SEGMENTS.has(s)))) return true;
  // BASIC_AUTH=user:pass, PROXY_AUTH; not AUTH alone (a switch) nor SSH_AUTH_SOCK.
  if (last === "AUTH" && segments.length > 1) return true;
  if (last === "KEY" && segments.length > 1 && !PLAIN_KEY_KINDS.has(segments[segments.length - 2]!)) return true;
  const fused = name.toUpperCase().replace(/[^A-Z0-9]/g, "");
  if (/PASSWORD|PASSWD|SECRET|APIKEY/.test(fused)) return true;
  // DBPASS, MYSQLPWD, GHTOKEN; not BYPASS, COMPASS, OLDPWD.
  return /[A-Z0-9]{2,}(?:PASS|PWD|TOKEN)$/.test(fused) && !/(?:BYPASS|COMPASS|SURPASS|OLDPWD)$/.test(fused);
}

const isSecretEnvName = isSecretName;

// Bare (unquoted) value: stops at whitespace, quotes and the usual delimiters of code and URLs.
const BARE = String.raw`(?<secretBare>[^\s"'\x60,;&)\]}]+)`;

export const SECRET_PATTERNS: readonly SecretPattern[] = ([
  {
    // Whole PEM block, header lines included. The body runs over base64, whitespace, escaped
    // newlines (JSON) and "Proc-Type:"/"DEK-Info:" headers, up to the END line; a truncated block
    // (no END line) is redacted up to the first character that cannot be part of a key.
    name: "private-key",
    anchor: /-----BEGIN /,
    regex:
      /-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----(?:[A-Za-z0-9+/=\s\\:,.>]|-(?!----))*(?:-----END [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----)?/dg,
  },
  {
    // Only the long-term (AKIA) and temporary (ASIA) key id prefixes, plus the two rarer key
    // prefixes; AROA/AIDA are unique ids that show up in ordinary STS errors.
    name: "aws-access-key-id",
    anchor: /AKIA|ASIA|ABIA|ACCA/,
    regex: /\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b/dg,
  },
  {
    // 40 base64 chars look like many things (a git SHA is 40 hex), so require the key name.
    name: "aws-secret-access-key",
    anchor: /secret_?access/i,
    regex: /(?:aws_?)?secret_?access_?key["']?\s*(?::=|[:=])\s*["']?(?<secret>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])/dgi,
  },
  {
    name: "github-token",
    anchor: /gh[pousr]_|github_pat_/,
    regex: /\b(?:gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{22,242})(?![A-Za-z0-9_])/dg,
  },
  {
    // Before openai-api-key: both start with "sk-".
    name: "anthropic-api-key",
    anchor: /sk-ant-/,
    regex: /\bsk-ant-[A-Za-z0-9_-]{20,}/dg,
  },
  {
    // Project/service-account keys carry a dash-separated prefix; legacy keys are one alnum run.
    name: "openai-api-key",
    anchor: /sk-/,
    regex: /\bsk-(?:(?:proj|svcacct|admin|None)-[A-Za-z0-9_-]{20,}|[A-Za-z0-9]{32,}(?![A-Za-z0-9_-]))/dg,
  },
  {
    // Bot/user/app tokens (xoxb-, xoxp-, ...), app-level tokens (xapp-) and refresh tokens (xoxe.xoxp-).
    name: "slack-token",
    anchor: /xox|xapp-/,
    regex: /\b(?:xox[abposre](?:\.xox[a-z])?|xapp)-[A-Za-z0-9-]{10,}/dg,
  },
  {
    // The path after /services/ is the credential; keep the host so the text still says "Slack".
    name: "slack-webhook",
    anchor: /hooks\.slack\.com/,
    regex: /\bhttps?:\/\/hooks\.slack\.com\/(?:services|workflows|triggers)\/(?<secret>[A-Za-z0-9_/-]{8,})/dg,
  },
  {
    name: "stripe-key",
    anchor: /sk_|rk_|whsec_/,
    regex: /\b(?:(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}|whsec_[A-Za-z0-9]{24,})(?![A-Za-z0-9])/dg,
  },
  {
    name: "sendgrid-api-key",
    anchor: /SG\./,
    regex: /\bSG\.[A-Za-z0-9_-]{16,32}\.[A-Za-z0-9_-]{24,64}(?![A-Za-z0-9_-])/dg,
  },
  {
    // Tokens whose vendor prefix says what they are: DigitalOcean (dop_v1_, doo_v1_, dor_v1_),
    // Shopify, Square, Databricks, Doppler, Grafana, PlanetScale, Linear, Notion, Atlassian,
    // Figma, RubyGems, HashiCorp Vault, age secret keys, Sentry, Google OAuth access tokens.
    name: "vendor-token",
    anchor: /_v1_|shp|sq0|dapi|dp\.|glsa_|glc_|pscale_|lin_|ntn_|secret_|ATATT3|figd_|rubygems_|hv[sbr]\.|AGE-SECRET|sntr|ya29\./,
    regex:
      /\b(?:do[por]_v1_[a-f0-9]{64}|shp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}|sq0(?:atp|csp)-[0-9A-Za-z_-]{22,}|dapi[a-f0-9]{32}(?:-\d)?|dp\.(?:pt|st|sa|ct)\.[A-Za-z0-9]{40,}|glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}|glc_[A-Za-z0-9+/=]{32,}|pscale_(?:pw|tkn|oauth)_[A-Za-z0-9_.-]{32,}|lin_(?:api|oauth)_[A-Za-z0-9]{40}|ntn_[A-Za-z0-9]{40,}|secret_[A-Za-z0-9]{43}|ATATT3[A-Za-z0-9_=-]{50,}|figd_[A-Za-z0-9_-]{40,}|rubygems_[a-f0-9]{48}|hv[sbr]\.[A-Za-z0-9_-]{24,}|AGE-SECRET-KEY-1[0-9A-Z]{58}|sntr[ysu]_[A-Za-z0-9_=+/-]{40,}|ya29\.[0-9A-Za-z_-]{20,})(?![A-Za-z0-9_-])/dg,
  },
  {
    // Telegram bot tokens: <bot id>:<35 characters>.
    name: "telegram-bot-token",
    anchor: /:AA/,
    regex: /(?<![0-9])\d{8,10}:AA[A-Za-z0-9_-]{33}(?![A-Za-z0-9_-])/dg,
  },
  {
    // Azure storage/service-bus connection strings and SAS URLs: the key is what follows the name.
    name: "azure-key",
    anchor: /Key=|Signature=|sig=/,
    regex: /\b(?:AccountKey|SharedAccessKey|SharedAccessSignature|sig)=(?<secret>[A-Za-z0-9+/%=_-]{16,})/dg,
  },
  {
    name: "google-api-key",
    anchor: /AIza/,
    regex: /\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])/dg,
  },
  {
    name: "gitlab-token",
    anchor: /gl[a-z]{1,4}-/,
    regex: /\bgl(?:pat|dt|rt|ptt|soat|cbt|ft|imt|oas)-[0-9A-Za-z_-]{20,}/dg,
  },
  {
    name: "npm-token",
    anchor: /npm_/,
    regex: /\bnpm_[A-Za-z0-9]{36}(?![A-Za-z0-9])/dg,
  },
  {
    name: "huggingface-token",
    anchor: /hf_/,
    regex: /\bhf_[A-Za-z0-9]{34,40}(?![A-Za-z0-9])/dg,
  },
  {
    name: "pypi-token",
    anchor: /pypi-/,
    regex: /\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}/dg,
  },
  {
    // header.payload.signature; the header is JSON so it always starts "eyJ". The signature may be
    // empty (alg "none"), the first two parts are long enough not to hit ordinary dotted names.
    name: "jwt",
    anchor: /eyJ/,
    // The lookbehind (not \b) keeps "-eyJ" inside a long base64url run from being retried as a
    // fresh start at every occurrence, which would be quadratic when no "." follows.
    regex: /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]*/dg,
  },
  {
    // scheme://user:password@host -> keep scheme, user and host. Anchored on "://" (a literal the
    // engine can scan for); the password may contain '@', the last '@' before the path ends it.
    name: "url-credentials",
    anchor: /:\/\//,
    regex: /:\/\/[^\s:@/?#"'<>]{0,256}:(?<secret>(?!\[REDACTED:)[^\s/?#"'<>]{1,256})@/dg,
  },
  {
    // Authorization: Bearer <token> / Basic <b64> / token <t>: keep the scheme word.
    name: "authorization-header",
    anchor: /authorization/i,
    regex:
      /\b(?:proxy-)?authorization["']?[ \t]*[:=][ \t]*["']?(?:(?:bearer|basic|token|bot|digest|negotiate|ntlm|apikey)[ \t]+)?(?!(?:bearer|basic|token|bot|digest|negotiate|ntlm)\b)(?<secret>[^\s"',;]+)/dgi,
  },
  {
    // A bare "Bearer <token>" outside a header (curl -H, gRPC metadata, logs).
    name: "bearer-token",
    anchor: /bearer/i,
    regex: /\bbearer[ \t]+(?<secret>[A-Za-z0-9._~+/-]{20,}=*)/dgi,
    // "bearer authentication_required_for_..." is prose; real tokens carry digits.
    review: (secret, _m, _t, end) => (/[0-9]/.test(secret) ? end : undefined),
  },
  {
    // export GITHUB_PAT=..., set DB_PASSWORD=..., $env:OPENAI_API_KEY = "...", ENV/ARG in Dockerfiles.
    name: "env-export",
    anchor: /=/,
    regex: new RegExp(
      String.raw`(?:\b(?:export|set|setx|env|arg)[ \t]+|\$env:)(?<name>[A-Za-z_][A-Za-z0-9_]{0,79})[ \t]*=[ \t]*(?:${DQ}|${SQ}|${BARE})`,
      "dgi",
    ),
    review: (secret, match, text, end) =>
      isSecretEnvName(match.groups?.name ?? "") && !PLACEHOLDER.test(secret) ? (isQuoted(match) ? end : envValueEnd(text, end)) : undefined,
  },
  {
    // --password hunter2, --token=abc, --api-key "...".
    name: "cli-secret-flag",
    anchor: /--/,
    regex: new RegExp(
      String.raw`(?<![\w-])--(?<name>[A-Za-z][A-Za-z0-9-]{0,63})(?<sep>=|[ \t]+)(?!-)(?:${DQ}|${SQ}|${BARE})`,
      "dg",
    ),
    review: (secret, match, _t, end) => {
      if (!isSecretName(match.groups?.name ?? "") || PLACEHOLDER.test(secret)) return undefined;
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
    anchor: /curl/,
    regex:
      /\bcurl\b(?:[^\r\n-]|-(?!u|-user))*(?:(?:-u|--user)[ \t]*["']?[^\s:"']{1,128}:(?<secret>[^\s"']{1,256}))?/dg,
    review: (_s, match, _t, end) => (match.groups?.secret === undefined ? undefined : end),
  },
  {
    // Passwords in the command lines of tools that take them as short options: mysql -pPASS (the
    // value sticks to -p; -P is the port), sshpass -p PASS, redis-cli -a PASS, docker login -p PASS.
    // Like curl-user, the scan to the option never fails, so a line is consumed once.
    name: "cli-password-option",
    anchor: /mysql|mariadb|sshpass|redis-cli|login/,
    regex: new RegExp(
      String.raw`\b(?<tool>mysql|mysqldump|mysqladmin|mysqlimport|mysqlshow|mysqlcheck|mariadb|mariadb-dump|sshpass|redis-cli|(?:docker|podman|buildah|helm|skopeo)[ \t]+(?:registry[ \t]+)?login)(?![\w-])(?:[^\r\n \t]|[ \t](?!-[pa]))*(?:[ \t]-(?<opt>[pa])(?<gap>[ \t]*)(?:${DQ}|${SQ}|${BARE}))?`,
      "dg",
    ),
    review: (secret, match, text, end) => {
      const g = match.groups ?? {};
      if (g.opt === undefined || PLACEHOLDER.test(secret)) return undefined;
      const tool = g.tool ?? "";
      const ok = /^(?:mysql|mariadb)/.test(tool)
        ? g.opt === "p" && g.gap === "" // "-p" alone prompts; the password sticks to it
        : tool === "redis-cli"
          ? g.opt === "a" // -p is its port
          : g.opt === "p";
      if (!ok) return undefined;
      return isQuoted(match) ? end : envValueEnd(text, end);
    },
  },
  {
    // ~/.netrc: machine host login user password secret
    name: "netrc-password",
    anchor: /machine/,
    regex: /\bmachine[ \t]+\S+[ \t]+login[ \t]+\S+[ \t]+password[ \t]+(?<secret>\S+)/dg,
  },
  {
    // password=..., "api_key": "...", client_secret: '...', DB_PASSWORD=..., token := "...".
    // The key must END with the keyword (so TokenExpiredError:, max_tokens=, tokenizer: do not
    // match), and "==" / "=>" are comparisons and arrows, not assignments.
    name: "secret-assignment",
    anchor: /[:=]/,
    regex: new RegExp(
      String.raw`(?:password|passwd|passphrase|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|signing[_-]?key|encryption[_-]?key)(?<sep>["']?[ \t]*(?::=|[:=](?![=>]))[ \t]*)(?:${DQ}|${SQ}|${BQ}|${BARE})`,
      "dgi",
    ),
    review: reviewAssignment,
  },
  {
    // Any other name that says it holds a secret (see isSecretName), in env/.env, YAML, JSON, TOML
    // and code forms: DB_PASS=..., MYSQL_PWD=..., SECRET_KEY_BASE=..., "dbPassword": "...",
    // AccountKey: .... The name starts a word (not inside a longer name or path).
    name: "secret-name-assignment",
    anchor: /[:=]/,
    regex: new RegExp(
      String.raw`(?<![A-Za-z0-9_.\-/])(?<name>[A-Za-z_][A-Za-z0-9_.\-]{0,79})(?<sep>["']?[ \t]*(?::=|[:=](?![=>]))[ \t]*)(?:${DQ}|${SQ}|${BQ}|${BARE})`,
      "dg",
    ),
    review: (secret, match, text, end) => (isSecretName(match.groups?.name ?? "") ? reviewAssignment(secret, match, text, end) : undefined),
  },
] as SecretPattern[]).map((p) => afterEscapes(p));

/**
 * Patterns that start at a word boundary also start right after an escaped line break: in
 * `'...\nghp_...'` (a JSON or repr string) the "n" before the token is not a word boundary.
 */
function afterEscapes(p: SecretPattern): SecretPattern {
  if (!p.regex.source.startsWith("\\b")) return p;
  return { ...p, regex: new RegExp(String.raw`(?:\b|(?<=\\[nrt]))` + p.regex.source.slice(2), p.regex.flags) };
}

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

/**
 * Something every pattern's match contains (an assignment sign, a token prefix, a command name):
 * a text without any of them is skipped in one scan instead of 29. Most stored texts qualify
 * anyway, but the search index's token lists and lookups of hashes do not. A new pattern must add
 * its anchor here (test/redact.test.ts checks every case against it).
 */
export const MAY_HOLD_SECRET =
  /[:=]|--|-----BEGIN|AKIA|ASIA|ABIA|ACCA|gh[pousr]_|github_pat_|sk-|xox|xapp-|sk_|rk_|whsec_|SG\.|_v1_|shp|sq0|dapi|dp\.|gl[a-z]{1,4}[-_]|secret_|ATATT3|figd_|rubygems_|hv[sbr]\.|AGE-SECRET|sntr|ya29\.|AIza|npm_|hf_|pypi-|eyJ|bearer|curl|mysql|mariadb|sshpass|redis-cli|login|machine|lin_|ntn_|pscale_/i;

/** A text of rejected candidates is searched again inside their values at most this often (bounded work). */
const MAX_RESCANS = 2000;

function applyPattern(text: string, p: SecretPattern, found?: string[]): { text: string; count: number } {
  let out = "";
  let last = 0;
  let count = 0;
  let rescans = 0;
  if (!p.anchor.test(text)) return { text, count: 0 };
  const re = p.regex;
  re.lastIndex = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    if (m[0].length === 0) re.lastIndex++;
    const [start, matchEnd] = secretSpan(m);
    if (start < last) continue; // inside a span an earlier match extended over
    const secret = text.slice(start, matchEnd);
    if (secret.startsWith(TAG_PREFIX)) continue;
    const end = p.review ? p.review(secret, m, text, matchEnd) : matchEnd;
    if (end === undefined) {
      // Rejected ("task: DB_PASS=x" is not a secret task): its value may still hold a secret of
      // this pattern, so search again from where the value starts.
      if (start > m.index && rescans++ < MAX_RESCANS) re.lastIndex = start;
      continue;
    }
    // A bare value that runs into an earlier tag ("x-[REDACTED:jwt]") stops at its "]": swallow it
    // so no stray bracket is left behind.
    const redacted = end === matchEnd ? secret : text.slice(start, end);
    const inner = redacted.lastIndexOf(TAG_PREFIX);
    const cut = inner > 0 && !redacted.includes("]", inner) && text[end] === "]" ? end + 1 : end;
    if (found && inner < 0) found.push(redacted);
    out += text.slice(last, start) + tag(p.name);
    last = cut;
    count++;
  }
  re.lastIndex = 0;
  return count === 0 ? { text, count } : { text: out + text.slice(last), count };
}

// ---- secrets known by value ------------------------------------------------------------------

/** Secrets shorter than this are not searched for by value: they would match ordinary text. */
export const MIN_LITERAL_SECRET = 4;
const MAX_LITERALS = 256;
/** The shortest end of a remembered value recognised at the start of a text. */
const MIN_FRAGMENT = 8;
/** Values typed with send_text {secret: true} (and secrets found in typed text): scrubbed from every later write of this process. */
const literals = new Set<string>();

/**
 * Remember `value` as a secret: from now on every text this process stores has each occurrence
 * replaced with `[REDACTED:typed-secret]` (a screen that echoes it, a log, a row). Lines are
 * remembered one by one (a newline sends each line separately). The oldest go past 256.
 */
export function rememberSecret(value: string, minLength = MIN_LITERAL_SECRET): void {
  for (const line of value.split(/\r\n|\r|\n/)) {
    const v = line.trim();
    if (v.length < Math.max(minLength, MIN_LITERAL_SECRET) || v.startsWith(TAG_PREFIX)) continue;
    literals.delete(v);
    literals.add(v);
    if (literals.size > MAX_LITERALS) literals.delete(literals.values().next().value!);
  }
}

/** Forget every remembered value (tests). */
export function forgetRememberedSecrets(): void {
  literals.clear();
}

function scrubLiterals(text: string, extra: readonly string[]): { text: string; count: number } {
  let out = text;
  let count = 0;
  // Longest first, so a value that contains another is replaced whole.
  const values = [...literals, ...extra.filter((v) => v.length >= MIN_LITERAL_SECRET)].sort((a, b) => b.length - a.length);
  for (const v of values) {
    if (out.includes(v)) {
      const parts = out.split(v);
      count += parts.length - 1;
      out = parts.join(tag("typed-secret"));
    }
    // A screen whose first line is the end of a wrapped line that scrolled off starts with the
    // end of the value only.
    const head = out.slice(0, MIN_FRAGMENT);
    if (head.length < MIN_FRAGMENT) continue;
    for (let i = v.indexOf(head, 1); i > 0; i = v.indexOf(head, i + 1)) {
      if (out.startsWith(v.slice(i))) {
        out = tag("typed-secret") + out.slice(v.length - i);
        count++;
        break;
      }
    }
  }
  return { text: out, count };
}

export interface RedactOptions {
  /** More values to scrub from this text only (e.g. the part of a secret typed so far). */
  literals?: readonly string[];
}

/**
 * Replace every secret found in `text` with `[REDACTED:<pattern name>]`.
 * Returns the redacted text and how many secrets were replaced. Idempotent.
 */
export function redactSecrets(text: string, options: RedactOptions = {}): { text: string; count: number } {
  let { text: out, count } = literals.size > 0 || options.literals?.length ? scrubLiterals(text, options.literals ?? []) : { text, count: 0 };
  if (!MAY_HOLD_SECRET.test(out)) return { text: out, count };
  for (const p of SECRET_PATTERNS) {
    const r = applyPattern(out, p);
    out = r.text;
    count += r.count;
  }
  return { text: out, count };
}

/** `redactSecrets(text).text`. */
/** What send_text {secret: true} records instead of the text it typed. */
export const SECRET_PLACEHOLDER = /<secret: \d+ chars>/;

/**
 * Whether a recorded text has a secret taken out (`[REDACTED:…]` or a secret placeholder): such a
 * line cannot be replayed, so it never becomes a fix or a training example.
 */
export function hidesSecret(text: string): boolean {
  return text.includes(TAG_PREFIX) || SECRET_PLACEHOLDER.test(text);
}

export function redact(text: string): string {
  return redactSecrets(text).text;
}

/** The secret values the patterns find in `text`, as they appear in it (e.g. to scrub a screen that echoes them). */
export function secretsIn(text: string): string[] {
  const found: string[] = [];
  let out = text;
  for (const p of SECRET_PATTERNS) out = applyPattern(out, p, found).text;
  return found;
}

/**
 * Redact a JSON value: every string (object keys too) through the patterns, and a whole string
 * under a key whose name says it is a secret (`{"db_pass": "x"}`, `{"apiKey": "..."}`).
 * Returns the same object when nothing changed.
 */
export function redactValue<T>(value: T, key?: string): T {
  if (typeof value === "string") {
    if (key !== undefined && isSecretName(key) && !PLACEHOLDER.test(value) && !value.startsWith(TAG_PREFIX)) return tag("secret-field") as T;
    return redact(value) as T;
  }
  if (Array.isArray(value)) {
    let changed = false;
    const out = value.map((v: unknown) => {
      const r = redactValue(v, key);
      changed ||= r !== v;
      return r;
    });
    return (changed ? out : value) as T;
  }
  if (value !== null && typeof value === "object" && !Buffer.isBuffer(value)) {
    let changed = false;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const rk = redact(k);
      const rv = redactValue(v, k);
      changed ||= rk !== k || rv !== v;
      out[rk] = rv;
    }
    return (changed ? out : value) as T;
  }
  return value;
}

/**
 * Redact a text about to be stored: a JSON object or array (a column holding JSON, a JSON file)
 * is redacted value by value and stays valid JSON; any other text goes through the patterns.
 */
export function redactStored(text: string): string {
  const first = text.trimStart()[0];
  if (first === "{" || first === "[") {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (parsed !== undefined) {
      const r = redactValue(parsed);
      return r === parsed ? text : JSON.stringify(r);
    }
  }
  return redact(text);
}

/** A file's content about to be written: JSON Lines and JSON stay valid, other text is redacted. */
export function redactFileText(text: string): string {
  const whole = text.trimStart()[0];
  if (whole === "{" || whole === "[") {
    try {
      JSON.parse(text);
      return redactStored(text);
    } catch {
      // JSON Lines, or not JSON at all: line by line below
    }
  }
  return text
    .split("\n")
    .map((line) => redactStored(line))
    .join("\n");
}
