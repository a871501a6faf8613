import { z } from "zod";
import { boundedText } from "./bounded.js";
import { tensorNameSchema } from "../names.js";
import { defineTool, UserError } from "./tool.js";

export const remember = defineTool({
  name: "remember",
  title: "Remember an experience row",
  description:
    "Store one experience row (query keywords, key = the situation, value = what worked) in a tensor. " +
    "An identical row is reinforced instead of duplicated. Secrets in the text are redacted before storing. " +
    "With a team hub configured, shared: true sends the row to the team (rows of a shared tensor go anyway); private: true keeps it on this machine whatever else says.",
  toolset: "memory",
  kind: "write",
  inputSchema: {
    tensor: tensorNameSchema.default("default").describe('Tensor to store into, e.g. "default" or "coder/command" (created if missing)'),
    query: boundedText("query").default("").describe("Keywords that should find this row (may be empty: the key's words are indexed too)"),
    key: boundedText("key").min(1).describe("The situation: an observation, an error, a task"),
    value: boundedText("value").min(1).describe("What to do in that situation: a decision, a command, a fix"),
    tags: z.array(z.string().max(64)).max(32).optional().describe("Optional labels kept with the row"),
    shared: z.boolean().optional().describe("Team sync: send this row to the team's hub (default: only if the tensor is shared)"),
    private: z.boolean().optional().describe("Never let this row leave this machine, even in a shared tensor"),
  },
  outputSchema: {
    id: z.number().int().describe("Row id (use it with forget)"),
    tensor: z.string(),
    created: z.boolean().describe("false when an identical row existed and was reinforced"),
  },
  handle(args, { services }) {
    if (args.shared && args.private) throw new UserError("A row cannot be both shared and private: drop one of the two.");
    // The server runs in the client's project: rows remember its repository, and recall prefers it.
    const result = services.store.remember(args.tensor, { query: args.query, key: args.key, value: args.value, tags: args.tags, repo: services.repo, shared: args.shared, private: args.private });
    return {
      structured: result,
      links: [{ kind: "tensor", name: result.tensor }],
      text: `${result.created ? "Stored" : "Reinforced"} row ${result.id} in tensor ${result.tensor}.`,
    };
  },
});
