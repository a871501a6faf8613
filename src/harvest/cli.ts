/**
 * `experience-mcp harvest [--dry-run] [--since 7d] [--limit N] [--root DIR] [--home DIR]
 *   [--sources transcripts,trails] [--trails-home DIR] [--session NAME] [--tensor NAME]`
 */
import { parseArgs } from "node:util";
import { loadConfig, trailsDir } from "../config.js";
import { openDatabase } from "../storage/db.js";
import { assertName, TENSOR_PATTERN } from "../names.js";
import { harvestSources, parseSince, parseSources } from "./harvest.js";

export async function harvestCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      "dry-run": { type: "boolean" },
      since: { type: "string" },
      limit: { type: "string" },
      root: { type: "string" },
      home: { type: "string" },
      sources: { type: "string" },
      "trails-home": { type: "string" },
      session: { type: "string" },
      tensor: { type: "string" },
    },
    strict: true,
  });
  const limit = values.limit === undefined ? undefined : Number(values.limit);
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 0)) throw new Error("--limit takes a whole number of sessions");
  if (values.session !== undefined) assertName("session", values.session);
  if (values.tensor !== undefined && !TENSOR_PATTERN.test(values.tensor)) throw new Error(`--tensor ${JSON.stringify(values.tensor)}: use NAME or NAMESPACE/NAME (A-Z a-z 0-9 _ -)`);
  const home = loadConfig({ home: values.home }).home;
  const db = openDatabase(home);
  try {
    const report = await harvestSources(db, {
      root: values.root,
      since: values.since === undefined ? undefined : parseSince(values.since),
      limit,
      dryRun: values["dry-run"] === true,
      sources: values.sources === undefined ? undefined : parseSources(values.sources),
      trailsRoot: trailsDir(values["trails-home"] === undefined ? home : loadConfig({ home: values["trails-home"] }).home),
      session: values.session,
      tensor: values.tensor,
    });
    process.stdout.write(`${JSON.stringify(report, null, values["dry-run"] ? 2 : undefined)}\n`);
  } finally {
    db.close();
  }
  return 0;
}
