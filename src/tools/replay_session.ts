import { z } from "zod";
import { nameSchema } from "../names.js";
import { resourceUri } from "../resources/uris.js";
import { REPLAY_APP_URI } from "../viewer/app.js";
import { defineTool, UserError } from "./tool.js";

export const replaySession = defineTool({
  name: "replay_session",
  title: "Replay a terminal session's recording",
  description:
    "Point to a session's asciicast recording (its resource URI, size and number of steps) so it can be replayed. " +
    "A client that displays MCP Apps shows the replay inline; any other reads the recording with resources/read on cast_uri, " +
    "or plays it with `asciinema play`. `experience-mcp ui` shows the same replay, and a live view of running sessions, in a browser.",
  toolset: "terminal",
  kind: "read",
  ui: REPLAY_APP_URI,
  inputSchema: {
    session: nameSchema.describe("Session whose recording to replay"),
  },
  outputSchema: {
    session: z.string().describe("The session"),
    cast_uri: z.string().describe("Resource URI of the asciicast v2 recording (resources/read returns it)"),
    cast_bytes: z.number().int().describe("Size of the recording in bytes"),
    width: z.number().int().describe("Terminal width of the recording, in columns"),
    height: z.number().int().describe("Terminal height of the recording, in rows"),
    steps: z.number().int().describe("Keystroke steps on the session's trail"),
  },
  async handle(args, { config }) {
    const { readSession } = await import("../trail/browse.js");
    const session = await readSession(config.home, args.session);
    if (!session?.cast) {
      throw new UserError(`Session "${args.session}" has no recording. List sessions with tmux_session {"action":"list"}; a session records from its creation by tmux_session.`);
    }
    const structured = {
      session: args.session,
      cast_uri: resourceUri("cast", args.session),
      cast_bytes: session.cast_bytes ?? 0,
      width: session.cast.width,
      height: session.cast.height,
      steps: session.steps,
    };
    return {
      structured,
      text: `${args.session}: recording of ${structured.cast_bytes} bytes (${structured.width}x${structured.height}), ${structured.steps} steps; read it at ${structured.cast_uri}`,
      links: [
        { kind: "cast", name: args.session },
        { kind: "session", name: args.session },
      ],
    };
  },
});
