/**
 * One training run, inside the worker process: dataset → batch files → staging version →
 * backend → evaluation → gates → deploy (or not). Deploy switches the active version, marks the
 * examples used and records "deployed" in one transaction; anything else leaves the active version
 * as it was and the examples unused.
 */
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { LlmConfig } from "../config.js";
import type { Db } from "../storage/db.js";
import type { ExperienceStore } from "../experience/store.js";
import { log } from "../log.js";
import { assembleDataset, writeAtomic, writeBatch } from "./dataset.js";
import { trainCommand } from "./command-backend.js";
import { trainExperience } from "./experience-backend.js";
import { OpenAiLlm } from "../llm/llm.js";
import { openAiOptionsFromEnv, trainOpenAi, type OpenAiTrainOptions } from "./openai-backend.js";
import { evaluate, summary } from "./forward.js";
import { checkGates, gatesSchema } from "./gates.js";
import { finishRequest, noteRequest, type TrainRequest } from "./queue.js";

/** Versions kept per tensor (the active one and the two before it). */
export const KEEP_VERSIONS = 3;

export interface RunContext {
  db: Db;
  store: ExperienceStore;
  home: string;
  worker: string;
  /** Throws when this worker lost the request (reclaimed after a missed heartbeat). */
  alive: () => void;
  /** Debug knob (EXPERIENCE_MCP_TRAIN_HOLD_MS): pause before the gates, staging version written. */
  holdMs?: number;
  /** The configured LLM endpoint: the openai backend's API, and the experience backend's row proposer. */
  llm?: LlmConfig;
  /** The experience backend asks the LLM for improved rows (default true when an LLM is configured). */
  proposeRows?: boolean;
  openai?: OpenAiTrainOptions;
}

export class InsufficientData extends Error {
  override name = "InsufficientData";
}

