import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { MAY_HOLD_SECRET, redactSecrets, SECRET_PATTERNS } from "../src/storage/redact.js";

// Fake secrets are assembled at run time so this file never contains a literal token that
// secret scanners (or our own patterns, if it were ever stored) would flag.
const rep = (s: string, n: number): string => s.repeat(Math.ceil(n / s.length)).slice(0, n);
const B64 = "Zm9vYmFyQmF6UXV4MTIzNDU2Nzg5MGFiY2RlZg"; // mixed-case alnum filler
const alnum = (n: number): string => rep("aB3dE6gH9jK2mN5pQ8sT1vW4yZ7", n);
const BEGIN = "-----" + "BEGIN ";
const END = "-----" + "END ";
const pem = (kind: string, body: string): string =>
  `${BEGIN}${kind}-----\n${body}\n${END}${kind}-----`;

interface Case {
  /** Pattern expected to fire (its tag must appear). */
  pattern: string;
  title: string;
  input: string;
  /** Every one of these must be gone from the output. */
  secrets: string[];
  /** Every one of these must still be in the output. */
  kept: string[];
}

const githubPat = "ghp_" + alnum(36);
const jwt = "eyJ" + "hbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9" + "." + "eyJ" + "zdWIiOiIxMjM0NTY3ODkwIn0" + "." + "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";

