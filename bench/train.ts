// train_model must answer at once: the call only validates and writes the request (one
// transaction); training happens in the worker. Measured through MCP (in-memory transport) with
// the worker start turned off, each request on its own tensor so none is a duplicate.
import { connect } from "../test/helpers.js";
import { emit, measure } from "./lib.js";

process.env.EXPERIENCE_MCP_TRAIN_WORKER = "off";
const N = 200;
const c = await connect();
try {
  for (let i = 0; i < N + 20; i++) await c.ok("remember", { tensor: `bench/t${i}`, query: "", key: `situation ${i}`, value: `answer ${i}` });
  const examples = Array.from({ length: 20 }, (_, j) => ({ input: `new situation ${j}`, expected: `new answer ${j}` }));
  emit(await measure("train_model_queue", N, (i) => c.ok("train_model", { tensor: `bench/t${i + 20}`, examples }), { warmup: 0, extra: { examples_per_request: examples.length } }));
} finally {
  await c.close();
}
