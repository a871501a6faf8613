import { z } from "zod";
import { FixNotFoundError } from "../registry/registry.js";
import { defineTool, UserError } from "./tool.js";

export const reportOutcome = defineTool({
  name: "report_outcome",
  title: "Report whether a recalled fix worked",
  description:
    "After trying a fix that recall returned, say whether it worked: success strengthens it (+0.05, and a candidate becomes " +
    "active), failure weakens it (-0.10). A fix whose strength falls below 0.01 is deleted. Unused fixes decay daily.",
  toolset: "memory",
  kind: "write",
  inputSchema: {
    signature: z
      .string()
      .regex(/^[0-9a-f]{16}$/, "a fix signature is 16 lowercase hex characters, as returned by recall or register_fix")
      .optional()
      .describe("Signature of the fix that was tried (from recall or register_fix)"),
    id: z.number().int().positive().optional().describe("An experience row id (outcomes are recorded for fix signatures only for now)"),
    success: z.boolean().describe("true if the fix resolved the error, false if it did not"),
  },
  outputSchema: {
    strength: z.number().describe("Strength after this outcome, 0..1"),
    successes: z.number().int(),
    failures: z.number().int(),
    pruned: z.boolean().describe("true when the strength fell below 0.01 and the fix was deleted"),
  },
  handle(args, { services }) {
    if (!args.signature) {
      if (args.id !== undefined) {
        throw new UserError(
          `Outcomes are recorded for fixes only: pass the fix's signature (recall with kinds ["fix"] shows it). To improve experience row ${args.id}, remember a corrected row or forget this one.`,
        );
      }
      throw new UserError("Give signature: the 16-hex signature of the fix you tried (from recall or register_fix).");
    }
    try {
      const r = services.registry.reportOutcome(args.signature, args.success);
      const text = r.pruned
        ? `Fix ${args.signature} fell below the minimum strength and was deleted.`
        : `Fix ${args.signature}: strength ${r.strength.toFixed(3)} (${r.successes} successes, ${r.failures} failures).`;
      return { structured: r, text };
    } catch (err) {
      if (err instanceof FixNotFoundError) throw new UserError(err.message);
      throw err;
    }
  },
});
