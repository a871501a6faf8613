/**
 * An expert answers one question ("what kind of action now?", "which command?") from experience:
 * it retrieves the tensor's rows that best fit the input, and either asks the LLM with those rows
 * as worked examples, or (no LLM, llm:"off") returns the best row's value as it is.
 */
import type { ExperienceStore, RecallHit } from "../experience/store.js";
import type { ChatMessage, Llm } from "./llm.js";

export interface ExpertAnswer {
  /** The answer, placeholders not yet filled. */
  output: string;
  /** Where it came from: the LLM, or the best retrieved row (offline, or the LLM's answer was unusable). */
  source: "llm" | "experience";
  /** The rows retrieved, best first (ids and scores), for the trajectory. */
  examples: Array<{ id: number; score: number }>;
  /** The raw LLM answer when it was rejected as unusable. */
  rejected?: string;
}

export interface AskOptions {
  /** The retrieval text and the "current input" of the prompt. */
  input: string;
  /** Extra lines for the LLM only (task parameters); kept out of retrieval. */
  context?: string;
  /** The run so far (`====[Iteration i]====` blocks). */
  trajectory: string;
  task: string;
  /** Keep only rows this accepts (e.g. key names for a ctrl: hint). */
  filter?: (hit: RecallHit) => boolean;
  /** Whether an LLM answer is usable; an unusable one falls back to the best row. */
  accept?: (output: string) => boolean;
  signal?: AbortSignal;
}

export const DEFAULT_K = 5;

/** Thrown when the tensor holds nothing that fits: neither the LLM nor the fallback has examples. */
export class NoExperienceError extends Error {
  override name = "NoExperienceError";
}

export class Expert {
  constructor(
    readonly name: string,
    private readonly store: ExperienceStore,
    readonly tensor: string,
    private readonly llm: Llm | undefined,
    private readonly k = DEFAULT_K,
  ) {}

  /** Every row of the tensor's active version whose key passes `filter`: what it was taught. */
  taught(filter: (key: string) => boolean): Array<{ key: string; value: string }> {
    return this.store.rows(this.tensor).filter((r) => filter(r.key)).map((r) => ({ key: r.key, value: r.value }));
  }

  /** The rows that fit the input best (at most k), best first. */
  retrieve(o: Pick<AskOptions, "input" | "filter">): RecallHit[] {
    // Read more than k when filtering, so k usable rows remain.
    return this.store.recall(o.input, { tensor: this.tensor, k: o.filter ? this.k * 4 : this.k }).filter((h) => !o.filter || o.filter(h)).slice(0, this.k);
  }

  /**
   * Every answer worth trying, best first: the LLM's (when configured and usable), then the rows
   * whose `fit` reaches `floor` (offline, these are the only answers). Rows below the floor are
   * still the LLM's worked examples, but never typed on their own.
   */
  async candidates(o: AskOptions & { fit: (hit: RecallHit) => number; floor: number; pool?: number }): Promise<{ answers: Array<{ output: string; source: "llm" | "experience"; fit?: number }>; examples: Array<{ id: number; score: number }>; rejected?: string }> {
    const pool = this.store
      .recall(o.input, { tensor: this.tensor, k: o.pool ?? 40 })
      .filter((h) => !o.filter || o.filter(h))
      .map((h) => ({ h, fit: o.fit(h) }))
      .sort((a, b) => b.fit - a.fit || b.h.score - a.h.score);
    const hits = pool.slice(0, this.k).map((p) => p.h);
    const examples = pool.slice(0, this.k).map((p) => ({ id: p.h.id, score: Math.round(p.fit * 1000) / 1000 }));
    const rows = pool.filter((p) => p.fit >= o.floor).map((p) => ({ output: p.h.value, source: "experience" as const, fit: p.fit }));
    if (!this.llm) return { answers: rows, examples };
    const output = await this.llm.complete(buildPrompt(o, hits), o.signal);
    if (output && (!o.accept || o.accept(output))) return { answers: [{ output, source: "llm" }, ...rows], examples };
    return { answers: rows, examples, rejected: output };
  }

  async ask(o: AskOptions): Promise<ExpertAnswer> {
    const hits = this.retrieve(o);
    const examples = hits.map((h) => ({ id: h.id, score: Math.round(h.score * 1000) / 1000 }));
    const best = hits[0];
    if (!this.llm) {
      if (!best) throw new NoExperienceError(`${this.name} expert: no row of tensor ${this.tensor} fits ${JSON.stringify(o.input.slice(0, 200))}`);
      return { output: best.value, source: "experience", examples };
    }
    const output = await this.llm.complete(buildPrompt(o, hits), o.signal);
    if (output && (!o.accept || o.accept(output))) return { output, source: "llm", examples };
    if (!best) throw new NoExperienceError(`${this.name} expert: the LLM answered ${JSON.stringify(output.slice(0, 200))}, which is unusable, and no row of ${this.tensor} fits`);
    return { output: best.value, source: "experience", examples, rejected: output };
  }
}

/** The chat messages: the run so far, the task, worked examples, then the input to answer. */
export function buildPrompt(o: Pick<AskOptions, "input" | "context" | "trajectory" | "task">, hits: readonly RecallHit[]): ChatMessage[] {
  const parts: string[] = [];
  if (o.trajectory.trim()) parts.push(`What happened so far:\n${o.trajectory.trim()}`);
  parts.push(`Task: ${o.task}`);
  if (hits.length > 0) {
    parts.push("Examples of correct input -> output:");
    for (const h of hits) parts.push(`INPUT:\n${h.key}\nOUTPUT:\n${h.value}`);
  }
  if (o.context) parts.push(o.context);
  parts.push(`Now answer for this input:\nINPUT:\n${o.input}`);
  parts.push("Reply with the output only: no explanation, no quotes, no code fences.");
  return [
    { role: "system", content: "You drive a terminal one step at a time. Follow the format of the examples exactly." },
    { role: "user", content: parts.join("\n\n") },
  ];
}