const CASES: Case[] = [
  {
    pattern: "private-key",
    title: "RSA PEM block, multi-line, whole block",
    input: `config loaded\n${pem("RSA PRIVATE KEY", `MIIEpAIBAAKCAQEA${B64}\n${B64}+/=\n${B64}==`)}\ndone`,
    secrets: ["MIIEpAIBAAKCAQEA", B64, "BEGIN RSA"],
    kept: ["config loaded\n", "\ndone"],
  },
  {
    pattern: "private-key",
    title: "OPENSSH, EC, DSA and generic PKCS#8 blocks",
    input: ["OPENSSH PRIVATE KEY", "EC PRIVATE KEY", "DSA PRIVATE KEY", "PRIVATE KEY", "ENCRYPTED PRIVATE KEY"]
      .map((k) => `key ${k}:\n${pem(k, B64 + "\n" + B64)}`)
      .join("\n"),
    secrets: [B64],
    kept: ["key OPENSSH PRIVATE KEY:", "key EC PRIVATE KEY:", "key DSA PRIVATE KEY:", "key ENCRYPTED PRIVATE KEY:"],
  },
  {
    pattern: "private-key",
    title: "PGP armored block with headers",
    input: `gpg export:\n${pem("PGP PRIVATE KEY BLOCK", `Version: GnuPG v2\nComment: https://example.org/x\n\n${B64}\n=abcd`)}\nEOF`,
    secrets: [B64, "GnuPG"],
    kept: ["gpg export:", "\nEOF"],
  },
  {
    pattern: "private-key",
    title: "legacy encrypted PEM with Proc-Type / DEK-Info headers",
    input: pem("RSA PRIVATE KEY", `Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,3F2A9C1E8B7D6A5F\n\n${B64}`),
    secrets: [B64, "DEK-Info"],
    kept: [],
  },
  {
    pattern: "private-key",
    title: "JSON service-account key with escaped newlines",
    input: `{"type": "service_account", "private_key": "${BEGIN}PRIVATE KEY-----\\n${B64}\\n${B64}\\n${END}PRIVATE KEY-----\\n", "client_email": "x@y.iam.gserviceaccount.com"}`,
    secrets: [B64],
    kept: ['"type": "service_account"', '"private_key": "', '"client_email": "x@y.iam.gserviceaccount.com"'],
  },
  {
    pattern: "private-key",
    title: "truncated block (no END line) is still redacted",
    input: `${BEGIN}RSA PRIVATE KEY-----\n${B64}\n${B64}`,
    secrets: [B64],
    kept: [],
  },
  {
    pattern: "aws-access-key-id",
    title: "AKIA / ASIA key ids",
    input: `An error occurred (InvalidClientTokenId): key AKIA${rep("IOSFODNN7EXAMPLE", 16)} and ASIA${rep("Y34FZKBOKMUTVV7A", 16)} rejected`,
    secrets: ["AKIA" + rep("IOSFODNN7EXAMPLE", 16), "ASIA" + rep("Y34FZKBOKMUTVV7A", 16)],
    kept: ["An error occurred (InvalidClientTokenId): key ", " rejected"],
  },
  {
    pattern: "aws-secret-access-key",
    title: "credentials file and JSON from sts",
    input: `[default]\naws_secret_access_key = ${"wJalrXUtnFEMI/K7MDENG/bPxRfiCY" + alnum(10)}\n{"SecretAccessKey": "${alnum(38) + "/+"}"}`,
    secrets: ["wJalrXUtnFEMI/K7MDENG/bPxRfiCY" + alnum(10), alnum(38) + "/+"],
    kept: ["[default]\naws_secret_access_key = ", '{"SecretAccessKey": "'],
  },
  {
    pattern: "github-token",
    title: "classic, OAuth, server, refresh and fine-grained tokens",
    input: `remote: ${githubPat}\ngho_${alnum(36)} ghu_${alnum(36)} ghs_${alnum(36)} ghr_${alnum(36)}\ngithub_pat_${alnum(22)}_${alnum(59)}`,
    secrets: [githubPat, "gho_" + alnum(36), "ghs_" + alnum(36), "github_pat_" + alnum(22)],
    kept: ["remote: "],
  },
  {
    pattern: "anthropic-api-key",
    title: "sk-ant- key",
    input: `anthropic.AuthenticationError: invalid x-api-key sk-ant-api03-${alnum(80)}-${alnum(6)}AA (status 401)`,
    secrets: ["sk-ant-api03-" + alnum(80)],
    kept: ["anthropic.AuthenticationError: invalid x-api-key ", " (status 401)"],
  },
  {
    pattern: "openai-api-key",
    title: "legacy sk- and sk-proj- keys",
    input: `Incorrect API key provided: sk-${alnum(48)}.\nOPENAI key sk-proj-${alnum(40)}_${alnum(40)}-${alnum(20)} used`,
    secrets: ["sk-" + alnum(48), "sk-proj-" + alnum(40)],
    kept: ["Incorrect API key provided: ", ".\nOPENAI key ", " used"],
  },
  {
    pattern: "slack-token",
    title: "xoxb / xoxp tokens",
    input: `slack_sdk.errors.SlackApiError: invalid_auth for xoxb-${"1234567890"}-${"0987654321"}-${alnum(24)} and xoxp-${"11111"}-${alnum(30)}`,
    secrets: [alnum(24), "xoxp-11111"],
    kept: ["slack_sdk.errors.SlackApiError: invalid_auth for ", " and "],
  },
  {
    pattern: "slack-webhook",
    title: "incoming webhook URL keeps the host",
    input: `POST https://hooks.slack.com/services/T${alnum(8)}/B${alnum(8)}/${alnum(24)} -> 404`,
    secrets: [alnum(24), "T" + alnum(8)],
    kept: ["POST https://hooks.slack.com/services/", " -> 404"],
  },
  {
    pattern: "stripe-key",
    title: "secret and restricted live keys",
    input: `stripe.error.AuthenticationError: Invalid API Key provided: sk_live_${alnum(24)}; also rk_live_${alnum(24)}`,
    secrets: ["sk_live_" + alnum(24), "rk_live_" + alnum(24)],
    kept: ["stripe.error.AuthenticationError: Invalid API Key provided: ", "; also "],
  },
  {
    pattern: "google-api-key",
    title: "AIza key in a URL query",
    input: `GET https://maps.googleapis.com/maps/api/geocode/json?address=x&key=AIza${alnum(33)}-_ 403`,
    secrets: ["AIza" + alnum(33)],
    kept: ["GET https://maps.googleapis.com/maps/api/geocode/json?address=x&key=", " 403"],
  },
  {
    pattern: "gitlab-token",
    title: "glpat- personal access token",
    input: `remote: HTTP Basic: Access denied for glpat-${alnum(20)}\nfatal: Authentication failed`,
    secrets: ["glpat-" + alnum(20)],
    kept: ["remote: HTTP Basic: Access denied for ", "\nfatal: Authentication failed"],
  },
  {
    pattern: "npm-token",
    title: "npm_ token in .npmrc",
    input: `//registry.npmjs.org/:_authToken=npm_${alnum(36)}\nalways-auth=true`,
    secrets: ["npm_" + alnum(36)],
    kept: ["//registry.npmjs.org/:_authToken=", "\nalways-auth=true"],
  },
  {
    pattern: "huggingface-token",
    title: "hf_ token",
    input: `huggingface_hub.errors.HfHubHTTPError: 401 token hf_${alnum(34)} is invalid`,
    secrets: ["hf_" + alnum(34)],
    kept: ["huggingface_hub.errors.HfHubHTTPError: 401 token ", " is invalid"],
  },
  {
    pattern: "pypi-token",
    title: "pypi- upload token",
    input: `twine upload -u __token__ -p pypi-AgEIcHlwaS5vcmc${alnum(60)} dist/*`,
    secrets: ["pypi-AgEIcHlwaS5vcmc" + alnum(60)],
    kept: ["twine upload -u __token__ -p ", " dist/*"],
  },
  {
    pattern: "jwt",
    title: "JWT in a log line",
    input: `jwt.exceptions.InvalidSignatureError: Signature verification failed for ${jwt} at verify()`,
    secrets: [jwt.split(".")[1] ?? "", jwt.split(".")[2] ?? ""],
    kept: ["jwt.exceptions.InvalidSignatureError: Signature verification failed for ", " at verify()"],
  },
  {
    pattern: "url-credentials",
    title: "password in database and git URLs keeps scheme, user and host",
    input: `could not connect to postgres://admin:${"s3cr" + "3t-P@ss"}@db.internal:5432/app\ngit clone https://deploy:${alnum(12)}@git.example.com/org/repo.git`,
    secrets: ["s3cr3t-P@ss", alnum(12)],
    kept: ["postgres://admin:", "@db.internal:5432/app", "https://deploy:", "@git.example.com/org/repo.git"],
  },
  {
    pattern: "authorization-header",
    title: "Bearer and Basic headers keep the scheme word",
    input: `> GET /v1/me HTTP/1.1\n> Authorization: Bearer ${alnum(40)}\ncurl -H "authorization: Basic ${"dXNlcjpwYXNzd29yZA"}==" https://api.example.com`,
    secrets: [alnum(40), "dXNlcjpwYXNzd29yZA"],
    kept: ["> Authorization: Bearer ", 'curl -H "authorization: Basic ', '" https://api.example.com'],
  },
  {
    pattern: "bearer-token",
    title: "bare Bearer token outside a header",
    input: `grpc metadata: [('x-auth', 'Bearer ${alnum(32)}')]`,
    secrets: [alnum(32)],
    kept: ["grpc metadata: [('x-auth', 'Bearer ", "')]"],
  },
  {
    pattern: "env-export",
    title: "export, set and PowerShell assignments of secret-named variables",
    input: `export GITHUB_PAT=${"s3cr" + "etvalue1"}\nexport OPENAI_KEY="${alnum(20)}"\n$env:SERVICE_SECRET_ID = '${alnum(16)}'\nexport PATH=/usr/local/bin:$PATH`,
    secrets: ["s3cretvalue1", alnum(20), alnum(16)],
    kept: ["export GITHUB_PAT=", 'export OPENAI_KEY="', "$env:SERVICE_SECRET_ID = '", "export PATH=/usr/local/bin:$PATH"],
  },
  {
    pattern: "cli-secret-flag",
    title: "--password and --token flags",
    input: `$ mytool login --user bob --password ${"hunt" + "er2!"} --token=${alnum(12)} --verbose`,
    secrets: ["hunter2!", alnum(12)],
    kept: ["$ mytool login --user bob --password ", " --token=", " --verbose"],
  },
  {
    pattern: "curl-user",
    title: "curl -u user:password",
    input: `$ curl -sS -u admin:${"hunt" + "er2"} https://api.example.com/v1 -o out.json`,
    secrets: ["hunter2"],
    kept: ["$ curl -sS -u admin:", " https://api.example.com/v1 -o out.json"],
  },
  {
    pattern: "netrc-password",
    title: ".netrc entry",
    input: `machine api.github.com login bob password ${alnum(20)}\nmachine example.org`,
    secrets: [alnum(20)],
    kept: ["machine api.github.com login bob password ", "\nmachine example.org"],
  },
  {
    pattern: "secret-assignment",
    title: "password= / passwd: / secret= / token= / api_key= (quoted, unquoted, JSON)",
    input: [
      `db: connecting with password=${"hunt" + "er2"} host=localhost`,
      `passwd: ${"tr0ub4dor&3"}`,
      `client_secret='${alnum(20)}'`,
      `{"user": "bob", "password": "${"correct horse" + " battery"}", "api_key": "${alnum(24)}"}`,
      `https://api.example.com/cb?access_token=${alnum(20)}&state=xyz`,
      `DB_PASSWORD=${"pa55" + "word"}`,
      `token := "${alnum(18)}"`,
    ].join("\n"),
    secrets: ["hunter2", "tr0ub4dor", alnum(20), "correct horse battery", alnum(24), "pa55word", alnum(18)],
    kept: [
      "db: connecting with password=",
      " host=localhost",
      "passwd: ",
      "client_secret='",
      '{"user": "bob", "password": "',
      '", "api_key": "',
      "https://api.example.com/cb?access_token=",
      "&state=xyz",
      "DB_PASSWORD=",
      'token := "',
    ],
  },
  {
    pattern: "sendgrid-api-key",
    title: "SendGrid key",
    input: `sendgrid: 401 for key ${"SG"}.${alnum(22)}.${alnum(43)} (revoked?)`,
    secrets: [alnum(22), alnum(43)],
    kept: ["sendgrid: 401 for key ", " (revoked?)"],
  },
  {
    pattern: "vendor-token",
    title: "DigitalOcean, Shopify, Databricks, Vault tokens",
    input: [`doctl auth init -t ${"dop_v1_"}${rep("0a1b2c3d4e5f", 64)}`, `shopify ${"shpat_"}${rep("abcdef012345", 32)}`, `dbx ${"dapi"}${rep("0123456789abcdef", 32)}`, `vault ${"hvs."}${alnum(40)}`].join("\n"),
    secrets: [rep("0a1b2c3d4e5f", 64), rep("abcdef012345", 32), rep("0123456789abcdef", 32), alnum(40)],
    kept: ["doctl auth init -t ", "shopify ", "dbx ", "vault "],
  },
  {
    pattern: "telegram-bot-token",
    title: "bot token in an API URL",
    input: `GET https://api.telegram.org/bot123456789:AA${alnum(33)}/getMe`,
    secrets: [alnum(33)],
    kept: ["GET https://api.telegram.org/bot", "/getMe"],
  },
  {
    pattern: "azure-key",
    title: "storage connection string and SAS signature",
    input: `DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=${alnum(86)}==;EndpointSuffix=core.windows.net\nhttps://acme.blob.core.windows.net/c/f?sv=2022-11-02&sig=${alnum(40)}%3D`,
    secrets: [alnum(86), alnum(40)],
    kept: ["AccountName=acme;AccountKey=", ";EndpointSuffix=core.windows.net", "?sv=2022-11-02&sig="],
  },
  {
    pattern: "cli-password-option",
    title: "mysql -pPASS, sshpass -p, redis-cli -a, docker login -p",
    input: [`mysql -h db -u root -p${"S3cr" + "etPw"} app`, `sshpass -p '${"hunt" + "er22"}' ssh web1`, `redis-cli -h cache -a ${"r3dis" + "pass"} ping`, `docker login -u ci -p ${"d0ck" + "erpw"} reg.io`].join("\n"),
    secrets: ["S3cretPw", "hunter22", "r3dispass", "d0ckerpw"],
    kept: ["mysql -h db -u root -p", " app", "sshpass -p '", "' ssh web1", "redis-cli -h cache -a ", " ping", "docker login -u ci -p ", " reg.io"],
  },
  {
    pattern: "secret-name-assignment",
    title: ".env lines, YAML, JSON and camelCase keys named as secrets",
    input: [
      `SECRET_KEY=${"abc" + "XYZ123"}`,
      `DB_PASS=${"hunt" + "er2x"}`,
      `MYSQL_PWD=${"s3cr" + "3tpw"}`,
      `SECRET_KEY_BASE=${rep("0123456789abcdef", 64)}`,
      `BASIC_AUTH=user:${"pw" + "123"}`,
      `redis_pass=${"foo" + "&bar"}`,
      `GOOGLE_CREDENTIALS=${alnum(30)}`,
      `{"signingKey": "${alnum(24)}"}`,
    ].join("\n"),
    secrets: ["abcXYZ123", "hunter2x", "s3cr3tpw", rep("0123456789abcdef", 64), "pw123", "foo&bar", "&bar", alnum(30), alnum(24)],
    kept: ["SECRET_KEY=", "DB_PASS=", "MYSQL_PWD=", "SECRET_KEY_BASE=", "BASIC_AUTH=", "redis_pass=", "GOOGLE_CREDENTIALS=", '{"signingKey": "'],
  },
];

