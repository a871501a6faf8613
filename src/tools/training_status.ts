import { z } from "zod";
import { getRequest, latestRequest, STATUSES, type TrainRequest } from "../train/queue.js";
import { trainingDir } from "../train/dataset.js";
import { defineTool, UserError } from "./tool.js";

const splitSchema = z.object({ n: z.number(), exact_match: z.number(), mean_edit_distance: z.number() });

function parse(text: string | null): Record<string, unknown> | undefined {
  return text ? (JSON.parse(text) as Record<string, unknown>) : undefined;
}

const outputSchema = {
  request_id: z.string(),
  tensor: z.string(),
  status: z.enum(STATUSES),
  attempts: z.number().int().describe("Times a worker claimed it (a worker that died is replaced, up to a limit)"),
  base_version: z.number().int().optional().describe("The active version it trained from"),
  version: z.number().int().optional().describe("deployed: the version now active"),
  metrics: z
    .object({
      before: z.object({ version: z.number(), heldout: splitSchema, replay: splitSchema }),
      after: z.object({ version: z.number(), heldout: splitSchema, replay: splitSchema }),
    })
    .passthrough()
    .optional()
    .describe("Held-out and replay metrics of the active (before) and staging (after) versions; dataset counts; training loss"),
  gates: z
    .object({ passed: z.boolean(), results: z.array(z.object({ name: z.string(), passed: z.boolean(), detail: z.string() })) })
    .passthrough()
    .optional(),
  error: z.string().optional(),
  model: z.string().optional().describe("deployed by the openai backend: the fine-tuned model the tensor now answers with"),
  batch_dir: z.string().describe("Where the batch (batch.jsonl, manifest.json, gradients.jsonl) is written"),
  created_at: z.string(),
  finished_at: z.string().optional(),
};

/** The JSON columns were written by the worker (src/train/run.ts) in this shape. */
type StatusOutput = z.infer<z.ZodObject<typeof outputSchema>>;

export const trainingStatus = defineTool({
  name: "training_status",
  title: "Show a training request",
  description:
    "Show a train_model request: queued, running, deployed, rejected (a quality gate failed; nothing deployed) or failed, " +
    "with before/after metrics on the held-out examples, each gate's result and the deployed version.",
  toolset: "train",
  kind: "read",
  inputSchema: {
    request_id: z.string().max(100).optional().describe("The id train_model returned (default: the latest request)"),
  },
  outputSchema,
  handle(args, { services }) {
    const db = services.db;
    const r: TrainRequest | undefined = args.request_id ? getRequest(db, args.request_id) : latestRequest(db);
    if (!r) throw new UserError(args.request_id ? `no training request ${args.request_id}; call training_status without request_id for the latest` : "no training request yet; call train_model first");
    const out = {
      request_id: r.id,
      tensor: r.tensor,
      status: r.status,
      attempts: r.attempts,
      ...(r.base_version !== null ? { base_version: r.base_version } : {}),
      ...(r.status === "deployed" && r.version !== null ? { version: r.version } : {}),
      ...(r.metrics ? { metrics: parse(r.metrics) } : {}),
      ...(r.gate_results ? { gates: parse(r.gate_results) } : {}),
      ...(r.error ? { error: r.error } : {}),
      ...(r.status === "deployed" && r.version !== null && services.store.modelOf(r.tensor, r.version) ? { model: services.store.modelOf(r.tensor, r.version) } : {}),
      batch_dir: trainingDir(services.config.home, r.id),
      created_at: new Date(r.created_at).toISOString(),
      ...(r.finished_at ? { finished_at: new Date(r.finished_at).toISOString() } : {}),
    };
    const m = out.metrics as { before?: { heldout: { exact_match: number } }; after?: { heldout: { exact_match: number } } } | undefined;
    const line = m?.before && m.after ? `; held-out exact match ${m.before.heldout.exact_match} → ${m.after.heldout.exact_match}` : "";
    const g = out.gates as { results?: Array<{ name: string; passed: boolean; detail: string }> } | undefined;
    const failedGates = (g?.results ?? []).filter((x) => !x.passed).map((x) => `${x.name} (${x.detail})`);
    const gateLine = failedGates.length ? `; failed gates: ${failedGates.join("; ")}` : "";
    return {
      structured: out as StatusOutput,
      text: `Request ${r.id} (${r.tensor}): ${r.status}${out.version !== undefined ? `, version ${out.version} active` : ""}${line}${gateLine}${r.error ? `. ${r.error}` : ""}`,
    };
  },
});
