/** `experience-mcp harvest [--dry-run] [--since 7d] [--limit N] [--root DIR] [--home DIR]` */
import { parseArgs } from "node:util";
import { loadConfig } from "../config.js";
import { openDatabase } from "../experience/db.js";
import { harvest, parseSince } from "./harvest.js";

export async function harvestCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      "dry-run": { type: "boolean" },
      since: { type: "string" },
      limit: { type: "string" },
      root: { type: "string" },
      home: { type: "string" },
    },
    strict: true,
  });
  const limit = values.limit === undefined ? undefined : Number(values.limit);
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 0)) throw new Error("--limit takes a whole number of sessions");
  const db = openDatabase(loadConfig({ home: values.home }).home);
  try {
    const report = harvest(db, {
      root: values.root,
      since: values.since === undefined ? undefined : parseSince(values.since),
      limit,
      dryRun: values["dry-run"] === true,
    });
    process.stdout.write(`${JSON.stringify(report, null, values["dry-run"] ? 2 : undefined)}\n`);
  } finally {
    db.close();
  }
  return 0;
}
