import { trailsDir } from "../config.js";
import { resolve } from "node:path";
import { z } from "zod";
import { HARVEST_SOURCES, harvestSources, parseSince } from "../harvest/harvest.js";
import { DEFAULT_TRAIL_TENSOR } from "../harvest/trail.js";
import { nameSchema, tensorNameSchema } from "../names.js";
import { defineTool } from "./tool.js";

/** The most pairs listed in one answer; the counts cover them all. */
const MAX_LISTED = 50;

export const harvest = defineTool({
  name: "harvest",
  title: "Harvest fixes from Claude Code sessions and terminal trails",
  description:
    "Read finished Claude Code transcripts (~/.claude/projects/*/*.jsonl and their subagent files), find each failed Bash " +
    "command that a later command resolved, and store what was done in between as a candidate fix for that repository; each " +
    "successful Bash call the assistant announced becomes a row of tensor \"transcripts\" (what it had seen → what it said it " +
    "would do → the command). " +
    "Sessions are scored first (recency, size, failures, tool calls) and the best read; a session already harvested adds " +
    "nothing. Terminal trails (<home>/trails, what send_text/send_keys typed) give (observation, decision, command) triples, " +
    "stored as rows in tensor \"trails\" (screen before → what was run and the screen after), and failure→fix pairs; a " +
    "session is continued from where the last harvest stopped. A command typed by hand after a run_harness run that did not " +
    "solve its task (same session) becomes a training example for that run's command expert (train_model source \"trail\"). " +
    "dry_run lists what would be stored. Secrets are redacted.",
  toolset: "memory",
  kind: "write",
  inputSchema: {
    dry_run: z.boolean().default(false).describe("List the pairs that would be stored, store nothing"),
    since: z.string().max(40).optional().describe('Only transcripts modified since then: "7d", "12h", "30m" or a date like "2026-11-01"'),
    limit: z.number().int().min(1).max(100_000).optional().describe("Read at most this many transcripts, best scored first"),
    root: z.string().max(4096).optional().describe("Directory of the transcripts (default ~/.claude/projects)"),
    sources: z
      .array(z.enum(HARVEST_SOURCES))
      .min(1)
      .max(HARVEST_SOURCES.length)
      .default([...HARVEST_SOURCES])
      .describe('What to read: "transcripts" (Claude Code sessions), "trails" (tmux sessions of this server); default both'),
    trails_home: z.string().max(4096).optional().describe("Data directory whose trails/ repository is read (default this server's home)"),
    session: nameSchema.optional().describe("Only this trail session"),
    tensor: tensorNameSchema.default(DEFAULT_TRAIL_TENSOR).describe('Tensor the trail triples are stored in (default "trails")'),
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
    triples: z
      .object({
        tensor: z.string(),
        found: z.number().int(),
        stored: z.number().int(),
        already: z.number().int().describe("Stored by an earlier harvest"),
        listed: z
          .array(
            z.object({
              file: z.string(),
              session: z.string(),
              observation: z.string().describe("Last lines the assistant had seen (user message or tool output)"),
              decision: z.string().describe("What it said it would do"),
              command: z.string(),
              status: z.enum(["new", "stored", "already"]),
            }),
          )
          .describe(`At most ${MAX_LISTED}`),
      })
      .describe("Transcripts: (observation, decision, command) of successful Bash calls"),
    sources: z.array(z.enum(HARVEST_SOURCES)),
    trails: z
      .object({
        root: z.string().describe("The trail repository read"),
        tensor: z.string(),
        sessions_found: z.number().int(),
        sessions_read: z.number().int().describe("Sessions with new steps"),
        sessions_unchanged: z.number().int().describe("Nothing new since the last harvest"),
        triples_found: z.number().int(),
        triples_stored: z.number().int().describe("Rows created; an identical row is reinforced instead"),
        pairs_found: z.number().int(),
        pairs_stored: z.number().int(),
        pairs_already: z.number().int(),
        triples: z
          .array(
            z.object({
              session: z.string(),
              seq: z.number().int().describe("seq of the step's first commit"),
              observation: z.string().describe("Last lines of the screen before the step"),
              decision: z.string().describe('"text:<line run>" or "ctrl:<key>"'),
              command: z.string().describe("What was sent"),
              outcome: z.string().describe("Last lines of the screen it led to"),
            }),
          )
          .describe(`At most ${MAX_LISTED} triples`),
        pairs: z
          .array(
            z.object({
              session: z.string(),
              seq: z.number().int(),
              command: z.string(),
              error_type: z.string(),
              error: z.string(),
              fix: z.string(),
              status: z.enum(["new", "stored", "already"]),
            }),
          )
          .describe(`At most ${MAX_LISTED} pairs`),
        demonstrations: z
          .array(
            z.object({
              session: z.string(),
              seq: z.number().int(),
              run_id: z.string().describe("The run_harness run that did not solve its task in this session"),
              tensor: z.string(),
              input: z.string().describe("The command expert's input that run could not answer"),
              expected: z.string().describe("The command typed by hand afterwards, parameters as {1}, {2}, …"),
              status: z.enum(["new", "stored"]),
            }),
          )
          .describe('Training examples (train_model source "trail") from commands typed after an unsolved run_harness run'),
      })
      .describe("Terminal trails: what was read and stored"),
  },
  async handle(args, { services, config }) {
    const since = args.since === undefined ? undefined : parseSince(args.since);
    const report = await harvestSources(services.db, {
      root: args.root,
      since,
      limit: args.limit,
      dryRun: args.dry_run,
      sources: args.sources,
      trailsRoot: trailsDir(args.trails_home === undefined ? config.home : resolve(args.trails_home)),
      session: args.session,
      tensor: args.tensor,
    });
    const t = report.trails;
    const listed = {
      ...report,
      pairs: report.pairs.slice(0, MAX_LISTED),
      triples: { ...report.triples, listed: report.triples.listed.slice(0, MAX_LISTED) },
      trails: { ...t, triples: t.triples.slice(0, MAX_LISTED), pairs: t.pairs.slice(0, MAX_LISTED) },
    };
    const verb = report.dry_run ? "would store" : "stored";
    const lines = listed.pairs.map((p) => `- [${p.error_type}] ${p.command}: ${p.fix.split("\n").join(" ; ")} (${p.status})`);
    const trailLines = report.sources.includes("trails")
      ? [
          `${t.sessions_read} of ${t.sessions_found} trail sessions read (${t.sessions_unchanged} unchanged); ${t.triples_found} triples, ` +
            `${report.dry_run ? "would store them in" : `stored ${t.triples_stored} new rows in`} tensor ${t.tensor}; ${t.pairs_found} failure→fix pairs, ` +
            `${verb} ${report.dry_run ? t.pairs_found - t.pairs_already : t.pairs_stored}.`,
          ...listed.trails.pairs.map((p) => `- [${p.error_type}] ${p.command}: ${p.fix.split("\n").join(" ; ")} (${p.status})`),
          ...t.demonstrations.map((d) => `- taught ${d.tensor}: ${JSON.stringify(d.input.split("\n").pop() ?? "")} → ${d.expected} (${d.status})`),
        ]
      : [];
    const tr = report.triples;
    const transcriptText =
      `${report.files_read} of ${report.files_found} transcripts read (${report.files_unchanged} unchanged); ${report.pairs_found} failure→fix pairs, ` +
      `${verb} ${report.dry_run ? report.pairs_found - report.pairs_already : report.pairs_stored}; ${tr.found} (observation, decision, command) triples, ` +
      `${verb} ${report.dry_run ? tr.found - tr.already : tr.stored} in tensor ${tr.tensor}.${lines.length ? `\n${lines.join("\n")}` : ""}`;
    return {
      structured: listed,
      text: [...(report.sources.includes("transcripts") ? [transcriptText] : []), ...trailLines].join("\n"),
    };
  },
});
