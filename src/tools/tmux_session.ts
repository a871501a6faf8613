import { z } from "zod";
import { shellQuote } from "../harness/slots.js";
import { boundedString } from "./bounded.js";
import { MAX_PATH_CHARS } from "../limits.js";
import { nameSchema } from "../names.js";
import { defineTool, UserError } from "./tool.js";

export const tmuxSession = defineTool({
  name: "tmux_session",
  title: "Create, list or kill a recorded terminal session",
  description:
    "Manage tmux sessions on experience-mcp's own tmux server (never the user's): create one (working directory " +
    "defaults to its trail directory, so files typed there are in the git trail), list them with their commit counts, " +
    "or kill one (its trail and recording are kept). The socket is this server's own (derived from its data directory): " +
    "results give the command to watch a session live (`tmux -L <socket> attach -t NAME`).",
  toolset: "terminal",
  kind: "terminal",
  inputSchema: {
    action: z.enum(["create", "list", "kill"]).describe("create a session, list sessions, or kill a session"),
    session: nameSchema.optional().describe("Session name (1-64 of A-Z a-z 0-9 _ -); required for create and kill"),
    cwd: boundedString("cwd", MAX_PATH_CHARS, "pass an existing directory").min(1).optional().describe("create only: working directory (default: trails/<session>/ in the trail repository)"),
    width: z.number().int().min(20).max(1000).optional().describe("create only: terminal width in columns (default 120)"),
    height: z.number().int().min(5).max(500).optional().describe("create only: terminal height in rows (default 40)"),
  },
  outputSchema: {
    session: z.string().optional().describe("create: the session created"),
    cwd: z.string().optional().describe("create: its working directory, read back from the shell"),
    attach: z.string().optional().describe("create: the command to watch the session live in your own terminal"),
    trail: z.string().optional().describe("create: the trail repository (git) its keystrokes are committed to"),
    sessions: z
      .array(
        z.object({
          session: z.string(),
          created: z.string().describe("ISO time"),
          commits: z.number().int().describe("trail commits so far"),
          attach: z.string().describe("the command to watch it live"),
        }),
      )
      .optional()
      .describe("list: every session"),
    killed: z.boolean().optional().describe("kill: false when there was no such session"),
  },
  async handle(args, { services }) {
    const terminal = services.terminal;
    const attach = (session: string) => `tmux -L ${shellQuote(terminal.socket)} attach -t ${session}`;
    switch (args.action) {
      case "create": {
        if (!args.session) throw new UserError("action=create needs session: a name of 1-64 characters from A-Z a-z 0-9 _ -");
        const r = await terminal.createSession({ session: args.session, cwd: args.cwd, width: args.width, height: args.height });
        const structured = { ...r, attach: attach(r.session) };
        return { structured, links: [{ kind: "session", name: r.session }], text: `Created session ${r.session} in ${r.cwd}; keystrokes are committed to ${r.trail}. Watch it: ${structured.attach}` };
      }
      case "list": {
        const sessions = (await terminal.listSessions()).map((s) => ({ ...s, attach: attach(s.session) }));
        const text = sessions.length === 0 ? "No sessions." : sessions.map((s) => `${s.session}  created ${s.created}  ${s.commits} commits  (${s.attach})`).join("\n");
        return { structured: { sessions }, text };
      }
      case "kill": {
        if (!args.session) throw new UserError("action=kill needs session: the name of the session to end");
        const killed = await terminal.killSession(args.session);
        return { structured: { killed }, text: killed ? `Killed session ${args.session}; its trail is kept.` : `No session ${args.session}: nothing to kill.` };
      }
    }
  },
});
