import { trailsDir } from "../config.js";
import { z } from "zod";
import { nameSchema } from "../names.js";
import { validateTrail as measureTrail } from "../trail/validators.js";
import { defineTool, UserError } from "./tool.js";

export const validateTrail = defineTool({
  name: "validate_trail",
  title: "Measure a session's keystroke trail",
  description:
    "Metrics over the git trail of one terminal session (its commits, one per text chunk or key): " +
    "average interval between commits, largest change of the session's files between adjacent commits " +
    "(in bytes and as unified-diff characters), and the fraction of commits at which every Python/JS/TS " +
    "file in the session's workspace parses.",
  toolset: "terminal",
  kind: "read",
  inputSchema: {
    session: nameSchema.describe("Session whose commits are measured (commit subjects start with '<session>: ')"),
  },
  outputSchema: {
    commits: z.number().int().describe("Commits recorded for the session"),
    avg_interval_ms: z.number().nullable().describe("(last - first commit time) / (commits - 1), in ms; null with fewer than 2 commits"),
    max_byte_delta: z.number().int().describe("Largest change in total bytes of the session's files between adjacent commits"),
    max_diff_chars: z.number().int().describe("Largest unified diff of the session's files between adjacent commits, in characters"),
    syntax_ratio: z.number().min(0).max(1).describe("Fraction of commits at which every .py/.js/.ts (and variants) file in the workspace parses"),
  },
  async handle(args, { config }) {
    const metrics = await measureTrail(trailsDir(config.home), args.session);
    if (metrics.commits === 0) {
      throw new UserError(
        `No trail commits for session "${args.session}". List sessions and their commit counts with tmux_session {"action":"list"}; ` +
          "a session gets commits when send_text or send_keys types into it.",
      );
    }
    const avg = metrics.avg_interval_ms === null ? "n/a" : `${metrics.avg_interval_ms.toFixed(1)} ms`;
    return {
      structured: metrics,
      text:
        `${args.session}: ${metrics.commits} commits, avg interval ${avg}, max byte delta ${metrics.max_byte_delta}, ` +
        `max diff ${metrics.max_diff_chars} chars, syntax ratio ${metrics.syntax_ratio.toFixed(3)}`,
    };
  },
});
