import { z } from "zod";
import { defineTool, UserError } from "./tool.js";

export const forget = defineTool({
  name: "forget",
  title: "Forget experience rows or a fix",
  description: "Delete experience rows by id and/or a fix by its signature (ids and signatures come from recall).",
  toolset: "memory",
  kind: "destructive",
  inputSchema: {
    ids: z.array(z.number().int().positive()).max(1000).optional().describe("Experience row ids to delete"),
    signature: z
      .string()
      .regex(/^[0-9a-f]{16}$/, "a fix signature is 16 lowercase hex characters, as returned by recall or register_fix")
      .optional()
      .describe("Signature of a fix to delete"),
  },
  outputSchema: {
    removed: z.number().int().describe("How many rows and fixes were deleted"),
  },
  handle(args, { services }) {
    if (!args.ids?.length && !args.signature) {
      throw new UserError("Give ids (experience row ids) or signature (a fix); recall shows both.");
    }
    let removed = 0;
    if (args.ids?.length) removed += services.store.forget(args.ids);
    if (args.signature) removed += services.registry.remove(args.signature);
    return { structured: { removed }, text: `Removed ${removed}.` };
  },
});
