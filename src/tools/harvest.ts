import { z } from "zod";
import { harvest as runHarvest, parseSince } from "../harvest/harvest.js";
import { defineTool, UserError } from "./tool.js";

/** The most pairs listed in one answer; the counts cover them all. */
const MAX_LISTED = 50;

export const harvest = defineTool({
  name: "harvest",
  title: "Harvest fixes from Claude Code sessions",
  description:
    "Read finished Claude Code transcripts (~/.claude/projects/*/*.jsonl and their subagent files), find each failed Bash " +
    "command that a later command resolved, and store what was done in between as a candidate fix for that repository. " +
    "Sessions are scored first (recency, size, failures, tool calls) and the best read; a session already harvested adds " +
    "nothing. dry_run lists what would be stored. Secrets are redacted.",
  toolset: "memory",
  kind: "write",
  inputSchema: {
    dry_run: z.boolean().default(false).describe("List the pairs that would be stored, store nothing"),
    since: z.string().max(40).optional().describe('Only transcripts modified since then: "7d", "12h", "30m" or a date like "2026-11-01"'),
    limit: z.number().int().min(1).max(100_000).optional().describe("Read at most this many transcripts, best scored first"),
    root: z.string().max(4096).optional().describe("Directory of the transcripts (default ~/.claude/projects)"),
  },
  outputSchema: {
    root: z.string(),
    files_found: z.number().int(),
    files_unchanged: z.number().int().describe("Harvested before at this size and mtime: not read again"),
    files_read: z.number().int(),
    lines_skipped: z.number().int().describe("Lines that did not parse, e.g. the cut last line of a live session"),
    pairs_found: z.number().int(),
    pairs_stored: z.number().int(),
    pairs_already: z.number().int(),
    dry_run: z.boolean(),
    pairs: z
      .array(
        z.object({
          file: z.string(),
          session: z.string(),
          command: z.string(),
          error_type: z.string(),
          error: z.string().describe("The error's masked headline"),
          fix: z.string(),
          status: z.enum(["new", "stored", "already"]),
        }),
      )
      .describe(`At most ${MAX_LISTED} pairs`),
  },
  handle(args, { services }) {
    let since: number | undefined;
    try {
      since = args.since === undefined ? undefined : parseSince(args.since);
    } catch (err) {
      throw new UserError((err as Error).message);
    }
    const report = runHarvest(services.db, { root: args.root, since, limit: args.limit, dryRun: args.dry_run });
    const listed = { ...report, pairs: report.pairs.slice(0, MAX_LISTED) };
    const verb = report.dry_run ? "would store" : "stored";
    const lines = listed.pairs.map((p) => `- [${p.error_type}] ${p.command}: ${p.fix.split("\n").join(" ; ")} (${p.status})`);
    return {
      structured: listed,
      text: `${report.files_read} of ${report.files_found} transcripts read (${report.files_unchanged} unchanged); ${report.pairs_found} failure→fix pairs, ${verb} ${report.dry_run ? report.pairs_found - report.pairs_already : report.pairs_stored}.${lines.length ? `\n${lines.join("\n")}` : ""}`,
    };
  },
});
