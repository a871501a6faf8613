import { z } from "zod";
import { boundedLabel, boundedText } from "./bounded.js";
import { redact, redactValue } from "../storage/redact.js";
import type { RegisterResult } from "../registry/registry.js";
import { defineTool, UserError } from "./tool.js";

export const registerFix = defineTool({
  name: "register_fix",
  title: "Register the fix for an error",
  description:
    "Once an error is fixed, store what fixed it. Pass the raw error output as printed (paths, line numbers, names and " +
    "timestamps are masked, so the same problem elsewhere gets the same signature) or experience-memory style signature_fields. " +
    "Registering the same signature again reinforces it and keeps every earlier fix in its history. Secrets are redacted.",
  toolset: "memory",
  kind: "write",
  inputSchema: {
    error: boundedText("error").optional().describe("The raw error output, as the tool printed it (stdout+stderr); give this or signature_fields"),
    signature_fields: z
      .object({
        severity: boundedLabel("severity").min(1).describe('Severity bucket, e.g. "major" (experience-memory: catastrophic, major, moderate, minor)'),
        error_type: boundedLabel("error_type").min(1).describe('Kind of error, e.g. "removal" or "TS2307"'),
        context: boundedLabel("context").describe('Where it happened, e.g. "containment_task" or "tsc" (may be empty)'),
        categories: z.array(boundedLabel("a category")).max(64).describe("Affected categories; order does not matter (they are sorted before hashing)"),
      })
      .optional()
      .describe("A structured signature, hashed exactly like experience-memory; give this or error"),
    fix: boundedText("fix", "describe the fix in a few lines").describe("What fixed it: a command, an edit, a setting, in one or a few lines"),
    context: z.string().max(200).optional().describe('Tool or command that printed the error, e.g. "tsc" or "npm run build"; part of the signature'),
  },
  outputSchema: {
    signature: z.string().describe("16 hex characters; use it with report_outcome and forget"),
    status: z
      .enum(["created", "reinforced", "sibling"])
      .describe("reinforced when this signature was already registered; sibling when a look-alike error (same signature, other distinguishing details) holds another fix"),
    sibling_of: z.string().optional().describe("For a sibling: the signature of the look-alike's fix"),
    error_type: z.string().describe("The error's kind, e.g. TS2307, ENOENT, KeyError, exit 2"),
    template: z.string().describe("The error's headline with its variable parts masked"),
  },
  handle(args, { services }) {
    const hasError = args.error !== undefined && args.error.trim() !== "";
    if (!hasError && !args.signature_fields) {
      throw new UserError("Give error (the raw error output) or signature_fields {severity, error_type, context, categories}, and the fix.");
    }
    if (hasError && args.signature_fields) {
      throw new UserError("Give either error or signature_fields, not both: each yields its own signature.");
    }
    if (args.fix.trim() === "") throw new UserError("fix is empty: say what resolved the error (a command, an edit, a setting).");
    // A FixInputError (e.g. an error output that is all noise once normalized) is the caller's to fix (tool.ts).
    const result: RegisterResult = services.registry.register({
      error: hasError ? args.error : undefined,
      // Fields are redacted one by one here, while each is still its own line ("password: x"
      // is recognisable alone, not once joined into the signature text).
      signatureFields: args.signature_fields && redactValue(args.signature_fields),
      fix: args.fix,
      context: args.context === undefined ? undefined : redact(args.context),
      // The server runs in the client's project: its repository scopes the fix (recall prefers it).
      repo: services.repo,
    });
    return {
      structured: result,
      links: [{ kind: "fix", name: result.signature }],
      text:
        result.status === "sibling"
          ? `Registered fix ${result.signature} (${result.error_type}) next to ${result.sibling_of}, the fix of a look-alike error: what differs between the two errors decides which is recalled. ${result.template}`
          : `${result.status === "created" ? "Registered" : "Reinforced"} fix ${result.signature} (${result.error_type}): ${result.template}`,
    };
  },
});