describe("redactSecrets: one case per pattern", () => {
  test("there are at least 15 named patterns and every one has a case", () => {
    assert.ok(SECRET_PATTERNS.length >= 15, `only ${SECRET_PATTERNS.length} patterns`);
    const names = SECRET_PATTERNS.map((p) => p.name);
    assert.equal(new Set(names).size, names.length, "pattern names must be unique");
    for (const name of names) {
      assert.ok(CASES.some((c) => c.pattern === name), `no test case for pattern ${name}`);
    }
  });

  for (const c of CASES) {
    test(`${c.pattern}: ${c.title}`, () => {
      const { text, count } = redactSecrets(c.input);
      assert.ok(count >= 1, "nothing was redacted");
      assert.ok(text.includes(`[REDACTED:${c.pattern}]`), `missing [REDACTED:${c.pattern}] in:\n${text}`);
      for (const s of c.secrets) assert.ok(s.length > 0 && !text.includes(s), `secret ${s} survived in:\n${text}`);
      for (const k of c.kept) assert.ok(text.includes(k), `context ${JSON.stringify(k)} lost in:\n${text}`);
    });
  }
});

test("every match of every pattern holds its anchor and one of MAY_HOLD_SECRET (the quick skips)", () => {
  for (const p of SECRET_PATTERNS) {
    for (const c of CASES) {
      for (const m of c.input.matchAll(p.regex)) {
        assert.ok(MAY_HOLD_SECRET.test(m[0]), `${p.name} matched ${JSON.stringify(m[0])}, which the quick skip would miss`);
        assert.ok(p.anchor.test(m[0]), `${p.name} matched ${JSON.stringify(m[0])} without its anchor ${p.anchor}`);
      }
    }
  }
});

