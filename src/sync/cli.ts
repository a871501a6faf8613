/** `experience-mcp hub init URL --team NAME`, `experience-mcp sync [--status]` (docs/team.md). */
import { parseArgs } from "node:util";
import { ConfigError, loadConfig, TEAM_NAME } from "../config.js";
import { openDatabase } from "../storage/db.js";
import { ExperienceStore } from "../experience/store.js";
import { HUB_SCHEMA_VERSION, initHub } from "./hub.js";
import { syncStatus } from "./local.js";
import { syncOnce } from "./sync.js";

export const SYNC_USAGE = `usage:
  experience-mcp hub init [URL] --team NAME    create or migrate the hub schema and the team's role (URL default: EXPERIENCE_MCP_HUB)
  experience-mcp sync [--status] [--home DIR]   push this machine's fixes and pull the team's (EXPERIENCE_MCP_HUB, EXPERIENCE_MCP_TEAM)
  experience-mcp sync --share TENSOR | --unshare TENSOR   send a tensor's rows to the team (private rows excepted), or stop
`;

export async function hubCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { team: { type: "string" } }, allowPositionals: true, strict: true });
  if (positionals[0] !== "init" || positionals.length > 2) throw new ConfigError(`hub: expected \`hub init [URL] --team NAME\`\n${SYNC_USAGE}`);
  const settings = loadConfig().settings;
  const raw = positionals[1];
  const url = raw ?? settings.hubUrl;
  if (!url || !/^postgres(ql)?:\/\/\S+$/.test(url)) throw new ConfigError("hub init needs a postgres:// URL (postgres://user:password@host:5432/database), as its argument or in EXPERIENCE_MCP_HUB.");
  const team = values.team ?? settings.team;
  if (!team || !TEAM_NAME.test(team)) throw new ConfigError("hub init needs --team NAME: 1-40 lowercase letters, digits or _, starting with a letter.");
  const done = await initHub(url, team);
  process.stdout.write(`${JSON.stringify({ ...done, team, note: `grant ${done.role} to each member's PostgreSQL user (GRANT ${done.role} TO alice)` })}\n`);
  return 0;
}

export async function syncCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { status: { type: "boolean" }, home: { type: "string" }, share: { type: "string" }, unshare: { type: "string" } },
    strict: true,
  });
  const config = loadConfig({ home: values.home });
  const db = openDatabase(config.home);
  try {
    const tensor = values.share ?? values.unshare;
    if (tensor !== undefined) {
      if (!new ExperienceStore(db).setShared(tensor, values.share !== undefined)) throw new ConfigError(`There is no tensor ${JSON.stringify(tensor.slice(0, 80))} here: \`experience-mcp stats\` lists them.`);
      process.stdout.write(`${JSON.stringify({ tensor, shared: values.share !== undefined })}\n`);
      return 0;
    }
    if (values.status) {
      process.stdout.write(`${JSON.stringify({ ...syncStatus(db), configured: Boolean(config.settings.hubUrl && config.settings.team), hubSchema: HUB_SCHEMA_VERSION })}\n`);
      return 0;
    }
    const { hubUrl, team } = config.settings;
    if (!hubUrl || !team) throw new ConfigError("sync needs EXPERIENCE_MCP_HUB (a postgres:// URL) and EXPERIENCE_MCP_TEAM set: see docs/team.md.");
    process.stdout.write(`${JSON.stringify(await syncOnce(db, hubUrl, team))}\n`);
    return 0;
  } finally {
    db.close();
  }
}
