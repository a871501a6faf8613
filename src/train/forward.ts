/**
 * Forwarding inputs through an expert pinned to one tensor version (active or staging), and the
 * held-out metrics the gates compare. The expert is the harness's own `Expert` (offline: the best
 * retrieved row's value), reading the pinned version through a store view.
 */
import type { Db } from "../storage/db.js";
import { ExperienceStore, type RecallHit, type RecallOptions } from "../experience/store.js";
import { buildPrompt, Expert, NoExperienceError } from "../llm/expert.js";
import type { ChatMessage, Llm } from "../llm/llm.js";
import { setImmediate as yieldToLoop } from "node:timers/promises";
import { normalizedDistance } from "./levenshtein.js";
import type { Item } from "./dataset.js";

/** The store, with recall reading one fixed version of the tensor. */
class PinnedStore extends ExperienceStore {
  constructor(
    db: Db,
    private readonly pinned: number,
  ) {
    super(db);
  }
  override recall(text: string, options: RecallOptions = {}): RecallHit[] {
    return super.recall(text, { ...options, version: this.pinned });
  }
}

export interface Forwarded {
  output: string;
  /** The best retrieved row and its score (none when nothing fits). */
  row_id?: number;
  score?: number;
}

/**
 * An expert that answers from `version` of `tensor`: offline (the best row's value) or, given an
 * LLM, by asking it with the version's best rows as worked examples, as the harness does.
 */
export class VersionExpert {
  private readonly expert: Expert;
  constructor(db: Db, tensor: string, version: number, llm?: Llm) {
    this.expert = new Expert(`train ${tensor}@${version}`, new PinnedStore(db, version), tensor, llm);
  }

  /**
   * Like the harness loop: an input of the form "<prefix>: …" (text:, ctrl:, state:) is answered
   * only from rows whose key has the same prefix. No fitting row = empty output (loss 1).
   */
  async forward(input: string): Promise<Forwarded> {
    try {
      const a = await this.expert.ask({ input, trajectory: "", task: "", filter: prefixFilter(input) });
      const best = a.examples[0];
      return { output: a.output.trim(), row_id: best?.id, score: best?.score };
    } catch (err) {
      if (err instanceof NoExperienceError) return { output: "" };
      throw err;
    }
  }

  /** The chat messages an LLM expert is sent for `input`: what a fine-tuned model learns to answer. */
  messages(input: string): ChatMessage[] {
    return buildPrompt({ input, trajectory: "", task: "" }, this.expert.retrieve({ input, filter: prefixFilter(input) }));
  }
}

function prefixFilter(input: string): ((h: RecallHit) => boolean) | undefined {
  const prefix = /^([a-z]+):/.exec(input)?.[1];
  return prefix ? (h) => h.key.startsWith(`${prefix}:`) : undefined;
}

export interface SplitMetrics {
  n: number;
  /** Share of items answered exactly (after trimming). */
  exact_match: number;
  /** Mean normalized edit distance between answer and expected (0 = all exact). */
  mean_edit_distance: number;
}

export interface EvalResult extends SplitMetrics {
  /** Per item: answered exactly. */
  exact: boolean[];
}

export async function evaluate(db: Db, tensor: string, version: number, items: readonly Item[], llm?: Llm): Promise<EvalResult> {
  const expert = new VersionExpert(db, tensor, version, llm);
  const exact: boolean[] = [];
  let distance = 0;
  for (const [i, item] of items.entries()) {
    // Recall is synchronous: yield now and then so the worker's heartbeat timer runs.
    if (i % 25 === 24) await yieldToLoop();
    const { output } = await expert.forward(item.input);
    const expected = item.expected.trim();
    exact.push(output === expected);
    distance += normalizedDistance(output, expected);
  }
  const n = items.length;
  return {
    n,
    exact_match: n ? round(exact.filter(Boolean).length / n) : 0,
    mean_edit_distance: n ? round(distance / n) : 0,
    exact,
  };
}

export function round(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}

export function summary(r: EvalResult): SplitMetrics {
  return { n: r.n, exact_match: r.exact_match, mean_edit_distance: r.mean_edit_distance };
}