describe("redactSecrets: replacement details", () => {
  test("keeps the key and replaces only the value", () => {
    assert.deepEqual(redactSecrets("password=hunter2 user=bob"), {
      text: "password=[REDACTED:secret-assignment] user=bob",
      count: 1,
    });
  });

  test("a specific token inside a generic assignment is counted once, under its own name", () => {
    const r = redactSecrets(`token=${githubPat}`);
    assert.deepEqual(r, { text: "token=[REDACTED:github-token]", count: 1 });
  });

  test("Authorization header holding a JWT", () => {
    const r = redactSecrets(`Authorization: Bearer ${jwt}`);
    assert.deepEqual(r, { text: "Authorization: Bearer [REDACTED:jwt]", count: 1 });
  });

  test("URL credentials whose password is a token", () => {
    const r = redactSecrets(`https://x-access-token:ghs_${alnum(36)}@github.com/org/repo.git`);
    assert.equal(r.text, "https://x-access-token:[REDACTED:github-token]@github.com/org/repo.git");
  });

  test("counts every secret", () => {
    const input = `a password=one1 b token=two2 c ${githubPat} d AKIA${rep("ABCDEFGHIJKLMNOP", 16)}`;
    assert.equal(redactSecrets(input).count, 4);
  });

  test("a value running into an earlier tag leaves no stray bracket", () => {
    const r = redactSecrets(`password=pre-${jwt}`);
    assert.equal(r.text, "password=[REDACTED:secret-assignment]");
  });

  test("empty input", () => {
    assert.deepEqual(redactSecrets(""), { text: "", count: 0 });
  });
});

