/**
 * The two-expert loop (the seed's `ft_recurrent`): observe the screen → decision expert
 * (`text:<hint>` or `ctrl:<hint>`) → command expert (a command line, or key names) → type it or
 * press the keys → wait for the terminal (event-driven) → observe → validator. Stops at the first
 * step the validator passes; each iteration is appended to the trajectory both experts see.
 */
import { randomBytes } from "node:crypto";
import type { Db } from "../experience/db.js";
import type { ExperienceStore, RecallHit } from "../experience/store.js";
import { TerminalError } from "../tmux/errors.js";
import { isAllowedKey } from "../tmux/keys.js";
import { isShell } from "../tmux/shell.js";
import type { Terminal } from "../tmux/terminal.js";
import { Expert, NoExperienceError, fillTemplate, parameterize } from "./expert.js";
import { LlmError, type Llm } from "./llm.js";
import { STATES, seedModule, type HarnessModule, type ValidatorSpec } from "./modules.js";
import { clearUnsolved, recordRun, recordUnsolved, type Example } from "./record.js";
import { prepareValidator, type StepState, type Verdict } from "./validators.js";

export interface TrajectoryStep {
  step: number;
  /** The decision expert's answer, e.g. "text:type the shell command that does the task". */
  decision: string;
  /** What was typed, or the keys pressed (space separated). */
  command: string;
  /** Trail commits made by this step. */
  commits: string[];
  /** Where each answer came from ("llm" or "experience"). */
  sources: { decision: "llm" | "experience"; command: "llm" | "experience" };
  passed: boolean;
  detail: string;
}

export type StopReason = "validator" | "max_steps" | "time_limit" | "session_ended" | "llm_error" | "no_experience" | "bad_answer" | "terminal_error";

export interface RunResult {
  success: boolean;
  steps: number;
  session: string;
  trajectory: TrajectoryStep[];
  final_screen: string;
  validator: { kind: ValidatorSpec["kind"]; passed: boolean; detail: string };
  stopped: StopReason;
  error?: string;
  run_id: string;
  /** Training examples recorded (successful runs only). */
  recorded: number;
}

export interface RunDeps {
  store: ExperienceStore;
  terminal: Terminal;
  /** Where successful runs are recorded as training examples; omitted = not recorded. */
  db?: Db;
}

export interface RunOptions {
  task: string;
  module: HarnessModule;
  /** Use this session (created when missing); default: a new one named harness-<id>. */
  session?: string;
  maxSteps: number;
  /** Default: the module's validator. */
  validator?: ValidatorSpec;
  /** Undefined = offline: the best retrieved row answers. */
  llm?: Llm;
  /** Hard cap on the whole run. */
  timeLimitMs: number;
  /** Longest wait for one command to finish (default 30 s, never past the time limit). */
  stepTimeoutMs?: number;
  onStep?: (step: TrajectoryStep, maxSteps: number) => void | Promise<void>;
  signal?: AbortSignal;
}

/** Validator spec errors and the like: the caller's to fix, found before anything is typed. */
export class HarnessInputError extends Error {
  override name = "HarnessInputError";
}

interface Observation {
  screen: string;
  state: (typeof STATES)[keyof typeof STATES];
  foreground: string;
  typed: string;
}

const SCREEN_LINES_IN_INPUT = 5;
const MAX_TEXT_COMMAND = 1000;
/** After Enter, a shell back in the foreground and this quiet means the command is done even if the prompt changed (cd). */
const PROMPT_CHANGE_QUIET_MS = 1000;

