/**
 * The team hub: a PostgreSQL database holding one append-only op log. Its schema is versioned
 * (experience_mcp_migrations); each team is a role, and row-level security shows a session only
 * the rows of the role it runs as, so one team cannot read another's ops even with raw SQL.
 *
 * pg is required here, at first use: the server and the hook never load it unless sync runs.
 */
import { createRequire } from "node:module";
import type { Client as PgClient } from "pg";
import type { Op } from "./local.js";

/** Hub schema migrations, applied in order; append only. */
const HUB_MIGRATIONS: readonly string[] = [
  // 1 (issue 12): the op log. seq orders a team's ops for cursors; a push holds the team's
  // advisory lock, so seq order is commit order and a cursor never skips a late commit.
  `
  CREATE TABLE experience_mcp_ops (
    seq          bigserial UNIQUE NOT NULL,
    id           uuid NOT NULL,
    team         name NOT NULL DEFAULT current_user,
    machine      text NOT NULL,
    kind         text NOT NULL,
    payload      jsonb NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    -- per team: an op sent to two teams is in both, and no team learns another's ids by conflict
    PRIMARY KEY (team, id)
  );
  CREATE INDEX experience_mcp_ops_team_seq ON experience_mcp_ops (team, seq);
  ALTER TABLE experience_mcp_ops ENABLE ROW LEVEL SECURITY;
  CREATE POLICY experience_mcp_team_rows ON experience_mcp_ops USING (team = current_user) WITH CHECK (team = current_user);
  `,
];
export const HUB_SCHEMA_VERSION = HUB_MIGRATIONS.length;

export class HubError extends Error {
  override name = "HubError";
}

/** The PostgreSQL role that stands for a team. */
export function teamRole(team: string): string {
  return `experience_mcp_team_${team}`;
}

/** The text with the hub URL's password (plain and percent-encoded) replaced by ***. */
export function redactHubPassword(text: string, url: string): string {
  let password = "";
  try {
    password = new URL(url).password;
  } catch {
    const m = /^[a-z]+:\/\/[^:/@]*:([^@]*)@/i.exec(url);
    password = m?.[1] ?? "";
  }
  if (!password) return text;
  let out = text;
  for (const p of new Set([password, safeDecode(password), encodeURIComponent(safeDecode(password))])) if (p) out = out.split(p).join("***");
  return out;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Where the hub is, for messages: host, port and database, never the user's password. */
export function hubLabel(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}${u.port ? `:${u.port}` : ""}${u.pathname}`;
  } catch {
    return "the hub";
  }
}

/** A new, not yet connected client for the hub; a dropped connection is reported by the query that fails. */
export function hubClient(url: string): PgClient {
  const { Client } = createRequire(import.meta.url)("pg") as typeof import("pg");
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5_000, query_timeout: 60_000 });
  client.on("error", () => undefined);
  return client;
}

/** The error as a HubError whose message names the hub and never holds the URL's password. */
export function asHubError(err: unknown, url: string): HubError {
  if (err instanceof HubError) return new HubError(redactHubPassword(err.message, url));
  const message = err instanceof Error ? err.message : String(err);
  return new HubError(redactHubPassword(`The hub at ${hubLabel(url)} failed: ${message.split("\n")[0]!.slice(0, 300)}`, url));
}

/** Run fn with a connected client; every error leaves as a HubError with the password redacted. */
export async function withHub<T>(url: string, fn: (client: PgClient) => Promise<T>): Promise<T> {
  const client = hubClient(url);
  try {
    await client.connect();
    return await fn(client);
  } catch (err) {
    throw asHubError(err, url);
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function hubVersion(client: PgClient): Promise<number | undefined> {
  const exists = await client.query("SELECT to_regclass('experience_mcp_migrations') IS NOT NULL AS ok");
  if (!(exists.rows[0] as { ok: boolean }).ok) return undefined;
  const r = await client.query("SELECT coalesce(max(version), 0) AS v FROM experience_mcp_migrations");
  return Number((r.rows[0] as { v: number }).v);
}

function newerHub(version: number): HubError {
  return new HubError(`The hub's schema is version ${version}, newer than this experience-mcp knows (${HUB_SCHEMA_VERSION}): upgrade experience-mcp on this machine; nothing was written.`);
}

/**
 * Create or migrate the hub schema and the team's role (run by a user who may create roles and
 * tables). Returns the schema version and the role members must be granted.
 */
