/**
 * Decide: the decision expert says what kind of step comes next (`text:<hint>` or `ctrl:<hint>`),
 * the command expert says what to type or which keys to press. Offline, a row is typed only when it
 * fits the task's own words well enough; never a command this run already typed.
 */
import type { RecallHit } from "../experience/store.js";
import type { Expert } from "../llm/expert.js";
import { isAllowedKey } from "../tmux/keys.js";
import { TEACH_HINT, type StopReason } from "./judge.js";
import { runFileCommand } from "./interpreter.js";
import { manualCandidates } from "./manual-match.js";
import type { Observation } from "./observe.js";
import { fillTemplate, taskFit, unfilledPlaceholders } from "./slots.js";

/**
 * Least content-word Jaccard between the task and a row's task for the row to drive a command.
 * Calibrated with `npm run eval:harness -- --calibrate` on the training families only: below it,
 * wrong rows outnumber right ones (see docs/harness.md).
 */
export const FIT_FLOOR = 0.6;

const SCREEN_LINES_IN_INPUT = 5;
const MAX_TEXT_COMMAND = 1000;

/** The answer with code fences, backticks and outer quotes a chatty model adds taken off. */
export function cleanAnswer(output: string): string {
  let s = output.trim();
  const fence = /^```[a-z]*\n([\s\S]*?)\n?```$/i.exec(s);
  if (fence) s = fence[1]!.trim();
  if (/^`[^`]+`$/.test(s)) s = s.slice(1, -1).trim();
  return s;
}

export function parseDecision(output: string): { prefix: "text" | "ctrl"; hint: string } | undefined {
  const m = /^(text|ctrl)\s*:\s*(.+)$/s.exec(cleanAnswer(output));
  return m ? { prefix: m[1] as "text" | "ctrl", hint: m[2]!.trim() } : undefined;
}

/** Key names from a ctrl answer ("Enter", "C-c", "Escape :q Enter" is rejected: ":q" is no key). */
export function parseKeys(output: string): string[] | undefined {
  const keys = cleanAnswer(output).split(/[\s,]+/).filter(Boolean);
  return keys.length > 0 && keys.length <= 16 && keys.every(isAllowedKey) ? keys : undefined;
}

function usableCommand(output: string): boolean {
  const s = cleanAnswer(output);
  return s.length > 0 && s.length <= MAX_TEXT_COMMAND && !s.includes("\n");
}

/** The decision expert's input: the state and the last lines of the screen. */
export function decisionInput(obs: Observation, task: string): string {
  const screenLines = obs.screen.split("\n").filter((l) => l.trim() !== "").slice(-SCREEN_LINES_IN_INPUT).join("\n");
  return `state: ${obs.state}\nforeground: ${obs.foreground}\ntyped: ${obs.typed}\nscreen:\n${screenLines}\ntask: ${task}`;
}

/** The screen's last lines after a step, and what the step did: what both experts see of it later. */
export function iteration(step: number, decision: string, sent: string, screen: string, detail: string): string {
  const tail = screen.split("\n").slice(-SCREEN_LINES_IN_INPUT).join("\n");
  return `====[Iteration ${step}]====\ndecision: ${decision}\ncommand: ${sent}\nscreen after:\n${tail}\nresult: ${detail}\n`;
}

/** What one question to an expert carries besides its input. */
export interface Asking {
  task: string;
  context: string | undefined;
  history: string;
  signal: AbortSignal;
}

export async function askKeys(expert: Expert, input: string, a: Asking) {
  const fits = (h: RecallHit) => h.key.startsWith("ctrl:");
  const command = await expert.ask({ input, context: a.context, trajectory: a.history, task: a.task, filter: fits, accept: (x) => parseKeys(x) !== undefined, signal: a.signal });
  return { source: command.source, output: command.output, keys: parseKeys(command.output) };
}

/** Who gave a command: the LLM, a stored row, or the machine's own manual (--help, whatis). */
export type CommandSource = "llm" | "experience" | "manual";

/** The program a command line runs ("mkdir" of "mkdir -p x/y"). */
export function programOf(command: string): string {
  return command.trim().split(/\s+/)[0] ?? "";
}

export type CommandChoice =
  | { output: string; filled: string; source: CommandSource }
  | { stopped: Extract<StopReason, "stuck" | "no_experience">; error: string };

/**
 * The command to type for a text: hint: the LLM's answer or the rows that fit the task, then the
 * entries of the machine's manual that fit it (manual-match.ts), used the way taught rows use the
 * same commands; the first with every placeholder given and not tried before.
 */
export async function chooseCommand(
  expert: Expert,
  input: string,
  a: Asking & { params: readonly string[]; floor: number; tensor: string; typedBefore: ReadonlySet<string>; erred?: ReadonlySet<string>; triedAny: boolean; cwd?: string },
): Promise<CommandChoice> {
  const { task, params, floor } = a;
  const fits = (h: RecallHit) => h.key.startsWith("text:");
  const found = await expert.candidates({
    input,
    context: a.context,
    trajectory: a.history,
    task,
    filter: fits,
    accept: usableCommand,
    signal: a.signal,
    fit: (h) => taskFit(task, h.key),
    floor,
  });
  const skipped: string[] = [];
  type Answer = { output: string; source: CommandSource };
  // Each source is read only when the ones before it gave nothing to type: a fitting row never
  // pays for reading the taught rows, the file or the manual.
  const sources: Array<() => Promise<Answer[]> | Answer[]> = [
    () => found.answers,
    // A file the task asks to run, as the machine declares it is run (its #! line, /etc/mime.types).
    () => {
      const runFile = a.cwd ? runFileCommand(task, params, a.cwd) : undefined;
      return runFile ? [{ output: runFile, source: "manual" }] : [];
    },
    // The machine's own documentation, read with what the taught rows show of each command's use.
    async () => (await manualCandidates(task, params, expert.taught((key) => key.startsWith("text:")))).map((c) => ({ output: c.command, source: "manual" as const })),
  ];
  for (const source of sources) {
    for (const ans of await source()) {
      const raw = cleanAnswer(ans.output);
      if (!usableCommand(raw)) continue;
      const missing = unfilledPlaceholders(raw, params);
      if (missing.length > 0) {
        skipped.push(`${JSON.stringify(raw)} needs ${missing.join(" ")}, which the task does not give`);
        continue;
      }
      const filled = fillTemplate(raw, params);
      if (a.typedBefore.has(filled)) {
        skipped.push(`${JSON.stringify(filled)} was already tried`);
        continue;
      }
      if (a.erred?.has(programOf(filled))) {
        skipped.push(`${programOf(filled)} already exited with an error`);
        continue;
      }
      return { output: raw, filled, source: ans.source };
    }
  }
  const why = skipped.length ? ` (${skipped.slice(0, 3).join("; ")})` : "";
  return a.triedAny
    ? { stopped: "stuck", error: `no other command to try${why}; the ones tried did not pass the check` }
    : {
        stopped: "no_experience",
        error: `nothing in ${a.tensor} fits this task well enough (fit < ${floor})${why}${found.rejected !== undefined ? `, and the LLM's answer was unusable` : ""}; ${TEACH_HINT}`,
      };
}
