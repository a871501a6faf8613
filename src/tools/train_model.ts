import { z } from "zod";
import { tensorNameSchema } from "../names.js";
import { BUILT_IN, seedModule } from "../harness/modules.js";
import { gatesSchema } from "../train/gates.js";
import { BACKENDS, enqueue, SOURCES } from "../train/queue.js";
import { ensureWorker } from "../train/spawn.js";
import { defineTool, UserError } from "./tool.js";

/** Most inline examples one request may carry. */
const MAX_EXAMPLES = 1000;

export const trainModel = defineTool({
  name: "train_model",
  title: "Queue a training run for a tensor",
  description:
    "Queue a training run that turns recorded examples (input -> expected output) into a better version of an experience tensor. " +
    "Returns at once; a separate worker process trains a staging version, checks it against the active one on held-out examples " +
    "(quality gates) and deploys it only if it is better. Follow it with training_status. A second request for a tensor that " +
    "already has one queued or running returns that request (status duplicate).",
  toolset: "train",
  kind: "write",
  inputSchema: {
    tensor: tensorNameSchema.describe('Tensor to train, e.g. "coder/command"'),
    source: z.enum(SOURCES).optional().describe("Train only on recorded examples of this origin: runs (run_harness), trail, examples (given to train_model); default all"),
    examples: z
      .array(
        z.object({
          input: z.string().min(1).describe("The expert's input (for coder/command: \"text: <hint>\\ntask: <task with quoted words as {1}, {2}>\")"),
          expected: z.string().min(1).describe("The output it should give"),
        }),
      )
      .max(MAX_EXAMPLES)
      .optional()
      .describe(`Extra examples for this run (at most ${MAX_EXAMPLES}); stored and trained on with the recorded ones`),
    backend: z
      .enum(BACKENDS)
      .default("experience")
      .describe("experience (default, offline): patches/adds rows of a staging version; command: runs the worker's $EXPERIENCE_MCP_TRAIN_COMMAND on the batch"),
    gates: gatesSchema.partial().optional().describe("Deploy thresholds; each has a default"),
  },
  outputSchema: {
    request_id: z.string(),
    status: z.enum(["queued", "duplicate"]).describe("duplicate: a request for this tensor was already queued or running; it is the one returned"),
    position: z.number().int().describe("Requests ahead of this one"),
    tensor: z.string(),
    worker: z.enum(["running", "spawned", "disabled"]).describe("running: a live worker will pick it up; spawned: one was started; disabled: run `experience-mcp train-worker` yourself"),
  },
  handle(args, { config, services }) {
    const max = config.limits.maxTextChars;
    for (const [i, e] of (args.examples ?? []).entries()) {
      if (e.input.length > max || e.expected.length > max) throw new UserError(`examples[${i}] is longer than ${max} characters; shorten it to the relevant part`);
    }
    const store = services.store;
    // The built-in modules' tensors exist once seeded: training one first is fine.
    for (const m of BUILT_IN.values()) if (args.tensor === m.decision_tensor || args.tensor === m.command_tensor) seedModule(store, m);
    if (store.activeVersion(args.tensor) === undefined) {
      throw new UserError(`tensor ${args.tensor} does not exist: store rows with remember (or run run_harness for a module) first; recall lists tensors' rows`);
    }
    const gates = gatesSchema.parse(args.gates ?? {});
    const db = services.db;
    const q = enqueue(db, { tensor: args.tensor, source: args.source, backend: args.backend, gates, examples: args.examples ?? [] });
    const worker = ensureWorker(db, config.home);
    const status: "queued" | "duplicate" = q.duplicate ? "duplicate" : "queued";
    return {
      structured: { request_id: q.request.id, status, position: q.position, tensor: args.tensor, worker },
      text:
        `${q.duplicate ? "Already queued or running" : "Queued"}: request ${q.request.id} for ${args.tensor} (position ${q.position}, worker ${worker}). ` +
        `Check it with training_status {"request_id":"${q.request.id}"}.`,
    };
  },
});
