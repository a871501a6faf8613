import { z } from "zod";
import { boundedText } from "./bounded.js";
import { tensorNameSchema } from "../names.js";
import { describeConfidence } from "../registry/describe.js";
import { moduleTensors } from "../harness/modules.js";
import { TUNING } from "../registry/score.js";
import { defineTool } from "./tool.js";

const experienceResult = z.object({
  kind: z.literal("experience"),
  id: z.number().int(),
  tensor: z.string(),
  score: z.number().describe("Jaccard similarity of distinct tokens, 0..1"),
  query: z.string(),
  key: z.string(),
  value: z.string(),
  explain: z
    .object({ shared: z.array(z.string()), query_tokens: z.number(), row_tokens: z.number(), formula: z.string() })
    .optional(),
});

const fixResult = z.object({
  kind: z.literal("fix"),
  signature: z.string(),
  match: z.enum(["exact", "similar"]),
  score: z.number().describe("Confidence 0..1 (1 for an exact signature match)"),
  error_type: z.string(),
  fix: z.string(),
  strength: z.number(),
  successes: z.number().int(),
  failures: z.number().int(),
  adaptation: z
    .object({
      status: z.enum(["adapted", "unadapted", "generic"]),
      registered_names: z.array(z.string()),
      names: z.array(z.string()),
      registered_fix: z.string(),
    })
    .optional()
    .describe("The fix was registered for the same error with other names: adapted (rewritten for these names), unadapted (it names something of the old name that cannot be rewritten: check it applies) or generic (it names neither: used as is)"),
  sibling_of: z.string().optional().describe("This fix stands next to the look-alike error's fix with that signature"),
  demoted: z.boolean().optional().describe("It failed before on an error like this one"),
});

type Result = z.infer<typeof experienceResult> | z.infer<typeof fixResult>;

/**
 * Experience rows scoring below this are noise: one common word shared with a long row. A screen
 * pasted as the query shares few of its many tokens with any row, so the floor stays low.
 */
export const MIN_EXPERIENCE_SCORE = 0.05;

const TRUNCATION = "…[truncated]";

function cut(text: string, budget: number): string {
  return text.length <= budget ? text : text.slice(0, Math.max(0, budget - TRUNCATION.length)) + TRUNCATION;
}

/** Keep the rendered answer near max_chars by trimming the long text fields of each result. */
function fitResults(results: Result[], maxChars: number): Result[] {
  if (results.length === 0) return results;
  const perField = Math.max(80, Math.floor(maxChars / results.length / 3));
  return results.map((r) =>
    r.kind === "experience"
      ? { ...r, query: cut(r.query, perField), key: cut(r.key, perField), value: cut(r.value, perField) }
      : { ...r, fix: cut(r.fix, perField * 2) },
  );
}

export const recall = defineTool({
  name: "recall",
  title: "Recall experience and fixes",
  description:
    "Find the experience rows and registered fixes that fit a situation. Pass any text: keywords, a task, a terminal screen " +
    "or a raw error output (an error is matched against the fix registry by its normalized signature). Best results first.",
  toolset: "memory",
  kind: "read",
  inputSchema: {
    query: boundedText("query").min(1).describe("The situation: keywords, a task, a screen, or an error output"),
    tensor: tensorNameSchema
      .optional()
      .describe("Search only this tensor, a harness module's included (default: the active version of every tensor but the modules' own)"),
    include_modules: z
      .boolean()
      .default(false)
      .describe("Also search the tensors harness modules keep for themselves (e.g. coder/decision, coder/command), left out by default"),
    min_score: z
      .number()
      .min(0)
      .max(1)
      .default(MIN_EXPERIENCE_SCORE)
      .describe("Leave out experience rows scoring below this (0 keeps every row that shares a word)"),
    k: z.number().int().min(1).max(50).default(5).describe("How many results of each kind, 1-50"),
    kinds: z
      .array(z.enum(["experience", "fix"]))
      .min(1)
      .default(["experience", "fix"])
      .describe('Which kinds of result to return: "experience" rows, registered "fix"es, or both'),
    explain: z.boolean().default(false).describe("Include how each experience score was computed"),
    max_chars: z.number().int().min(200).max(200_000).optional().describe("Trim long fields so the answer stays near this size"),
    scope: z
      .enum(["global", "repo"])
      .optional()
      .describe('Rows and fixes from every repository, this one\'s first at equal score ("global", default), or only those learned in the server\'s git repository ("repo")'),
  },
  outputSchema: {
    results: z.array(z.discriminatedUnion("kind", [experienceResult, fixResult])),
    abstained: z
      .object({ nearest_signature: z.string(), nearest_score: z.number(), threshold: z.number() })
      .optional()
      .describe("Registered fixes came near but none reached the confidence needed to be recalled"),
    took_ms: z.number(),
  },
  handle(args, { config, services }) {
    const started = performance.now();
    const results: Result[] = [];
    // The repository is the server's working directory's (clients start it in the project).
    const repo = services.repo;
    let abstained: { nearest_signature: string; nearest_score: number; threshold: number } | undefined;
    if (args.kinds.includes("fix")) {
      const matches = services.registry.lookup(args.query, { limit: args.k, repo, scope: args.scope });
      // Below the calibrated confidence a fix is more likely wrong than right: recall none.
      const sure = matches.filter((m) => m.match === "exact" || m.score >= TUNING.recallMin);
      if (sure.length === 0 && matches[0]) abstained = { nearest_signature: matches[0].signature, nearest_score: matches[0].score, threshold: TUNING.recallMin };
      for (const m of sure) {
        results.push({
          kind: "fix",
          signature: m.signature,
          match: m.match,
          score: m.score,
          error_type: m.error_type,
          fix: m.fix,
          strength: m.strength,
          successes: m.successes,
          failures: m.failures,
          ...(m.adaptation ? { adaptation: m.adaptation } : {}),
          ...(m.sibling_of ? { sibling_of: m.sibling_of } : {}),
          ...(m.demoted ? { demoted: true } : {}),
        });
      }
    }
    if (args.kinds.includes("experience")) {
      for (const h of services.store.recall(args.query, {
        tensor: args.tensor,
        k: args.k,
        explain: args.explain,
        repo,
        scope: args.scope,
        exclude: args.tensor || args.include_modules ? undefined : moduleTensors(config.home),
        minScore: args.min_score,
      })) {
        results.push({ kind: "experience", ...h });
      }
    }
    // Exact fix matches are the strongest evidence there is; the rest by score.
    const rank = (r: Result) => (r.kind === "fix" && r.match === "exact" ? 2 : r.score);
    results.sort((a, b) => rank(b) - rank(a));
    const fitted = fitResults(results, args.max_chars ?? config.limits.maxResultChars);
    const took_ms = Math.round((performance.now() - started) * 1000) / 1000;
    const lines = fitted.map((r, i) =>
      r.kind === "fix"
        ? `${i + 1}. fix ${r.signature} (${describeConfidence(r)}, ${r.error_type}): ${r.fix}`
        : `${i + 1}. row ${r.id} [${r.tensor}] ${r.score.toFixed(2)}: ${r.key} → ${r.value}`,
    );
    if (abstained) {
      lines.push(
        `No fix recalled: the nearest registered fix (${abstained.nearest_signature}, confidence ${abstained.nearest_score.toFixed(2)}) is too far from this error (below ${abstained.threshold}); a wrong fix costs more than none.`,
      );
    }
    return {
      structured: { results: fitted, ...(abstained ? { abstained } : {}), took_ms },
      text: lines.length ? lines.join("\n") : "Nothing recalled for this query.",
    };
  },
});