// Realistic tool output that must come back byte-for-byte unchanged.
const CLEAN: Record<string, string> = {
  tsc: [
    "src/server.ts(42,7): error TS2322: Type 'string | undefined' is not assignable to type 'string'.",
    "  Type 'undefined' is not assignable to type 'string'.",
    "src/auth.ts(10,3): error TS2741: Property 'password' is missing in type '{ user: string; }' but required in type '{ user: string; password: string; }'.",
    "src/auth.ts(18,14): error TS2339: Property 'token' does not exist on type 'Session'.",
    "src/auth.ts(21,5): error TS7006: Parameter 'secret' implicitly has an 'any' type.",
    "Found 4 errors in 2 files.",
  ].join("\n"),
  python: [
    "Traceback (most recent call last):",
    '  File "/home/dev/app/main.py", line 12, in <module>',
    '    token = os.environ["GITHUB_TOKEN"]',
    '  File "/usr/lib/python3.11/os.py", line 679, in __getitem__',
    "    raise KeyError(key) from None",
    "KeyError: 'GITHUB_TOKEN'",
    '  File "/home/dev/app/db.py", line 30, in connect',
    "    conn = psycopg2.connect(host=host, user=user, password=password)",
    "    client = Client(api_key=settings.api_key, token=get_token())",
    "    def login(self, username: str, password: str) -> None:",
    "    password: str = Field(..., min_length=8)",
    "psycopg2.OperationalError: connection to server at \"localhost\" (::1), port 5432 failed: FATAL:  password authentication failed for user \"postgres\"",
    "jwt.exceptions.ExpiredSignatureError: Signature has expired",
  ].join("\n"),
  git: [
    "commit 9fceb02d0ae598e95dc970b74767f19372d61af8",
    "Merge: 1a2b3c4 5d6e7f8",
    "Author: Jane Doe <jane@example.com>",
    "Date:   Mon Mar 4 10:12:44 2024 +0100",
    "To github.com:org/repo.git",
    " ! [rejected]        main -> main (fetch first)",
    "   3f2a9c1..8b7d6a5  feature/token-refresh -> feature/token-refresh",
    "remote: Invalid username or password.",
    "fatal: Authentication failed for 'https://github.com/org/repo.git/'",
    "Cloning into 'repo'... ssh://git@github.com:22/org/repo.git",
  ].join("\n"),
  npm: [
    "npm ERR! code E401",
    'npm ERR! Unable to authenticate, need: Basic realm="GitHub Package Registry"',
    "npm ERR! 404 Not Found - GET https://registry.npmjs.org/@scope%2fpkg - Not found",
    "npm WARN deprecated uuid@3.4.0: Please upgrade to version 7 or higher.",
    "npm ERR! need auth This command requires you to be logged in to https://registry.npmjs.org/",
    "npm ERR! A complete log of this run can be found in: /home/dev/.npm/_logs/2024-03-04T09_12_44_123Z-debug-0.log",
  ].join("\n"),
  gcc: [
    "main.c: In function 'main':",
    "main.c:12:5: error: implicit declaration of function 'get_token' [-Wimplicit-function-declaration]",
    "main.c:20:10: error: 'password' undeclared (first use in this function)",
    "   20 |   return password == NULL;",
    "      |          ^~~~~~~~",
    "collect2: error: ld returned 1 exit status",
  ].join("\n"),
  node: [
    "TokenExpiredError: jwt expired",
    "    at /app/node_modules/jsonwebtoken/verify.js:152:21",
    "    at Module._compile (node:internal/modules/cjs/loader:1376:14)",
    "    at Object.<anonymous> (/home/dev/proj/dist/index.js:10:15)",
    "SyntaxError: Unexpected token '}' in JSON at position 42",
    "Error: invalid token: unexpected end of input while parsing",
    "//# sourceMappingURL=data:application/json;base64,eyJ2ZXJzaW9uIjozLCJzb3VyY2VzIjpbImluZGV4LnRzIl19",
    "if (token === undefined || secret == null) throw new Error('missing')",
    "const handler = (token) => verify(token, secret);",
  ].join("\n"),
  misc: [
    "request id 550e8400-e29b-41d4-a716-446655440000 failed",
    "Error response from daemon: Get \"https://registry-1.docker.io/v2/\": unauthorized: incorrect username or password",
    "WWW-Authenticate: Bearer realm=\"api\", error=\"invalid_token\"",
    "Missing bearer authentication in request header",
    "usage: tool [-h] [--token TOKEN] [--password PASSWORD]",
    "  --token TOKEN  GitHub token (default: $GITHUB_TOKEN)",
    "Use --token to pass a token",
    '"usage": {"prompt_tokens": 12, "completion_tokens": 30, "total_tokens": 42}',
    "Setting `pad_token_id` to `eos_token_id`:50256 for open-end generation.",
    "export PATH=$HOME/.local/bin:$PATH",
    "SSH_AUTH_SOCK=/tmp/ssh-XXXXabcd/agent.1234",
    "password: ${DB_PASSWORD}",
    'password: "{{ .Values.db.password }}"',
    "GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}",
    "DB_PASSWORD=",
    "password=<your-password>",
    "kubectl get secret my-secret -o yaml",
    "http://localhost:3000/api/users?id=42 and http://[::1]:8080/health",
    "error[E0425]: cannot find value `token` in this scope",
    "docker run -u 1000:1000 img && git push -u origin main",
    "ASIAN markets; AKIA is not a key; sk-learn; xoxb-short; glpat-short; npm_short",
  ].join("\n"),
  shell: [
    "git push origin main",
    "export PATH=/usr/local/bin:$PATH",
    "PWD=/home/dev/app OLDPWD=/tmp",
    "mysql -h db -u root -p app",
    "redis-cli -h cache -p 6379 ping",
    "ssh -p 2222 deploy@web1",
    "max_tokens=100 tokenizer=bert token_count=12",
    "password_min_length=8 TOKEN_URL=https://auth.example.com/token",
    "cache_key=users:42 PUBLIC_KEY=ssh-ed25519 AAAAC3Nza",
    "SSH_AUTH_SOCK=/tmp/ssh-XXXX/agent.1 AUTH=none",
    "kubectl create secret generic db --from-file=password=./pw.txt",
    "task: deploy the app; Error: token: invalid (expired)",
  ].join("\n"),
  tsc_more: [
    "src/auth.ts(3,7): error TS2322: Type 'string' is not assignable to type 'number'.",
    "src/auth.ts(12,5): error TS2741: Property 'password' is missing in type '{}' but required in type '{ password: string; }'.",
    "src/auth.ts:20:3 - error TS2339: Property 'apiKey' does not exist on type 'Config'.",
    "Found 3 errors in the same file, starting at: src/auth.ts:3",
  ].join("\n"),
};

