/** `experience-mcp train-worker` and `experience-mcp rollback`. */
import { parseArgs } from "node:util";
import { loadConfig } from "../config.js";
import { openDatabase } from "../storage/db.js";
import { ExperienceStore } from "../experience/store.js";
import { TENSOR_PATTERN } from "../names.js";
import { exitCodeOnSignal, onShutdown } from "../shutdown.js";
import { runWorker } from "./worker.js";

export async function trainWorkerCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { once: { type: "boolean" }, watch: { type: "boolean" }, home: { type: "string" }, "poll-s": { type: "string" } },
    strict: true,
  });
  if (values.once && values.watch) throw new Error("train-worker takes --once or --watch, not both");
  const pollS = values["poll-s"] === undefined ? 5 : Number(values["poll-s"]);
  if (!Number.isFinite(pollS) || pollS <= 0) throw new Error("--poll-s must be a positive number of seconds");
  const config = loadConfig({ home: values.home });
  const { trainHoldMs, trainLlm } = config.settings;
  // A stop request ends an idle wait at once (runWorker listens too) and is a normal end; the
  // summary is printed before the process exits, unless a run in progress outlasts the grace time.
  exitCodeOnSignal(0);
  const running = runWorker({
    home: config.home,
    llm: config.llm,
    // EXPERIENCE_MCP_TRAIN_LLM=off: train offline even with an LLM configured.
    proposeRows: trainLlm,
    watch: values.watch === true,
    pollMs: pollS * 1000,
    holdMs: trainHoldMs > 0 ? trainHoldMs : undefined,
  }).then((summary) => void process.stdout.write(`${JSON.stringify(summary)}\n`));
  const unregister = onShutdown(() => running);
  await running;
  unregister();
  return 0;
}

export async function rollbackCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { home: { type: "string" } }, allowPositionals: true, strict: true });
  const tensor = positionals[0];
  if (!tensor || positionals.length > 1) throw new Error("usage: experience-mcp rollback TENSOR [--home DIR]");
  if (!TENSOR_PATTERN.test(tensor)) throw new Error(`invalid tensor name ${JSON.stringify(tensor.slice(0, 80))}: use NAME or NAMESPACE/NAME`);
  const db = openDatabase(loadConfig({ home: values.home }).home);
  try {
    const store = new ExperienceStore(db);
    const result = store.rollback(tensor);
    process.stdout.write(`${JSON.stringify({ tensor, ...result, versions: store.versions(tensor).map(({ version, status, rows }) => ({ version, status, rows })) })}\n`);
  } finally {
    db.close();
  }
  return 0;
}
