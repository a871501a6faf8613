import { z } from "zod";
import { boundedText } from "./bounded.js";
import { tensorNameSchema } from "../names.js";
import { BUILT_IN, loadModule, seedModule } from "../harness/modules.js";
import { gatesSchema } from "../train/gates.js";
import { BACKENDS, SOURCES } from "../train/queue.js";
import { MIN_HELDOUT, requestTraining, unusedExamples } from "../train/request.js";
import { commandExample } from "../harness/slots.js";
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
    "already has one queued or running returns that request (status duplicate). Pass module instead of tensor to train a harness " +
    "module's tensors (decision and command) on their recorded runs.",
  toolset: "train",
  kind: "write",
  inputSchema: {
    tensor: tensorNameSchema.optional().describe('Tensor to train, e.g. "coder/command" (this or module)'),
    module: z.string().max(64).optional().describe('A harness module, e.g. "coder": queues its decision and command tensors that have unused recorded examples (this or tensor)'),
    source: z
      .enum(SOURCES)
      .optional()
      .describe(
        "Train only on recorded examples of this origin: runs (successful run_harness runs), trail (commands typed by hand after an unsolved run, found by harvest), examples (given to train_model); default all",
      ),
    examples: z
      .array(
        z.object({
          input: boundedText("an example's input").min(1).describe("The expert's input (for coder/command: \"text: <hint>\\ntask: <task with quoted words as {1}, {2}>\")"),
          expected: boundedText("an example's expected output").min(1).describe("The output it should give"),
        }),
      )
      .max(MAX_EXAMPLES)
      .optional()
      .describe(`Extra examples for this run (at most ${MAX_EXAMPLES}); stored and trained on with the recorded ones`),
    backend: z
      .enum(BACKENDS)
      .default("experience")
      .describe(
        "experience (default, offline): patches/adds rows of a staging version (with an LLM configured, the LLM proposes rows too); " +
          "command: runs the worker's $EXPERIENCE_MCP_TRAIN_COMMAND on the batch; openai: fine-tunes the configured model through the " +
          "fine-tuning API (needs OPENAI_API_KEY / OPENAI_BASE_URL) and deploys the fine-tuned model for the tensor",
      ),
    gates: gatesSchema.partial().optional().describe("Deploy thresholds; each has a default"),
  },
  outputSchema: {
    request_id: z.string(),
    status: z
      .enum(["queued", "duplicate", "too_small"])
      .describe("duplicate: a request for this tensor was already queued or running; it is the one returned. too_small: too few distinct examples to hold any out; they are kept for the next request and the text says how many to add"),
    position: z.number().int().describe("Requests ahead of this one"),
    tensor: z.string(),
    worker: z.enum(["running", "spawned", "disabled"]).describe("running: a live worker will pick it up; spawned: one was started; disabled: run `experience-mcp train-worker` yourself"),
    requests: z
      .array(z.object({ tensor: z.string(), request_id: z.string(), status: z.enum(["queued", "duplicate", "too_small"]), position: z.number().int() }))
      .optional()
      .describe("module: one request per tensor queued (the first is the one above)"),
  },
  handle(args, { config, services }) {
    if ((args.tensor === undefined) === (args.module === undefined)) throw new UserError('pass either tensor (e.g. "coder/command") or module (e.g. "coder"), not both or neither');
    if (args.backend === "openai" && !config.llm) {
      throw new UserError("backend openai needs an API endpoint: start the server with OPENAI_BASE_URL (https://api.openai.com/v1 for OpenAI) and OPENAI_API_KEY set, or use backend experience");
    }
    const store = services.store;
    const db = services.db;
    let tensors: string[];
    if (args.module !== undefined) {
      if (args.examples?.length) throw new UserError(`examples belong to one tensor: pass tensor (e.g. the module's command tensor) with them, not module`);
      const module = loadModule(config.home, args.module);
      seedModule(store, module);
      tensors = [module.command_tensor, module.decision_tensor].filter((t) => store.activeVersion(t) !== undefined && unusedExamples(db, t, args.source) > 0);
      if (tensors.length === 0) {
        throw new UserError(
          `module ${args.module} has no unused recorded examples${args.source ? ` from ${args.source}` : ""}: run run_harness until tasks succeed (each success is recorded), ` +
            `or pass tensor "${module.command_tensor}" with examples`,
        );
      }
    } else {
      const tensor = args.tensor!;
      // The built-in modules' tensors exist once seeded: training one first is fine.
      for (const m of BUILT_IN.values()) if (tensor === m.decision_tensor || tensor === m.command_tensor) seedModule(store, m);
      if (store.activeVersion(tensor) === undefined) {
        throw new UserError(`tensor ${tensor} does not exist: store rows with remember (or run run_harness for a module) first; recall lists tensors' rows`);
      }
      tensors = [tensor];
    }
    const gates = gatesSchema.parse(args.gates ?? {});
    // A command tensor's example written as a plain task ("reverse the lines of notes.txt" -> "tac
    // notes.txt") is stored as the template pair the harness retrieves, so it transfers to other files.
    const commandTensors = new Set([...BUILT_IN.values()].map((m) => m.command_tensor));
    const examples = (args.examples ?? []).map((e) => (commandTensors.has(tensors[0]!) ? commandExample(e.input, e.expected) : e));
    const answer = requestTraining(db, config.home, { tensors, source: args.source, backend: args.backend, gates, examples });
    if (answer.status === "too_small") {
      const { tensor, distinct: have } = answer;
      return {
        structured: { request_id: "", status: "too_small" as const, position: 0, tensor, worker: "disabled" as const },
        text:
          `Not queued: ${tensor} has ${have} distinct example input${have === 1 ? "" : "s"}, which holds out fewer than ${MIN_HELDOUT} for the quality gates. ` +
          `Add more examples (other tasks, or other wordings and parameters of these; about ${Math.max(1, 10 - have)} more) and call train_model again: the ${examples.length} given now are kept for it.`,
      };
    }
    const { queued, worker } = answer;
    const first = queued[0]!;
    const lines = queued.map((q) => `${q.status === "duplicate" ? "Already queued or running" : "Queued"}: request ${q.request_id} for ${q.tensor} (position ${q.position})`);
    return {
      links: queued.map((q) => ({ kind: "request" as const, name: q.request_id })),
      structured: { ...first, worker, ...(args.module !== undefined ? { requests: queued } : {}) },
      text: `${lines.join("\n")}; worker ${worker}. Check it with training_status {"request_id":"${first.request_id}"}.`,
    };
  },
});