export async function initHub(url: string, team: string): Promise<{ schema: number; applied: number; role: string }> {
  return withHub(url, async (client) => {
    await client.query("BEGIN");
    try {
      // One init at a time: two admins running it together migrate once.
      await client.query("SELECT pg_advisory_xact_lock(hashtext('experience_mcp_migrations'))");
      await client.query("CREATE TABLE IF NOT EXISTS experience_mcp_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())");
      const current = (await hubVersion(client)) ?? 0;
      if (current > HUB_SCHEMA_VERSION) throw newerHub(current);
      for (let v = current; v < HUB_SCHEMA_VERSION; v++) {
        await client.query(HUB_MIGRATIONS[v]!);
        await client.query("INSERT INTO experience_mcp_migrations (version) VALUES ($1)", [v + 1]);
      }
      const role = teamRole(team);
      const found = await client.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [role]);
      // The role name is checked against TEAM_NAME ([a-z][a-z0-9_]*), so quoting it is enough.
      if (found.rowCount === 0) await client.query(`CREATE ROLE "${role}" NOLOGIN`);
      await client.query(`GRANT SELECT ON experience_mcp_migrations TO "${role}"`);
      await client.query(`GRANT SELECT, INSERT ON experience_mcp_ops TO "${role}"`);
      await client.query(`GRANT USAGE ON SEQUENCE experience_mcp_ops_seq_seq TO "${role}"`);
      await client.query("COMMIT");
      return { schema: HUB_SCHEMA_VERSION, applied: HUB_SCHEMA_VERSION - current, role };
    } catch (err) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw err;
    }
  });
}

/** A session on the hub as the team's role, after checking the hub's schema is one we know. */
export async function asTeam(client: PgClient, team: string): Promise<void> {
  try {
    await client.query(`SET ROLE "${teamRole(team)}"`);
  } catch (err) {
    throw new HubError(
      `Cannot act as team ${team} on the hub (${(err as Error).message}): run \`experience-mcp hub init URL --team ${team}\` and grant ${teamRole(team)} to the hub user.`,
    );
  }
  const version = await hubVersion(client);
  if (version === undefined || version === 0) throw new HubError("The hub has no experience-mcp schema: run `experience-mcp hub init URL --team NAME` first.");
  if (version > HUB_SCHEMA_VERSION) throw newerHub(version);
}

/** Append ops to the team's log; an op the hub already has (same id) is left as it is. */
export async function pushOps(client: PgClient, ops: readonly Op[]): Promise<number> {
  if (ops.length === 0) return 0;
  await client.query("BEGIN");
  try {
    await client.query("SELECT pg_advisory_xact_lock(hashtext(current_user))");
    const r = await client.query(
      `INSERT INTO experience_mcp_ops (id, machine, kind, payload)
       SELECT x.id, x.machine, x.kind, x.payload FROM jsonb_to_recordset($1::jsonb) AS x (id uuid, machine text, kind text, payload jsonb)
       ON CONFLICT (team, id) DO NOTHING`,
      [JSON.stringify(ops)],
    );
    // Delivered at commit to every machine listening on the team's channel (see teamChannel).
    if ((r.rowCount ?? 0) > 0) await client.query("SELECT pg_notify(current_user, '')");
    await client.query("COMMIT");
    return r.rowCount ?? 0;
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw err;
  }
}

/**
 * Listen on the team's channel (named after its role, which a session acting as the team is):
 * a push NOTIFYs it at commit, so other machines pull at once instead of at their next poll.
 * The notification carries nothing; anyone may LISTEN on a channel, so it says only "team X pushed".
 */
export async function listenTeam(client: PgClient, team: string): Promise<void> {
  await client.query(`LISTEN "${teamRole(team)}"`);
}

/** The team's ops after the cursor, in seq order. */
export async function pullOps(client: PgClient, cursor: number, limit: number): Promise<Array<Op & { seq: number }>> {
  const r = await client.query("SELECT seq, id, machine, kind, payload FROM experience_mcp_ops WHERE seq > $1 ORDER BY seq LIMIT $2", [cursor, limit]);
  return (r.rows as Array<{ seq: string; id: string; machine: string; kind: Op["kind"]; payload: Op["payload"] }>).map((row) => ({ ...row, seq: Number(row.seq) }));
}
