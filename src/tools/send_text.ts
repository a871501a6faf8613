import { z } from "zod";
import { nameSchema } from "../names.js";
import { MAX_SEND_TEXT_CHARS } from "../tmux/terminal.js";
import { defineTool } from "./tool.js";

export const sendText = defineTool({
  name: "send_text",
  title: "Type text into a terminal session",
  description:
    "Type text literally into a tmux session, in chunks of at most 16 characters; after each chunk the screen is " +
    "captured and committed to the session's git trail (one commit per chunk). enter=true then presses Enter as its " +
    "own commit. A newline inside text is typed as a newline (a shell runs the line). To press keys such as C-c, use send_keys: " +
    "text with a NUL or another control character (other than tab, newline, CR) is refused before anything is sent. " +
    "Only one caller types into a session at a time, across processes; another waits up to 10 s, then gets 'session busy'. " +
    "Secrets are redacted from what is recorded; secret=true records the text only as <secret: N chars>.",
  toolset: "terminal",
  kind: "terminal",
  inputSchema: {
    session: nameSchema.describe("Session to type into (create it with tmux_session action=create)"),
    text: z
      .string()
      .max(MAX_SEND_TEXT_CHARS, `text is limited to ${MAX_SEND_TEXT_CHARS} characters per call: split it over several send_text calls`)
      .describe(`Text to type, at most ${MAX_SEND_TEXT_CHARS} characters; sent as-is (no key names)`),
    enter: z.boolean().default(false).describe("Press Enter after the text (its own commit)"),
    secret: z
      .boolean()
      .default(false)
      .describe("The text is a secret (a password at a prompt): it is typed, but recorded everywhere as <secret: N chars> and scrubbed from later screens"),
  },
  outputSchema: {
    chunks: z.array(z.string()).describe("The chunks typed, each at most 16 characters"),
    commits: z.array(z.string()).describe("Trail commit ids, one per chunk (and one for Enter)"),
    screen_tail: z.string().describe("The last lines of the screen after typing"),
  },
  async handle(args, { services, extra }) {
    const progressToken = extra._meta?.progressToken;
    const r = await services.terminal.sendText(args.session, args.text, {
      enter: args.enter,
      secret: args.secret,
      onStep:
        progressToken === undefined
          ? undefined
          : ({ done, total }) =>
              extra.sendNotification({ method: "notifications/progress", params: { progressToken, progress: done, total } }).catch(() => undefined),
    });
    return {
      structured: r,
      links: [{ kind: "session", name: args.session }],
      text: `Typed ${r.chunks.length} chunk${r.chunks.length === 1 ? "" : "s"}${args.enter ? " + Enter" : ""} (${r.commits.length} commits).\n${r.screen_tail}`,
    };
  },
});