function lastLine(screen: string): string {
  const lines = screen.split("\n").filter((l) => l.trim() !== "");
  return lines[lines.length - 1]?.trimEnd() ?? "";
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

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

export async function runHarness(deps: RunDeps, o: RunOptions): Promise<RunResult> {
  const { store, terminal } = deps;
  const started = performance.now();
  const deadline = started + o.timeLimitMs;
  const left = () => deadline - performance.now();
  const runId = `run-${Date.now().toString(36)}-${randomBytes(3).toString("hex")}`;
  const spec = o.validator ?? o.module.validator;
  let validate: ReturnType<typeof prepareValidator>;
  try {
    validate = prepareValidator(spec);
  } catch (err) {
    throw new HarnessInputError((err as Error).message);
  }
  seedModule(store, o.module);

  const session = o.session ?? `harness-${runId.slice(4)}`;
  if (!(await terminal.cli.hasSession(session))) await terminal.createSession({ session });

  // A tensor version trained by the openai backend answers with its fine-tuned model.
  const llmFor = (tensor: string) => {
    const model = o.llm ? store.modelOf(tensor) : undefined;
    return model && o.llm ? o.llm.withModel(model) : o.llm;
  };
  const decisionExpert = new Expert("decision", store, o.module.decision_tensor, llmFor(o.module.decision_tensor));
  const commandExpert = new Expert("command", store, o.module.command_tensor, llmFor(o.module.command_tensor));
  const { template: task, params } = parameterize(o.task);
  const context = params.length
    ? `Parameters: ${params.map((p, i) => `{${i + 1}} = ${JSON.stringify(p)}`).join(", ")}. Write {1}, {2}, … in the output where they belong; they are filled in, shell-quoted.`
    : undefined;

  const trajectory: TrajectoryStep[] = [];
  const examples: Example[] = [];
  /** The last command-expert input for a typed command: what a later demonstration answers. */
  let textInput: string | undefined;
  let history = "";
  let commandsRun = 0;
  let verdict: Verdict = { passed: false, detail: "no step was taken" };
  let screen = "";
  let stopped: StopReason = "max_steps";
  let error: string | undefined;

  // The prompt is what the last line shows while nothing is typed: learnt now, relearnt after a command that changes it.
  const first = await terminal.capture(session);
  let prompt = lastLine(first.text);
  screen = first.text;

  const observe = async (): Promise<Observation> => {
    const cap = await terminal.capture(session, { maxChars: 20_000 });
    const last = lastLine(cap.text);
    const shell = isShell(cap.current_command);
    let state: Observation["state"];
    let typed = "";
    if (!shell) state = STATES.running;
    else if (prompt && last === prompt) state = STATES.emptyPrompt;
    else if (prompt && last.startsWith(prompt)) {
      state = STATES.typedCommand;
      typed = last.slice(prompt.length).trim();
    } else state = STATES.noPrompt;
    return { screen: cap.text, state, foreground: cap.current_command, typed };
  };

  /** After Enter or C-c: the prompt is back (or, if it changed, a quiet shell), or the step's time is up. */
  const waitForCommand = async (): Promise<string> => {
    const timeoutMs = Math.max(1, Math.ceil(Math.min(o.stepTimeoutMs ?? 30_000, left())));
    const promptBack = new RegExp(`(?:^|\\n)${escapeRegExp(prompt)}$`);
    const back = terminal.waitForText(session, promptBack, { timeoutMs }).then(() => "prompt" as const);
    const quietShell = terminal.waitForShell(session, { quietMs: PROMPT_CHANGE_QUIET_MS, timeoutMs }).then(() => "shell" as const);
    // The loser keeps watching until its timeout or the session's end: its rejection is expected.
    back.catch(() => undefined);
    quietShell.catch(() => undefined);
    try {
      const how = await Promise.race([back, quietShell]);
      if (how === "shell") {
        const now = lastLine((await terminal.capture(session)).text);
        // A new prompt (after cd, say), but not output without a final newline ("hi" + prompt).
        // Neither is the typed line of a command that has not started yet (a slow fork under load).
        if (now && !now.startsWith(prompt) && !now.endsWith(prompt)) prompt = now;
      }
      return "";
    } catch (err) {
      if (err instanceof TerminalError && err.code === "timeout") return ` (still running after ${Math.round(timeoutMs / 1000)} s)`;
      throw err;
    }
  };

  try {
    let obs = await observe();
    for (let step = 1; step <= o.maxSteps; step++) {
      if (left() <= 0) {
        stopped = "time_limit";
        break;
      }
      if (o.signal?.aborted) {
        stopped = "time_limit";
        error = "cancelled";
        break;
      }
      const signal = o.signal ? AbortSignal.any([o.signal, AbortSignal.timeout(Math.max(1, Math.ceil(left())))]) : AbortSignal.timeout(Math.max(1, Math.ceil(left())));

      const screenLines = obs.screen.split("\n").filter((l) => l.trim() !== "").slice(-SCREEN_LINES_IN_INPUT).join("\n");
      const decisionInput = `state: ${obs.state}\nforeground: ${obs.foreground}\ntyped: ${obs.typed}\nscreen:\n${screenLines}\ntask: ${task}`;
      const decision = await decisionExpert.ask({ input: decisionInput, context, trajectory: history, task, accept: (a) => parseDecision(a) !== undefined, signal });
      const parsed = parseDecision(decision.output);
      if (!parsed) {
        stopped = "bad_answer";
        error = `decision row of ${o.module.decision_tensor} is not "text:<hint>" or "ctrl:<hint>": ${JSON.stringify(decision.output.slice(0, 200))}`;
        break;
      }

      const commandInput = `${parsed.prefix}: ${parsed.hint}\ntask: ${task}`;
      if (parsed.prefix === "text") textInput = commandInput;
      const fits = (h: RecallHit) => h.key.startsWith(`${parsed.prefix}:`);
      const accept = parsed.prefix === "ctrl" ? (a: string) => parseKeys(a) !== undefined : usableCommand;
      const command = await commandExpert.ask({ input: commandInput, context, trajectory: history, task, filter: fits, accept, signal });

      let commits: string[];
      let sent: string;
      let note = "";
      if (parsed.prefix === "ctrl") {
        const keys = parseKeys(command.output);
        if (!keys) {
          stopped = "bad_answer";
          error = `command row of ${o.module.command_tensor} for a ctrl: hint is not key names: ${JSON.stringify(command.output.slice(0, 200))}`;
          break;
        }
        sent = keys.join(" ");
        commits = (await terminal.sendKeys(session, keys)).commits;
        const runs = keys.some((k) => k === "Enter" || k === "C-m" || k === "C-j");
        if (runs) commandsRun++;
        // A command was started or interrupted: let it finish (or give up at the step's limit).
        if (runs || keys.includes("C-c")) note = await waitForCommand();
      } else {
        if (!usableCommand(command.output)) {
          stopped = "bad_answer";
          error = `command row of ${o.module.command_tensor} is not one line of at most ${MAX_TEXT_COMMAND} characters`;
          break;
        }
        sent = fillTemplate(cleanAnswer(command.output), params);
        commits = (await terminal.sendText(session, sent)).commits;
      }

      obs = await observe();
      screen = obs.screen;
      const cwd = await terminal.cli.display(session, "#{pane_current_path}");
      const state: StepState = {
        screen: obs.screen,
        atEmptyPrompt: obs.state === STATES.emptyPrompt,
        shellInForeground: obs.state !== STATES.running,
        commandsRun,
        cwd,
      };
      verdict = await validate(state, signal);
      const entry: TrajectoryStep = {
        step,
        decision: `${parsed.prefix}:${parsed.hint}`,
        command: sent,
        commits,
        sources: { decision: decision.source, command: command.source },
        passed: verdict.passed,
        detail: verdict.detail + note,
      };
      trajectory.push(entry);
      examples.push(
        { tensor: o.module.decision_tensor, input: decisionInput, expected: entry.decision },
        { tensor: o.module.command_tensor, input: commandInput, expected: cleanAnswer(command.output) },
      );
      await o.onStep?.(entry, o.maxSteps);
      if (verdict.passed) {
        stopped = "validator";
        break;
      }
      const tail = obs.screen.split("\n").slice(-SCREEN_LINES_IN_INPUT).join("\n");
      history += `====[Iteration ${step}]====\ndecision: ${entry.decision}\ncommand: ${sent}\nscreen after:\n${tail}\nvalidator: not passed (${entry.detail})\n`;
    }
  } catch (err) {
    if (left() <= 0 && (err instanceof LlmError || (err instanceof TerminalError && err.code === "timeout"))) {
      // The cap cut a call short: that is the reason, not the call.
      stopped = "time_limit";
      error = `the run's time limit (${Math.round(o.timeLimitMs / 1000)} s) ran out`;
    } else if (err instanceof TerminalError) {
      stopped = err.code === "no-session" ? "session_ended" : "terminal_error";
      error = err.code === "no-session" ? `session ${session} ended during the run: ${err.message}` : err.message;
    } else if (err instanceof LlmError) {
      stopped = "llm_error";
      error = err.message;
    } else if (err instanceof NoExperienceError) {
      stopped = "no_experience";
      error = err.message;
    } else {
      throw err;
    }
  }
  if (stopped === "max_steps" && left() <= 0) stopped = "time_limit";

  const success = stopped === "validator";
  const recorded = success && deps.db ? recordRun(deps.db, runId, examples) : 0;
  if (deps.db) {
    // Unsolved with a typed command asked for: what the agent types here next can teach it.
    if (success) clearUnsolved(deps.db, session);
    else if (textInput && stopped !== "session_ended") {
      const seq = await terminal.trail.countCommits(session).catch(() => undefined);
      if (seq !== undefined) recordUnsolved(deps.db, session, { run_id: runId, tensor: o.module.command_tensor, input: textInput, params, seq });
    }
  }
  return {
    success,
    steps: trajectory.length,
    session,
    trajectory,
    final_screen: screen,
    validator: { kind: spec.kind, passed: verdict.passed, detail: verdict.detail },
    stopped,
    ...(error !== undefined ? { error } : {}),
    run_id: runId,
    recorded,
  };
}
