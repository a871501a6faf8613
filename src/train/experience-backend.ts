/**
 * The offline `experience` backend: one StSGD-style pass over the training items, writing into a
 * staging version. Each item is forwarded through the staging expert; loss = normalized edit
 * distance to the expected output. A non-zero loss yields a symbolic gradient, the row change that
 * would have produced the expected output, applied at once (so later items see it):
 *  - patch: the best row matched the input exactly (Jaccard 1: same tokens) but answered wrong →
 *    its value is replaced by the expected output;
 *  - add: no row matched exactly → a row (key = input, value = expected) is added, which the same
 *    input now retrieves with score 1 and similar inputs retrieve by their shared tokens. This
 *    holds for an input answered right by a row for another input too (loss 0, score < 1).
 * The gradient's text is a unified-diff hunk from the answer to the expected output.
 *
 * With an LLM configured, the LLM first proposes an improved row for a wrong answer (given the
 * input, the answer, the expected output, the diff and the rows retrieved): a row worded to cover
 * similar inputs too, as the seed did. The proposal is kept only if the staging expert then
 * answers this input exactly; otherwise it is removed and the symbolic gradient above applies.
 */
import { setImmediate as yieldToLoop } from "node:timers/promises";
import type { Db } from "../storage/db.js";
import type { ExperienceStore } from "../experience/store.js";
import type { ChatMessage, Llm } from "../llm/llm.js";
import { unifiedHunk } from "./hunk.js";
import { normalizedDistance } from "./levenshtein.js";
import { VersionExpert, round } from "./forward.js";
import type { Item } from "./dataset.js";

export interface Gradient {
  op: "patch" | "add" | "llm";
  input: string;
  loss: number;
  /** The row patched (in the staging version) or added. */
  row_id: number;
  diff: string;
}

export interface TrainResult {
  items: number;
  /** Mean loss over the pass, each item measured before its own update. */
  loss: number;
  patched: number;
  added: number;
  /** Rows the LLM proposed that answered their input exactly (kept). */
  llm_rows: number;
  /** LLM proposals that did not (removed; the symbolic gradient was applied instead). */
  llm_rejected: number;
  gradients: Gradient[];
}

export async function trainExperience(
  db: Db,
  store: ExperienceStore,
  tensor: string,
  staging: number,
  items: readonly Item[],
  alive: () => void,
  proposer?: Llm,
): Promise<TrainResult> {
  const expert = new VersionExpert(db, tensor, staging);
  const rowQuery = db.prepare<[number], { query: string; key: string }>("SELECT query, key FROM rows WHERE id = ?");
  const gradients: Gradient[] = [];
  let lossSum = 0;
  let patched = 0;
  let added = 0;
  let llmRows = 0;
  let llmRejected = 0;
  for (let i = 0; i < items.length; i++) {
    // Let the heartbeat timer run, and stop early when this run was taken away.
    if (i % 25 === 0) {
      await yieldToLoop();
      alive();
    }
    const item = items[i]!;
    const expected = item.expected.trim();
    const f = await expert.forward(item.input);
    const loss = normalizedDistance(f.output, expected);
    lossSum += loss;
    // Right by luck (another row's answer) is kept as a row of its own too (issue 15): a row added
    // later for a closer-worded task would otherwise take this input over, and the example is lost.
    if (!expected || (loss === 0 && f.score === 1)) continue;
    if (loss === 0) {
      const row = store.addRow(tensor, staging, { query: "", key: item.input, value: expected });
      gradients.push({ op: "add", input: item.input, loss: 0, row_id: row.id, diff: "" });
      added++;
      continue;
    }
    const diff = unifiedHunk(f.output, expected);
    if (proposer) {
      const row = await proposeRow(proposer, item.input, f.output, expected, diff, expert.messages(item.input));
      if (row) {
        alive();
        const proposed = store.addRow(tensor, staging, row);
        if ((await expert.forward(item.input)).output === expected) {
          gradients.push({ op: "llm", input: item.input, loss: round(loss), row_id: proposed.id, diff });
          llmRows++;
          continue;
        }
        if (proposed.created) store.forget([proposed.id]);
        llmRejected++;
      }
    }
    const best = f.row_id !== undefined && f.score === 1 ? rowQuery.get(f.row_id) : undefined;
    if (best && f.row_id !== undefined) {
      const id = store.replaceRow(f.row_id, { query: best.query, key: best.key, value: expected });
      gradients.push({ op: "patch", input: item.input, loss: round(loss), row_id: id, diff });
      patched++;
    } else {
      const row = store.addRow(tensor, staging, { query: "", key: item.input, value: expected });
      gradients.push({ op: "add", input: item.input, loss: round(loss), row_id: row.id, diff });
      added++;
    }
  }
  return { items: items.length, loss: items.length ? round(lossSum / items.length) : 0, patched, added, llm_rows: llmRows, llm_rejected: llmRejected, gradients };
}

/** The longest key or value a proposal may have. */
const MAX_PROPOSED_CHARS = 4000;

/**
 * Ask the LLM for one improved row. Answers that are not a JSON object with string `key` and
 * `value`, or an LLM error, yield undefined: training goes on with the symbolic gradient.
 */
export async function proposeRow(
  llm: Llm,
  input: string,
  answer: string,
  expected: string,
  diff: string,
  prompt: readonly ChatMessage[],
): Promise<{ query: string; key: string; value: string } | undefined> {
  const examples = prompt.find((m) => m.role === "user")?.content ?? "";
  const messages: ChatMessage[] = [
    {
      role: "system",
      content:
        "You improve an experience table of (key -> value) rows that an expert retrieves by word overlap with its input and answers with the best row's value. " +
        'Reply with one JSON object {"key": "...", "value": "..."} and nothing else.',
    },
    {
      role: "user",
      content: [
        `The expert was asked:
${input}`,
        `It answered:
${answer || "(nothing: no row fitted)"}`,
        `The correct answer is:
${expected}`,
        `Diff from its answer to the correct one:
${diff}`,
        `What it was shown:
${examples}`,
        "Write one new row whose key states the situation in the words such inputs use (so this input and ones like it retrieve it) and whose value is exactly the correct answer.",
      ].join("\n\n"),
    },
  ];
  let text: string;
  try {
    text = await llm.complete(messages);
  } catch {
    return undefined;
  }
  const json = /\{[\s\S]*\}/.exec(text)?.[0];
  if (!json) return undefined;
  try {
    const o = JSON.parse(json) as { key?: unknown; value?: unknown };
    if (typeof o.key !== "string" || typeof o.value !== "string") return undefined;
    const key = o.key.trim();
    const value = o.value.trim();
    if (!key || !value || key.length > MAX_PROPOSED_CHARS || value.length > MAX_PROPOSED_CHARS) return undefined;
    return { query: "", key, value };
  } catch {
    return undefined;
  }
}
