import { z } from "zod";
import { nameSchema } from "../names.js";
import { TerminalError } from "../tmux/errors.js";
import { IDLE_QUIET_MS } from "../tmux/terminal.js";
import { defineTool, UserError } from "./tool.js";

export const capturePane = defineTool({
  name: "capture_pane",
  title: "Read a terminal session's screen",
  description:
    "Capture the visible screen of a session (or more scrollback with lines) as text, wrapped lines joined. " +
    "Over max_chars, the oldest part is cut and a header line says so. Also reports the cursor, the foreground " +
    `command and idle (a shell in the foreground and no output for ${IDLE_QUIET_MS} ms).`,
  toolset: "terminal",
  kind: "read",
  inputSchema: {
    session: nameSchema.describe("Session to read"),
    lines: z.number().int().min(0).max(100_000).optional().describe("Scrollback lines to include above the visible screen (default 0: the screen only)"),
    max_chars: z.number().int().min(200).max(1_000_000).optional().describe("Longest text returned (default: the server's result limit, 20000); the oldest lines are cut first"),
  },
  outputSchema: {
    text: z.string().describe("Screen text, trailing blank lines removed"),
    cursor: z.object({ x: z.number().int(), y: z.number().int() }).describe("Cursor position in the visible pane, 0-based"),
    current_command: z.string().describe("The pane's foreground process, e.g. bash or vim"),
    idle: z.boolean().describe(`true when a shell is in the foreground and nothing was written for ${IDLE_QUIET_MS} ms`),
    truncated: z.boolean().describe("true when older text was cut to fit max_chars"),
  },
  async handle(args, { config, services }) {
    try {
      const r = await services.terminal.capture(args.session, { lines: args.lines, maxChars: args.max_chars ?? config.limits.maxResultChars });
      return { structured: r, text: r.text };
    } catch (err) {
      throw err instanceof TerminalError ? new UserError(err.message) : err;
    }
  },
});
