/**
 * The `openai` backend: fine-tunes a chat model on the batch through the OpenAI fine-tuning API
 * (or any server that speaks it). Each training item becomes one chat example: the very messages
 * the harness expert sends for that input (the base version's best rows as worked examples),
 * followed by the expected answer. The file is uploaded, a job is created and polled while the
 * worker heartbeats; the fine-tuned model's id is recorded on the staging version, so the gates
 * compare the base model on the active version with the fine-tuned model on the staging one, and
 * a deploy makes the harness answer that tensor with the fine-tuned model.
 *
 * The job id is kept in `training/<request>/openai-job.json`: a worker that reclaims the request
 * after a crash resumes polling the same job instead of paying for a second one.
 */
import { readSettings } from "../config.js";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { LlmConfig } from "../config.js";
import type { Db } from "../storage/db.js";
import type { ExperienceStore } from "../experience/store.js";
import { redactSecrets } from "../storage/redact.js";
import { log } from "../log.js";
import { writeAtomic, type Item } from "./dataset.js";
import { VersionExpert } from "./forward.js";

/** The fine-tuning API refuses a training file with fewer examples. */
export const MIN_FINE_TUNE_EXAMPLES = 10;
const TERMINAL = new Set(["succeeded", "failed", "cancelled"]);

export interface OpenAiTrainOptions {
  /** How often the job is polled (EXPERIENCE_MCP_TRAIN_POLL_MS; default 15 s). */
  pollMs: number;
  /** Give up (and cancel the job) after this long (EXPERIENCE_MCP_TRAIN_TIMEOUT_S; default 6 h). */
  timeoutMs: number;
}

export interface OpenAiTrainResult {
  base_model: string;
  fine_tuned_model: string;
  job_id: string;
  file_id: string;
  examples: number;
  trained_tokens: number | null;
  resumed: boolean;
  polls: number;
}

interface JobRecord {
  file_id: string;
  job_id: string;
  base_model: string;
}

export class FineTuneError extends Error {
  override name = "FineTuneError";
}

export function openAiOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): OpenAiTrainOptions {
  const { trainPollMs, trainTimeoutS } = readSettings(env);
  return { pollMs: trainPollMs, timeoutMs: trainTimeoutS * 1000 };
}

/**
 * The chat fine-tuning file: one `{"messages":[system, user, assistant]}` line per training item.
 * Inputs may hold screens and commands: secrets are redacted before anything leaves the machine.
 */
export function fineTuneLines(db: Db, tensor: string, baseVersion: number, items: readonly Item[]): string[] {
  const expert = new VersionExpert(db, tensor, baseVersion);
  return items
    .filter((i) => i.expected.trim() !== "")
    .map((i) => {
      const messages = [...expert.messages(i.input), { role: "assistant", content: i.expected.trim() }];
      return JSON.stringify({ messages: messages.map((m) => ({ role: m.role, content: redactSecrets(m.content).text })) });
    });
}

/** The fine-tuning API's suffix: up to 18 of [a-z0-9-], from the tensor's name. */
function suffixOf(tensor: string): string {
  return (
    tensor
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 18) || "experience"
  );
}

export async function trainOpenAi(
  db: Db,
  store: ExperienceStore,
  llm: LlmConfig,
  tensor: string,
  baseVersion: number,
  staging: number,
  items: readonly Item[],
  dir: string,
  alive: () => void,
  options: OpenAiTrainOptions,
): Promise<OpenAiTrainResult> {
  const { default: OpenAI, toFile } = await import("openai");
  // The SDK's own retries (429, 5xx, connection errors) are enough for a job that runs for hours.
  const client = new OpenAI({ baseURL: llm.baseURL, apiKey: llm.apiKey, maxRetries: 4, timeout: 120_000 });
  const where = `the fine-tuning API at ${llm.baseURL}`;
  const recordPath = join(dir, "openai-job.json");

  let record: JobRecord | undefined;
  let resumed = false;
  if (existsSync(recordPath)) {
    // A reclaimed request: resume its job unless that job already ended badly.
    const previous = JSON.parse(readFileSync(recordPath, "utf8")) as JobRecord;
    const job = await client.fineTuning.jobs.retrieve(previous.job_id).catch(() => undefined);
    if (job && job.status !== "failed" && job.status !== "cancelled") {
      record = previous;
      resumed = true;
      log("info", `resuming fine-tuning job ${previous.job_id} for ${tensor}`);
    }
  }

  const lines = fineTuneLines(db, tensor, baseVersion, items);
  if (!record) {
    if (lines.length < MIN_FINE_TUNE_EXAMPLES) {
      throw new FineTuneError(
        `the fine-tuning API needs at least ${MIN_FINE_TUNE_EXAMPLES} training examples and this batch has ${lines.length}; ` +
          `record more examples (run_harness, or train_model examples) or use backend "experience"`,
      );
    }
    const body = `${lines.join("\n")}\n`;
    writeAtomic(join(dir, "openai-train.jsonl"), body);
    const baseModel = store.modelOf(tensor, baseVersion) ?? llm.model;
    alive();
    const file = await client.files.create({ file: await toFile(Buffer.from(body, "utf8"), "openai-train.jsonl"), purpose: "fine-tune" }).catch((err: unknown) => {
      throw new FineTuneError(`uploading the training file to ${where} failed: ${(err as Error).message}`);
    });
    alive();
    const job = await client.fineTuning.jobs.create({ model: baseModel, training_file: file.id, suffix: suffixOf(tensor) }).catch((err: unknown) => {
      throw new FineTuneError(`creating the fine-tuning job at ${where} (model ${baseModel}) failed: ${(err as Error).message}`);
    });
    record = { file_id: file.id, job_id: job.id, base_model: baseModel };
    writeAtomic(recordPath, `${JSON.stringify(record)}\n`);
    log("info", `fine-tuning job ${job.id} for ${tensor} on ${baseModel} (${lines.length} examples)`);
  }

  const deadline = Date.now() + options.timeoutMs;
  let polls = 0;
  for (;;) {
    alive();
    const job = await client.fineTuning.jobs.retrieve(record.job_id).catch((err: unknown) => {
      throw new FineTuneError(`polling fine-tuning job ${record.job_id} at ${where} failed: ${(err as Error).message}`);
    });
    polls++;
    if (TERMINAL.has(job.status)) {
      if (job.status !== "succeeded" || !job.fine_tuned_model) {
        const why = job.error?.message ? `: ${job.error.message}` : "";
        throw new FineTuneError(`fine-tuning job ${job.id} ended ${job.status}${why}`);
      }
      store.setStagingModel(tensor, staging, job.fine_tuned_model);
      return {
        base_model: record.base_model,
        fine_tuned_model: job.fine_tuned_model,
        job_id: job.id,
        file_id: record.file_id,
        examples: lines.length,
        trained_tokens: job.trained_tokens ?? null,
        resumed,
        polls,
      };
    }
    if (Date.now() > deadline) {
      await client.fineTuning.jobs.cancel(record.job_id).catch(() => undefined);
      throw new FineTuneError(`fine-tuning job ${record.job_id} was still ${job.status} after ${Math.round(options.timeoutMs / 60_000)} min; cancelled it`);
    }
    // Sleep in short slices so a lost request is noticed within a heartbeat.
    for (const end = Date.now() + options.pollMs; Date.now() < end; ) {
      await sleep(Math.min(500, end - Date.now()));
      alive();
    }
  }
}