describe("redactSecrets: no false positives on ordinary error output", () => {
  for (const [tool, text] of Object.entries(CLEAN)) {
    test(tool, () => {
      const r = redactSecrets(text);
      assert.equal(r.text, text);
      assert.equal(r.count, 0);
    });
  }
});

describe("redactSecrets: idempotence", () => {
  test("redacting twice changes nothing more, for every case", () => {
    for (const c of CASES) {
      const once = redactSecrets(c.input);
      const twice = redactSecrets(once.text);
      assert.equal(twice.text, once.text, `not idempotent for ${c.pattern}: ${c.title}`);
      assert.equal(twice.count, 0, `second pass counted again for ${c.pattern}: ${c.title}`);
    }
  });

  test("tags themselves are never matched", () => {
    const tags = SECRET_PATTERNS.map((p) => `key=[REDACTED:${p.name}] password: [REDACTED:${p.name}]`).join("\n");
    assert.deepEqual(redactSecrets(tags), { text: tags, count: 0 });
  });
});

describe("redactSecrets: large inputs", () => {
  test("1 MB of near-matches finishes (the runner's timeout catches backtracking)", () => {
    const near = [
      "ghp_" + alnum(35) + " ",
      "AKIA" + rep("ABCDEFG", 15) + " ",
      "sk-" + alnum(31) + "-",
      "-eyJ" + alnum(40),
      "eyJ" + alnum(30) + "." + alnum(5),
      "https://" + "u".repeat(300) + ":",
      "://user:" + "p".repeat(40) + "/",
      "password" + " ".repeat(20) + "\t",
      'password="\\',
      "Authorization: ",
      "bearer " + "a".repeat(30),
      BEGIN + "RSA PRIVATE KEY-----",
      "export X_TOKEN",
      "--token ",
      "aws_secret_access_key = " + alnum(39) + "=",
      "xoxb-",
      "AIza" + alnum(20),
    ].join(" ");
    const big = near.repeat(Math.ceil(1_000_000 / near.length));
    const r = redactSecrets(big);
    assert.equal(typeof r.text, "string");

    // Long runs of one class, with and without the anchors the patterns look for.
    for (const s of ["curl ", "curl -u ", "export A_TOKEN=\"", "-eyJ", "a", "-", ":", "=", " ", "sk-", "://a:", "password=", "\\", "a_pass:", "task: ", "mysql ", "sshpass -p ", "x_key=y", "x_pass=y ", "{\"db_pass\": \"", "\\nghp_"]) {
      const run = s.repeat(Math.ceil(300_000 / s.length));
      const started = performance.now();
      assert.equal(typeof redactSecrets(run).text, "string");
      // Linear runs take 20-150 ms here; a quadratic one took 6.6 s (a margin for a busy machine).
      const ms = performance.now() - started;
      assert.ok(ms < 3000, `${JSON.stringify(s)} x 300 KB took ${Math.round(ms)} ms`);
    }
  });

  test("a large text with secrets scattered in it redacts all of them", () => {
    const filler = "    at Object.<anonymous> (/home/dev/proj/dist/index.js:10:15)\n".repeat(200);
    const big = Array.from({ length: 50 }, (_, i) => `${filler}password=secretvalue${i}\n`).join("");
    const r = redactSecrets(big);
    assert.equal(r.count, 50);
    assert.ok(!r.text.includes("secretvalue"));
  });
});
