/**
 * A corpus of secret formats for the redaction tests (issue 11), generated fresh for every run from
 * a random seed (printed, so a failure can be replayed with SECRET_CORPUS_SEED): nothing can pass
 * because a fixed value happens to be handled. Every item is a line (or a block) as it would
 * appear in a terminal, a config file or a command, and names its random `core`: the part that
 * must never reach the disk. Scans look for the core and for its first and last 10 characters,
 * case-insensitively (the search index lowercases), so a secret cut in pieces is found too.
 */
import { mulberry32 } from "./prng.js";

export interface SecretItem {
  /** Which format this is (unique). */
  format: string;
  /** The text holding the secret. */
  text: string;
  /** The random secret value that must not be stored. */
  core: string;
}

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const HEX = "0123456789abcdef";
const UPPER_NUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const B64 = ALNUM + "+/";
const B64URL = ALNUM + "-_";

export function corpusSeed(): number {
  const fromEnv = Number(process.env.SECRET_CORPUS_SEED);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : 1 + Math.floor(Math.random() * 2 ** 31);
}

/** At least 60 formats, each with a fresh random secret. */
export function secretCorpus(seed: number): SecretItem[] {
  const rnd = mulberry32(seed);
  const pick = (set: string, n: number): string => {
    let s = "";
    for (let i = 0; i < n; i++) s += set[Math.floor(rnd() * set.length)];
    return s;
  };
  // Random passwords: letters and digits (always both), with a symbol inside that real passwords have.
  const pw = (n = 16): string => `${pick(ALNUM, n - 4)}${"!@%^*"[Math.floor(rnd() * 5)]}${pick(HEX, 3)}`;
  const items: SecretItem[] = [];
  const add = (format: string, core: string, text: (c: string) => string) => items.push({ format, core, text: text(core) });
  const pem = (kind: string) => (c: string) => `-----BEGIN ${kind}-----\n${c.slice(0, 64)}\n${c.slice(64)}\n-----END ${kind}-----`;

  // Tokens known by their prefix.
  add("aws access key id", `AKIA${pick(UPPER_NUM, 16)}`, (c) => `aws configure set aws_access_key_id ${c}`);
  add("aws secret access key", pick(B64, 40), (c) => `aws_secret_access_key = ${c}`);
  add("github classic pat", `ghp_${pick(ALNUM, 36)}`, (c) => `git clone https://github.com/acme/app.git # token ${c}`);
  add("github oauth token", `gho_${pick(ALNUM, 36)}`, (c) => `gh auth login --with-token <<< ${c}`);
  add("github fine-grained pat", `github_pat_${pick(ALNUM, 22)}_${pick(ALNUM, 59)}`, (c) => `GH_ENTERPRISE_TOKEN_VALUE ${c}`);
  add("anthropic api key", `sk-ant-api03-${pick(B64URL, 93)}AA`, (c) => `anthropic.AuthenticationError: invalid x-api-key ${c}`);
  add("openai project key", `sk-proj-${pick(B64URL, 48)}`, (c) => `curl https://api.openai.com/v1/models -H "X-Key: ${c}"`);
  add("openai legacy key", `sk-${pick(ALNUM, 48)}`, (c) => `openai.api_key_value ${c}`);
  add("slack bot token", `xoxb-${pick("0123456789", 12)}-${pick("0123456789", 13)}-${pick(ALNUM, 24)}`, (c) => `slack-notify --via ${c}`);
  add("slack user token", `xoxp-${pick("0123456789", 12)}-${pick(ALNUM, 30)}`, (c) => `using ${c} for the bot`);
  add("slack app-level token", `xapp-1-A${pick(UPPER_NUM, 10)}-${pick("0123456789", 13)}-${pick(HEX, 64)}`, (c) => `socket mode with ${c}`);
  add("slack webhook", `T${pick(UPPER_NUM, 8)}/B${pick(UPPER_NUM, 8)}/${pick(ALNUM, 24)}`, (c) => `curl -X POST https://hooks.slack.com/services/${c} -d '{}'`);
  add("stripe live secret key", `sk_live_${pick(ALNUM, 24)}`, (c) => `Stripe::AuthenticationError: Invalid API Key provided: ${c}`);
  add("stripe restricted key", `rk_test_${pick(ALNUM, 24)}`, (c) => `stripe listen --api-key-value ${c}`);
  add("stripe webhook secret", `whsec_${pick(ALNUM, 32)}`, (c) => `webhook signing with ${c}`);
  add("google api key", `AIza${pick(B64URL, 35)}`, (c) => `https://maps.googleapis.com/maps/api/geocode/json?address=x&k=${c}`);
  add("google oauth access token", `ya29.${pick(B64URL, 60)}`, (c) => `gcloud returned ${c}`);
  add("gitlab pat", `glpat-${pick(B64URL, 20)}`, (c) => `git remote add origin https://gitlab.com/x.git # ${c}`);
  add("npm token", `npm_${pick(ALNUM, 36)}`, (c) => `//registry.npmjs.org/:_authToken=${c}`);
  add("hugging face token", `hf_${pick(ALNUM, 34)}`, (c) => `huggingface-cli login ${c}`);
  add("pypi token", `pypi-AgEIcHlwaS5vcmc${pick(B64URL, 60)}`, (c) => `twine upload dist/* -u __token__ ${c}`);
  add("jwt", `eyJhbGciOiJIUzI1NiJ9.eyJ${pick(B64URL, 40)}.${pick(B64URL, 43)}`, (c) => `cookie session=${c}; Path=/`);
  add("sendgrid api key", `SG.${pick(B64URL, 22)}.${pick(B64URL, 43)}`, (c) => `sendgrid error 401 with ${c}`);
  add("digitalocean pat", `dop_v1_${pick(HEX, 64)}`, (c) => `doctl auth init -t ${c}`);
  add("digitalocean oauth", `doo_v1_${pick(HEX, 64)}`, (c) => `do token ${c}`);
  add("shopify access token", `shpat_${pick(HEX, 32)}`, (c) => `shopify token ${c}`);
  add("square access token", `sq0atp-${pick(B64URL, 22)}`, (c) => `square ${c}`);
  add("databricks token", `dapi${pick(HEX, 32)}`, (c) => `databricks configure ${c}`);
  add("doppler token", `dp.pt.${pick(ALNUM, 43)}`, (c) => `doppler run ${c}`);
  add("hashicorp vault token", `hvs.${pick(B64URL, 90)}`, (c) => `vault login ${c}`);
  add("age secret key", `AGE-SECRET-KEY-1${pick(UPPER_NUM, 58)}`, (c) => `# age key\n${c}`);
  add("telegram bot token", `${1 + Math.floor(rnd() * 8)}${pick("0123456789", 8)}:AA${pick(B64URL, 33)}`, (c) => `https://api.telegram.org/bot${c}/getMe`);
  add("linear api key", `lin_api_${pick(ALNUM, 40)}`, (c) => `linear ${c}`);

  // Credentials by context.
  add("url credentials", pw(), (c) => `psql postgres://app:${c}@db.internal:5432/app`);
  add("authorization bearer header", `${pick(ALNUM, 32)}${pick("0123456789", 4)}`, (c) => `Authorization: Bearer ${c}`);
  add("authorization basic header", pick(B64, 28) + "==", (c) => `Authorization: Basic ${c}`);
  add("curl -u", pw(), (c) => `curl -u admin:${c} https://ci.internal/api`);
  add("netrc", pw(), (c) => `machine api.internal login deploy password ${c}`);
  add("azure storage account key", `${pick(B64, 86)}==`, (c) => `DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=${c};EndpointSuffix=core.windows.net`);
  add("azure service bus key", `${pick(B64, 43)}=`, (c) => `Endpoint=sb://acme.servicebus.windows.net/;SharedAccessKeyName=root;SharedAccessKey=${c}`);
  add("azure sas signature", `${pick(ALNUM, 40)}%3D`, (c) => `https://acme.blob.core.windows.net/c/f?sv=2022-11-02&sp=r&sig=${c}`);
  add("mysql -p", pw(), (c) => `mysql -h db -u root -p${c} app`);
  add("sshpass -p", pw(), (c) => `sshpass -p '${c}' ssh deploy@web1`);
  add("redis-cli -a", pw(), (c) => `redis-cli -h cache -a ${c} ping`);
  add("docker login -p", pw(), (c) => `docker login -u ci -p ${c} registry.acme.io`);
  add("cli --password=", pw(), (c) => `mysqldump --password=${c} app > dump.sql`);
  add("cli --db-password value", pw(), (c) => `./migrate --db-password ${c} --up`);
  add("cli --client-secret=", pw(), (c) => `oauth2-proxy --client-secret=${c}`);

  // Assignments of secret-named keys: env, .env, shell, YAML, JSON, TOML, INI, code.
  add(".env DB_PASSWORD with &", `${pick(ALNUM, 10)}&${pick(ALNUM, 8)}`, (c) => `DB_PASSWORD=${c}`);
  add(".env SECRET_KEY", pw(), (c) => `SECRET_KEY=${c}`);
  add(".env DB_PASS", pw(), (c) => `DB_PASS=${c}`);
  add(".env MYSQL_PWD", pw(), (c) => `MYSQL_PWD=${c}`);
  add(".env SECRET_KEY_BASE", pick(HEX, 64), (c) => `SECRET_KEY_BASE=${c}`);
  add("export *_TOKEN", pick(ALNUM, 32), (c) => `export CI_DEPLOY_TOKEN=${c}`);
  add("export *_API_KEY quoted", pick(ALNUM, 32), (c) => `export MAILGUN_API_KEY="${c}"`);
  add("PGPASSWORD prefix", pw(), (c) => `PGPASSWORD=${c} psql -h db app`);
  add(".env lowercase pass", pw(), (c) => `redis_pass=${c}`);
  add(".env *_CREDENTIALS", pick(ALNUM, 30), (c) => `GOOGLE_CREDENTIALS=${c}`);
  add("BASIC_AUTH", `user:${pw()}`, (c) => `BASIC_AUTH=${c}`);
  add("yaml password", pw(), (c) => `  db_password: ${c}`);
  add("yaml client_secret", pick(ALNUM, 34), (c) => `client_secret: ${c}`);
  add("yaml quoted token", pick(ALNUM, 30), (c) => `  auth_token: "${c}"`);
  add("json camelCase password", pw(), (c) => `{"host": "db", "dbPassword": "${c}"}`);
  add("json api_key", pick(ALNUM, 32), (c) => `{"service": "maps", "api_key": "${c}"}`);
  add("json AccountKey-style", pick(ALNUM, 32), (c) => `{"signingKey": "${c}"}`);
  add("toml api key", pick(ALNUM, 32), (c) => `api_key = "${c}"`);
  add("ini passphrase", pw(), (c) => `passphrase=${c}`);
  add("python kwarg", pw(), (c) => `connect(host="db", password="${c}")`);
  add("powershell env", pick(ALNUM, 30), (c) => `$env:AZURE_CLIENT_SECRET = '${c}'`);
  add("dockerfile ENV", pick(ALNUM, 30), (c) => `ENV SENTRY_AUTH_TOKEN=${c}`);
  add("query string token", pick(ALNUM, 30), (c) => `GET /api/export?format=csv&access_token=${c}&page=2`);

  // Private keys.
  add("rsa private key", pick(B64, 160), pem("RSA PRIVATE KEY"));
  add("openssh private key", pick(B64, 160), pem("OPENSSH PRIVATE KEY"));
  add("pkcs8 private key", pick(B64, 160), pem("PRIVATE KEY"));

  const formats = new Set(items.map((i) => i.format));
  if (formats.size !== items.length) throw new Error("duplicate format in the secret corpus");
  return items;
}

/** The strings a scan looks for: the core and its first and last 10 characters, lower-cased. */
// Fixed parts of some formats (the same in every token): a scan must not look for them.
const FIXED_PREFIXES = ["pypi-AgEIcHlwaS5vcmc", "eyJhbGciOiJIUzI1NiJ9.eyJ"];

export function needles(item: SecretItem): string[] {
  const fixed = FIXED_PREFIXES.find((f) => item.core.startsWith(f)) ?? "";
  const c = item.core.slice(fixed.length).toLowerCase();
  const parts = [c];
  // Alphanumeric runs of the core: the search index splits text there.
  for (const run of c.split(/[^a-z0-9]+/)) if (run.length >= 10) parts.push(run.slice(0, 10), run.slice(-10));
  return [...new Set(parts)];
}
