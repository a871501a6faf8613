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
    `command and idle (a shell in the foreground and no output for ${IDLE_QUIET_MS} ms). To read a command's result, ` +
    'pass wait_for: "shell" (the command returned and the prompt is back: the shell\'s command-end marks say so at once; ' +
    'a program without them, such as a REPL, counts after 150 ms of quiet), "idle" (output paused) or "text" (the ' +
    "given text is on screen); the wait follows the terminal's output events, and on timeout the screen is returned anyway.",
  toolset: "terminal",
  kind: "read",
  inputSchema: {
    session: nameSchema.describe("Session to read"),
    lines: z.number().int().min(0).max(100_000).optional().describe("Scrollback lines to include above the visible screen (default 0: the screen only)"),
    max_chars: z.number().int().min(200).max(1_000_000).optional().describe("Longest text returned (default: the server's result limit, 20000); the oldest lines are cut first"),
    wait_for: z
      .enum(["idle", "shell", "text"])
      .optional()
      .describe('Wait before capturing: "shell" = the foreground command returned, "idle" = no output for a moment, "text" = `text` appears'),
    text: z.string().min(1).max(1000).optional().describe('With wait_for="text": the literal text to wait for'),
    timeout_ms: z.number().int().min(1).max(300_000).default(10_000).describe("Longest wait in milliseconds (default 10000)"),
  },
  outputSchema: {
    text: z.string().describe("Screen text, trailing blank lines removed"),
    cursor: z.object({ x: z.number().int(), y: z.number().int() }).describe("Cursor position in the visible pane, 0-based"),
    current_command: z.string().describe("The pane's foreground process, e.g. bash or vim"),
    idle: z.boolean().describe(`true when a shell is in the foreground and nothing was written for ${IDLE_QUIET_MS} ms`),
    truncated: z.boolean().describe("true when older text was cut to fit max_chars"),
    wait: z
      .object({ for: z.string(), met: z.boolean().describe("false when the timeout came first"), waited_ms: z.number() })
      .optional()
      .describe("Present when wait_for was given"),
  },
  async handle(args, { config, services }) {
    if (args.wait_for === "text" && !args.text) throw new UserError('wait_for="text" needs text: the literal text to wait for');
    const terminal = services.terminal;
    let wait: { for: string; met: boolean; waited_ms: number } | undefined;
    if (args.wait_for) {
      const started = Date.now();
      const timeoutMs = args.timeout_ms;
      let met = true;
      try {
        if (args.wait_for === "idle") await terminal.waitForIdle(args.session, { timeoutMs });
        else if (args.wait_for === "shell") await terminal.waitForShell(args.session, { timeoutMs });
        else await terminal.waitForText(args.session, args.text!, { timeoutMs, lines: args.lines });
      } catch (err) {
        // A wait that runs out still answers with the screen: that is what the caller needs next.
        if (!(err instanceof TerminalError && err.code === "timeout")) throw err;
        met = false;
      }
      wait = { for: args.wait_for, met, waited_ms: Date.now() - started };
    }
    const r = await terminal.capture(args.session, { lines: args.lines, maxChars: args.max_chars ?? config.limits.maxResultChars });
    const structured = wait ? { ...r, wait } : r;
    const note = wait && !wait.met ? `[gave up waiting for ${wait.for} after ${wait.waited_ms} ms]\n` : "";
    return { structured, links: [{ kind: "session", name: args.session }], text: note + r.text };
  },
});