export async function runRequest(ctx: RunContext, request: TrainRequest): Promise<"deployed" | "rejected" | "failed"> {
  const { db, store, worker } = ctx;
  let staging: number | undefined;
  try {
    const base = store.activeVersion(request.tensor);
    if (base === undefined) throw new InsufficientData(`tensor ${request.tensor} does not exist (it was never created, or was removed): nothing to train`);
    if (request.backend === "openai" && !ctx.llm) {
      throw new InsufficientData("backend openai needs an API endpoint: set OPENAI_BASE_URL (https://api.openai.com/v1 for OpenAI) and OPENAI_API_KEY where the train worker runs");
    }
    noteRequest(db, request.id, worker, { base_version: base });
    const dataset = assembleDataset(db, store, request, base);
    const dir = writeBatch(ctx.home, dataset, request.backend);
    const distinct = dataset.counts.new_train + dataset.counts.new_eval;
    if (distinct < 2) {
      throw new InsufficientData(
        `insufficient data: ${distinct} distinct unused example input(s) for ${request.tensor}; a run needs at least 2 (one to train on, one held out). ` +
          `Record successful run_harness runs or pass examples to train_model.`,
      );
    }

    staging = store.createStaging(request.tensor, `training ${request.id}`);
    noteRequest(db, request.id, worker, { version: staging });
    ctx.alive();

    // The openai backend is judged as it will answer: through the LLM, base model on the active
    // version against the fine-tuned model on the staging one. The others answer offline.
    const endpoint = request.backend === "openai" ? new OpenAiLlm(ctx.llm!, { retries: 4 }) : undefined;
    const modelOf = (version: number) => endpoint?.withModel(store.modelOf(request.tensor, version) ?? endpoint.model);
    const before = {
      heldout: await evaluate(db, request.tensor, base, dataset.eval, modelOf(base)),
      replay: await evaluate(db, request.tensor, base, dataset.replay_eval, modelOf(base)),
    };
    let train: Record<string, unknown>;
    if (request.backend === "openai") {
      const r = await trainOpenAi(db, store, ctx.llm!, request.tensor, base, staging, dataset.train, dir, ctx.alive, ctx.openai ?? openAiOptionsFromEnv());
      train = { backend: "openai", ...r };
    } else if (request.backend === "command") {
      const r = await trainCommand(db, store, request.tensor, staging, dir, ctx.alive);
      train = { backend: "command", patched: r.patched, added: r.added, command: r.command_metrics };
    } else {
      const proposer = ctx.llm && ctx.proposeRows !== false ? new OpenAiLlm(ctx.llm, { retries: 2 }) : undefined;
      const trained = await trainExperience(db, store, request.tensor, staging, dataset.train, ctx.alive, proposer);
      writeAtomic(join(dir, "gradients.jsonl"), trained.gradients.map((g) => JSON.stringify(g)).join("\n") + (trained.gradients.length ? "\n" : ""));
      const { gradients: _gradients, ...counts } = trained;
      train = { backend: "experience", ...counts, ...(proposer ? { proposer: proposer.model } : {}) };
    }
    if (ctx.holdMs) {
      log("info", `holding request ${request.id} for ${ctx.holdMs} ms before its gates`);
      writeAtomic(join(dir, "held"), `${process.pid}\n`);
      for (const end = Date.now() + ctx.holdMs; Date.now() < end; ) {
        await sleep(Math.min(200, end - Date.now()));
        ctx.alive();
      }
    }
    ctx.alive();
    const after = {
      heldout: await evaluate(db, request.tensor, staging, dataset.eval, modelOf(staging)),
      replay: await evaluate(db, request.tensor, staging, dataset.replay_eval, modelOf(staging)),
    };
    const gates = gatesSchema.parse(JSON.parse(request.gates));
    const verdict = checkGates(gates, {
      active: { heldout: summary(before.heldout), replay: summary(before.replay) },
      staging: { heldout: summary(after.heldout), replay: summary(after.replay) },
    });
    const metrics = {
      dataset: dataset.counts,
      train,
      before: { version: base, heldout: summary(before.heldout), replay: summary(before.replay) },
      after: { version: staging, heldout: summary(after.heldout), replay: summary(after.replay) },
      batch_dir: dir,
    };
    const gateReport = { thresholds: gates, passed: verdict.passed, results: verdict.results };
    ctx.alive();

    if (!verdict.passed) {
      // The examples stay queued (issue 15): the next request trains on them with whatever is added.
      finishRequest(db, request.id, worker, { status: "rejected", metrics, gates: gateReport });
      store.dropStaging(request.tensor, staging);
      return "rejected";
    }
    const version = staging;
    if (request.backend === "experience" && dataset.eval.length > 0) {
      // The held-out examples have judged this version; now it learns them too (issue 15), so no
      // example a user taught is lost to the split. Offline, no LLM: the same symbolic step.
      const learnt = await trainExperience(db, store, request.tensor, staging, dataset.eval, ctx.alive);
      (metrics.train as Record<string, unknown>).heldout_learnt_after_gates = learnt.added + learnt.patched;
    }
    db.transaction(() => {
      store.activate(request.tensor, version, base);
      const mark = db.prepare("UPDATE examples SET used_at = ? WHERE id = ? AND used_at IS NULL");
      const now = Date.now();
      for (const id of dataset.example_ids) mark.run(now, id);
      finishRequest(db, request.id, worker, { status: "deployed", metrics, gates: gateReport });
    }).immediate();
    const pruned = store.prune(request.tensor, KEEP_VERSIONS);
    if (pruned.length) log("info", `pruned versions ${pruned.join(", ")} of ${request.tensor}`);
    return "deployed";
  } catch (err) {
    const message = err instanceof InsufficientData ? err.message : `training failed: ${(err as Error).message ?? String(err)}`;
    if (!(err instanceof InsufficientData)) log("error", `request ${request.id} failed`, err);
    try {
      db.transaction(() => finishRequest(db, request.id, worker, { status: "failed", error: message })).immediate();
    } catch (finishErr) {
      // Reclaimed by another worker: it owns the request (and the staging version's cleanup) now.
      log("warn", `could not record the failure of ${request.id}`, finishErr);
      return "failed";
    }
    if (staging !== undefined) store.dropStaging(request.tensor, staging);
    return "failed";
  }
}
