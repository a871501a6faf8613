import { z } from "zod";
import { nameSchema } from "../names.js";
import { MAX_KEYS_PER_CALL } from "../tmux/terminal.js";
import { defineTool } from "./tool.js";

export const sendKeys = defineTool({
  name: "send_keys",
  title: "Press keys in a terminal session",
  description:
    "Press tmux keys by name in a session, one commit to the trail per key: Enter, Escape, Tab, BSpace, Space, " +
    "Up/Down/Left/Right, Home, End, PageUp, PageDown, DC (Delete), IC (Insert), F1-F12, C-a…C-z (C-c interrupts), " +
    "C-Space, M-<char>, and C-/M-/S- before a named key (C-Left). An unknown name fails the call before any key is sent. " +
    "To type text, use send_text.",
  toolset: "terminal",
  kind: "terminal",
  inputSchema: {
    session: nameSchema.describe("Session to press the keys in"),
    keys: z
      .array(z.string().min(1).max(16))
      .min(1)
      .max(MAX_KEYS_PER_CALL)
      .describe('tmux key names, pressed in order, e.g. ["C-c"] or ["Up", "Enter"]'),
  },
  outputSchema: {
    commits: z.array(z.string()).describe("Trail commit ids, one per key"),
    screen_tail: z.string().describe("The last lines of the screen after the keys"),
  },
  async handle(args, { services }) {
    const r = await services.terminal.sendKeys(args.session, args.keys);
    return { structured: r, links: [{ kind: "session", name: args.session }], text: `Pressed ${args.keys.join(" ")} (${r.commits.length} commits).\n${r.screen_tail}` };
  },
});
