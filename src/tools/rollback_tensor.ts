import { z } from "zod";
import { tensorNameSchema } from "../names.js";
import { defineTool, UserError } from "./tool.js";

export const rollbackTensor = defineTool({
  name: "rollback_tensor",
  title: "Restore a tensor's previous version",
  description:
    "Make the newest version older than the active one active again, e.g. after a training deploy that behaves worse in use. " +
    "The version rolled back from is kept (retired), not deleted. The same as `experience-mcp rollback TENSOR`.",
  toolset: "train",
  kind: "write",
  inputSchema: {
    tensor: tensorNameSchema.describe('Tensor to roll back, e.g. "coder/command"'),
  },
  outputSchema: {
    tensor: z.string(),
    from: z.number().int().describe("The version that was active"),
    to: z.number().int().describe("The version active now"),
    model: z.string().optional().describe("The model the restored version answers with, when it is not the configured one"),
    versions: z.array(z.object({ version: z.number().int(), status: z.string(), rows: z.number().int(), model: z.string().optional() })),
  },
  handle(args, { services }) {
    const store = services.store;
    if (store.activeVersion(args.tensor) === undefined) throw new UserError(`tensor ${args.tensor} does not exist; recall or training_status show the tensors in use`);
    const moved = store.rollback(args.tensor);
    const model = store.modelOf(args.tensor);
    const versions = store.versions(args.tensor).map(({ version, status, rows, model: m }) => ({ version, status, rows, ...(m ? { model: m } : {}) }));
    return {
      structured: { tensor: args.tensor, ...moved, ...(model ? { model } : {}), versions },
      text: `${args.tensor}: version ${moved.to} is active again (was ${moved.from})${model ? `, answering with ${model}` : ""}.`,
    };
  },
});
