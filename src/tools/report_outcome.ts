import { z } from "zod";
import { boundedText } from "./bounded.js";
import { defineTool, UserError } from "./tool.js";

export const reportOutcome = defineTool({
  name: "report_outcome",
  title: "Report whether a recalled fix or row worked",
  description:
    "After trying a fix (by signature) or an experience row (by id) that recall returned, say whether it worked: success " +
    "strengthens it (+0.05, and a candidate fix becomes active), failure weakens it (-0.10). Below strength 0.01 it is " +
    "deleted. Unused fixes also decay daily. With a failure, pass the error it was tried on: the fix is then demoted for errors like it.",
  toolset: "memory",
  kind: "write",
  inputSchema: {
    signature: z
      .string()
      .regex(/^[0-9a-f]{16}$/, "a fix signature is 16 lowercase hex characters, as returned by recall or register_fix")
      .optional()
      .describe("Signature of the fix that was tried (from recall or register_fix)"),
    id: z.number().int().positive().optional().describe("Id of the experience row that was tried (from recall or remember)"),
    success: z.boolean().describe("true if the fix resolved the error, false if it did not"),
    error: boundedText("error", "pass the part of the output that shows the error")
      .optional()
      .describe("For a fix that failed: the error output it was tried on. The fix is then demoted for errors like this one, and a fix registered next for it stands beside it"),
  },
  outputSchema: {
    strength: z.number().describe("Strength after this outcome, 0..1"),
    successes: z.number().int(),
    failures: z.number().int(),
    pruned: z.boolean().describe("true when the strength fell below 0.01 and the fix or row was deleted"),
  },
  handle(args, { services }) {
    if (args.signature && args.id !== undefined) {
      throw new UserError("Give either signature (a fix) or id (an experience row), not both.");
    }
    if (!args.signature) {
      if (args.error !== undefined && args.id !== undefined) throw new UserError("error goes with a fix signature, not with an experience row id: drop it.");
      if (args.id === undefined) {
        throw new UserError("Give signature (the 16-hex signature of a fix) or id (an experience row id); recall shows both.");
      }
      const r = services.store.reportOutcome(args.id, args.success);
      if (!r) throw new UserError(`No experience row ${args.id}: recall shows the ids of existing rows.`);
      const text = r.pruned
        ? `Row ${args.id} fell below the minimum strength and was deleted.`
        : `Row ${args.id}: strength ${r.strength.toFixed(3)} (${r.successes} successes, ${r.failures} failures).`;
      return { structured: r, text };
    }
    // An unknown signature (FixNotFoundError) is the caller's to fix (tool.ts).
    const r = services.registry.reportOutcome(args.signature, args.success, args.error);
    const text = r.pruned
      ? `Fix ${args.signature} fell below the minimum strength and was deleted.`
      : `Fix ${args.signature}: strength ${r.strength.toFixed(3)} (${r.successes} successes, ${r.failures} failures).`;
    return { structured: r, text };
  },
});
