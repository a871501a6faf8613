/**
 * The two-expert loop (the seed's `ft_recurrent`): observe the screen → decision expert
 * (`text:<hint>` or `ctrl:<hint>`) → command expert (a command line, or key names) → type it or
 * press the keys → wait for the command to end → check its effect. Each iteration is appended to
 * the trajectory both experts see.
 *
 * What keeps it honest (issue 15): success means the effect was checked on output produced after
 * the last command started (the caller's validator, or checks derived from the task); a command
 * is typed only when a row fits the task's own words well enough (or the LLM gave it); a command
 * that destroys something the task did not ask to destroy is refused; a command is never typed
 * twice in a run; nothing is left typed at the prompt.
 */
import { randomBytes } from "node:crypto";
import type { Db } from "../storage/db.js";
import type { ExperienceStore, RecallHit } from "../experience/store.js";
import { TerminalError } from "../tmux/errors.js";
import { isAllowedKey } from "../tmux/keys.js";
import { isShell } from "../tmux/shell.js";
import type { Terminal } from "../tmux/terminal.js";
import { deriveChecks, outputAfter, type DerivedCheck } from "./derive.js";
import { Expert, NoExperienceError } from "../llm/expert.js";
import { unaskedDangers } from "./guard.js";
import { HELP_FLOOR, helpRows } from "./help-rows.js";
import { LlmError, type Llm } from "../llm/llm.js";
import { STATES, seedModule, type HarnessModule, type ValidatorSpec } from "./modules.js";
import { clearUnsolved, recordRun, recordUnsolved, type Example } from "./record.js";
import { fillTemplate, parameterize, taskFit, templatePair, unfilledPlaceholders } from "./slots.js";
import { prepareValidator, type Verdict } from "./validators.js";

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
  /** The exit status of the command this step ran, when the shell reported it. */
  exit_code?: number | null;
}

export type StopReason =
  | "validator"
  | "unverified"
  | "max_steps"
  | "time_limit"
  | "session_ended"
  | "llm_error"
  | "no_experience"
  | "bad_answer"
  | "terminal_error"
  | "refused"
  | "stuck";

/** What the run achieved, in one word: only `verified` is a success. */
export type Outcome = "verified" | "unverified" | "failed" | "no_experience" | "refused" | "stuck" | "time_limit";

export interface RunResult {
  success: boolean;
  outcome: Outcome;
  steps: number;
  session: string;
  trajectory: TrajectoryStep[];
  final_screen: string;
  validator: { kind: ValidatorSpec["kind"] | "derived" | "none"; passed: boolean; detail: string };
  stopped: StopReason;
  error?: string;
  /** A refused run: the command that was not typed and why. */
  refused?: { command: string; reason: string };
  run_id: string;
  /** Training examples recorded (verified runs; an unverified run's are kept apart, unused by default). */
  recorded: number;
}

export interface RunDeps {
  store: ExperienceStore;
  terminal: Terminal;
  /** Where runs are recorded as training examples; omitted = not recorded. */
  db?: Db;
}

export interface RunOptions {
  task: string;
  module: HarnessModule;
  /** Use this session (created when missing); default: a new one named harness-<id>. */
  session?: string;
  maxSteps: number;
  /** Default: the module's validator ("idle" means: checks derived from the task). */
  validator?: ValidatorSpec;
  /** Undefined = offline: the rows that fit the task answer. */
  llm?: Llm;
  /** Hard cap on the whole run. */
  timeLimitMs: number;
  /** Longest wait for one command to finish (default 30 s, never past the time limit). */
  stepTimeoutMs?: number;
  /** Let commands that delete, overwrite, kill or rewrite history run though the task does not ask for it. */
  allowDestructive?: boolean;
  /** Least task fit for a row to be typed offline (default FIT_FLOOR). */
  fitFloor?: number;
  onStep?: (step: TrajectoryStep, maxSteps: number) => void | Promise<void>;
  signal?: AbortSignal;
}

/** Validator spec errors and the like: the caller's to fix, found before anything is typed. */
export class HarnessInputError extends Error {
  override name = "HarnessInputError";
}

/**
 * Least content-word Jaccard between the task and a row's task for the row to drive a command.
 * Calibrated with `npm run eval:harness -- --calibrate` on the training families only: below it,
 * wrong rows outnumber right ones (see docs/harness.md).
 */
export const FIT_FLOOR = 0.6;

export const TEACH_HINT =
  "teach it: run the command yourself in this session (send_text) right after this run, then harvest {source:\"trails\"} turns it into an example; " +
  'or train_model {tensor:"coder/command", examples:[{input:"<the task>", expected:"<the command>"}]}; or configure an LLM endpoint (OPENAI_BASE_URL)';

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
const CLEAR_LINE = ["C-e", "C-u"];

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

export function outcomeOf(stopped: StopReason, commandsRun: number): Outcome {
  switch (stopped) {
    case "validator":
      return "verified";
    case "unverified":
      return "unverified";
    case "no_experience":
      return commandsRun > 0 ? "stuck" : "no_experience";
    case "refused":
    case "stuck":
    case "time_limit":
      return stopped;
    default:
      return "failed";
  }
}

export async function runHarness(deps: RunDeps, o: RunOptions): Promise<RunResult> {
  const { store, terminal } = deps;
  const started = performance.now();
  const deadline = started + o.timeLimitMs;
  const left = () => deadline - performance.now();
  const runId = `run-${Date.now().toString(36)}-${randomBytes(3).toString("hex")}`;
  const spec = o.validator ?? o.module.validator;
  // "idle" only says the prompt came back: it checks no effect, so the task's own words decide.
  let validate: ReturnType<typeof prepareValidator> | undefined;
  try {
    validate = spec.kind === "idle" ? undefined : prepareValidator(spec);
  } catch (err) {
    throw new HarnessInputError((err as Error).message);
  }
  seedModule(store, o.module);

  const session = o.session ?? `harness-${runId.slice(4)}`;
  if (!(await terminal.hasSession(session))) await terminal.createSession({ session });

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
  const floor = o.fitFloor ?? FIT_FLOOR;

  const trajectory: TrajectoryStep[] = [];
  const examples: Example[] = [];
  /** The last command-expert input for a typed command: what a later demonstration answers. */
  let textInput: string | undefined;
  let history = "";
  let commandsRun = 0;
  let verdict: Verdict = { passed: false, detail: "no command was run" };
  let verdictKind: RunResult["validator"]["kind"] = validate ? spec.kind : "none";
  let screen = "";
  // Widened on purpose: the step closure below assigns it, which narrowing does not see.
  let stopped = "max_steps" as StopReason;
  let error: string | undefined;
  let refused: RunResult["refused"];
  /** Every command typed in this run: none is typed twice. */
  const typedBefore = new Set<string>();
  /** Keys pressed, with the screen they were pressed on: the same keys on the same screen would change nothing. */
  const keysBefore = new Map<string, string>();
  /** The command typed and not yet run, with the index of its example. */
  let pending: { command: string; example: number } | undefined;

  // The prompt is what the last line shows while nothing is typed: learnt now, relearnt after a command that changes it.
  const first = await terminal.capture(session);
  let prompt = lastLine(first.text);
  screen = first.text;
  const startCwd = await terminal.cwd(session);
  // Derived checks that already hold before anything runs prove nothing: dropped.
  let checks: DerivedCheck[] = [];
  if (!validate) {
    const before = { startCwd, cwd: startCwd, output: "" };
    checks = deriveChecks(o.task).filter((c) => !c.test(before));
    if (checks.length > 0) verdictKind = "derived";
  }

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

  /** Did the command just run do the task? The caller's validator, or the derived checks, on its own output. */
  const check = async (ran: { command: string; output: string; exit: number | null | undefined }, signal: AbortSignal): Promise<Verdict & { conclusive: boolean }> => {
    const cwd = await terminal.cwd(session);
    const exitNote = typeof ran.exit === "number" && ran.exit !== 0 ? `; the command exited ${ran.exit}` : "";
    if (validate) {
      const v = await validate({ screen: ran.output, output: ran.output, atEmptyPrompt: true, shellInForeground: true, commandsRun, cwd }, signal);
      return { ...v, conclusive: true, detail: v.detail + exitNote };
    }
    if (checks.length > 0) {
      const failed = checks.filter((c) => !c.test({ startCwd, cwd, output: ran.output }));
      if (failed.length > 0) return { passed: false, conclusive: true, detail: `not done: expected ${failed.map((c) => c.describe).join("; ")}${exitNote}` };
      if (exitNote) return { passed: false, conclusive: true, detail: `the checks hold (${checks.map((c) => c.describe).join("; ")}) but${exitNote.slice(1)}` };
      return { passed: true, conclusive: true, detail: `checked: ${checks.map((c) => c.describe).join("; ")}` };
    }
    if (exitNote) return { passed: false, conclusive: true, detail: `nothing in the task can be checked, and${exitNote.slice(1)}` };
    return {
      passed: false,
      conclusive: false,
      detail: `the command ${ran.exit === 0 ? "exited 0" : "finished"}, but nothing checks its effect: pass a validator (regex or command) to verify it`,
    };
  };

  const clearLine = async () => {
    await terminal.sendKeys(session, CLEAR_LINE);
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

      // One step holds the session: another process typing into it waits (issue 11, the per-session lock).
      const next = await terminal.withSessionLock(session, async (): Promise<"stop" | "next"> => {
        const screenLines = obs.screen.split("\n").filter((l) => l.trim() !== "").slice(-SCREEN_LINES_IN_INPUT).join("\n");
        const decisionInput = `state: ${obs.state}\nforeground: ${obs.foreground}\ntyped: ${obs.typed}\nscreen:\n${screenLines}\ntask: ${task}`;
        const decision = await decisionExpert.ask({ input: decisionInput, context, trajectory: history, task, accept: (a) => parseDecision(a) !== undefined, signal });
        const parsed = parseDecision(decision.output);
        if (!parsed) {
          stopped = "bad_answer";
          error = `decision row of ${o.module.decision_tensor} is not "text:<hint>" or "ctrl:<hint>": ${JSON.stringify(decision.output.slice(0, 200))}`;
          return "stop";
        }

        const commandInput = `${parsed.prefix}: ${parsed.hint}\ntask: ${task}`;
        examples.push({ tensor: o.module.decision_tensor, input: decisionInput, expected: `${parsed.prefix}:${parsed.hint}` });
        let commits: string[] = [];
        let sent: string;
        let commandSource: "llm" | "experience";
        let note = "";
        let entryVerdict: Verdict = { passed: false, detail: "typed, not run yet" };
        let exitCode: number | null | undefined;
        let conclusive = true;

        if (parsed.prefix === "ctrl") {
          const fits = (h: RecallHit) => h.key.startsWith("ctrl:");
          const command = await commandExpert.ask({ input: commandInput, context, trajectory: history, task, filter: fits, accept: (a) => parseKeys(a) !== undefined, signal });
          commandSource = command.source;
          const keys = parseKeys(command.output);
          if (!keys) {
            stopped = "bad_answer";
            error = `command row of ${o.module.command_tensor} for a ctrl: hint is not key names: ${JSON.stringify(command.output.slice(0, 200))}`;
            return "stop";
          }
          sent = keys.join(" ");
          if (keysBefore.get(sent) === obs.screen) {
            stopped = "stuck";
            error = `the keys ${sent} were already pressed on this same screen; pressing them again would change nothing`;
            return "stop";
          }
          keysBefore.set(sent, obs.screen);
          const runs = keys.some((k) => k === "Enter" || k === "C-m" || k === "C-j") && pending !== undefined;
          // The shell's OSC 133 marks (when it prints them) say when the command ends, its status and its output.
          const seqBefore = runs && terminal.hasShellMarks(session) ? terminal.lastCommandSeq(session) : undefined;
          const promptBefore = prompt;
          commits = (await terminal.sendKeys(session, keys)).commits;
          if (runs || keys.includes("C-c")) {
            const timeoutMs = Math.max(1, Math.ceil(Math.min(o.stepTimeoutMs ?? 30_000, left())));
            const record = seqBefore !== undefined ? await terminal.waitForCommandEnd(session, seqBefore, { timeoutMs }) : undefined;
            note = await waitForCommand();
            if (runs) {
              const ran = pending!;
              pending = undefined;
              commandsRun++;
              const cap = await observe();
              exitCode = record ? record.exitCode : undefined;
              const output = record ? record.output.replace(/\r/g, "") : outputAfter(cap.screen, ran.command, promptBefore);
              const v = await check({ command: ran.command, output, exit: exitCode }, signal);
              entryVerdict = v;
              conclusive = v.conclusive;
              // A command that failed its check teaches nothing: its example is dropped.
              if (!v.passed && v.conclusive) examples.splice(ran.example, 1);
            }
          } else entryVerdict = { passed: false, detail: `pressed ${sent}` };
        } else {
          textInput = commandInput;
          const fits = (h: RecallHit) => h.key.startsWith("text:");
          const found = await commandExpert.candidates({
            input: commandInput,
            context,
            trajectory: history,
            task,
            filter: fits,
            accept: usableCommand,
            signal,
            fit: (h) => taskFit(task, h.key),
            floor,
          });
          const skipped: string[] = [];
          let chosen: { output: string; filled: string; source: "llm" | "experience" } | undefined;
          // Last resort, offline experience of the machine's own: the --help option lines of installed commands.
          const fromHelp = helpRows()
            .filter((h) => (h.takesFile ? params.length === 1 : params.length === 0))
            .map((h) => ({ h, fit: taskFit(task, `task: ${h.task}${h.takesFile ? " {1}" : ""}`) }))
            .filter((x) => x.fit >= HELP_FLOOR)
            .sort((a, b) => b.fit - a.fit)
            .map(({ h }) => ({ output: h.takesFile ? `${h.command} {1}` : h.command, source: "experience" as const }));
          for (const a of [...found.answers, ...fromHelp]) {
            const raw = cleanAnswer(a.output);
            if (!usableCommand(raw)) continue;
            const missing = unfilledPlaceholders(raw, params);
            if (missing.length > 0) {
              skipped.push(`${JSON.stringify(raw)} needs ${missing.join(" ")}, which the task does not give`);
              continue;
            }
            const filled = fillTemplate(raw, params);
            if (typedBefore.has(filled)) {
              skipped.push(`${JSON.stringify(filled)} was already tried`);
              continue;
            }
            chosen = { output: raw, filled, source: a.source };
            break;
          }
          if (!chosen) {
            stopped = commandsRun > 0 || typedBefore.size > 0 ? "stuck" : "no_experience";
            const why = skipped.length ? ` (${skipped.slice(0, 3).join("; ")})` : "";
            error =
              stopped === "stuck"
                ? `no other command to try${why}; the ones tried did not pass the check`
                : `nothing in ${o.module.command_tensor} fits this task well enough (fit < ${floor})${why}${found.rejected !== undefined ? `, and the LLM's answer was unusable` : ""}; ${TEACH_HINT}`;
            return "stop";
          }
          commandSource = chosen.source;
          sent = chosen.filled;
          const cwd = await terminal.cwd(session);
          const danger = o.allowDestructive ? [] : unaskedDangers(sent, o.task, cwd);
          if (danger.length > 0) {
            stopped = "refused";
            const reason = danger.map((d) => `${d.effect} (${d.what})`).join(", ");
            refused = { command: sent, reason };
            error = `refused to type ${JSON.stringify(sent)}: it would ${reason}, which the task does not ask for; pass allow_destructive: true if it should`;
            return "stop";
          }
          // Clear whatever is on the line first, so the command is typed alone.
          if (obs.state === STATES.typedCommand || obs.state === STATES.noPrompt) await clearLine();
          typedBefore.add(sent);
          commits = (await terminal.sendText(session, sent)).commits;
          examples.push({ tensor: o.module.command_tensor, input: commandInput, expected: templatePair(o.task, sent).command });
          pending = { command: sent, example: examples.length - 1 };
        }

        obs = await observe();
        screen = obs.screen;
        if (parsed.prefix === "ctrl" && (entryVerdict.detail !== "typed, not run yet")) verdict = entryVerdict;
        const entry: TrajectoryStep = {
          step,
          decision: `${parsed.prefix}:${parsed.hint}`,
          command: sent,
          commits,
          sources: { decision: decision.source, command: commandSource },
          passed: entryVerdict.passed,
          detail: entryVerdict.detail + note,
          ...(exitCode !== undefined ? { exit_code: exitCode } : {}),
        };
        trajectory.push(entry);
        if (parsed.prefix === "ctrl") examples.push({ tensor: o.module.command_tensor, input: commandInput, expected: sent });
        await o.onStep?.(entry, o.maxSteps);
        if (entryVerdict.passed) {
          stopped = "validator";
          return "stop";
        }
        if (!conclusive) {
          // Nothing can tell whether it worked: typing more would be guessing.
          stopped = "unverified";
          return "stop";
        }
        const tail = obs.screen.split("\n").slice(-SCREEN_LINES_IN_INPUT).join("\n");
        history += `====[Iteration ${step}]====\ndecision: ${entry.decision}\ncommand: ${sent}\nscreen after:\n${tail}\nresult: ${entry.detail}\n`;
        return "next";
      });
      if (next === "stop") break;
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
      error = `${err.message}; ${TEACH_HINT}`;
    } else {
      throw err;
    }
  }
  if ((stopped === "max_steps" || stopped === "unverified" || stopped === "stuck") && left() <= 0) stopped = "time_limit";

  // Never leave a typed command at the prompt: the caller's next keystrokes would append to it.
  if (stopped !== "session_ended") {
    try {
      const end = await observe();
      if (pending || end.state === STATES.typedCommand) {
        await clearLine();
        screen = (await terminal.capture(session, { maxChars: 20_000 })).text;
      } else screen = end.screen;
    } catch {
      // the session may be gone; nothing is left to clear
    }
  }

  const outcome = outcomeOf(stopped, commandsRun);
  const success = outcome === "verified";
  const recorded = deps.db && (success || outcome === "unverified") ? recordRun(deps.db, runId, examples, success) : 0;
  if (deps.db) {
    // Unsolved with a typed command asked for: what the agent types here next can teach it.
    if (success) clearUnsolved(deps.db, session);
    else if (textInput && stopped !== "session_ended") {
      const seq = await terminal.recordedSteps(session).catch(() => undefined);
      if (seq !== undefined) recordUnsolved(deps.db, session, { run_id: runId, tensor: o.module.command_tensor, input: textInput, params, seq });
    }
  }
  return {
    success,
    outcome,
    steps: trajectory.length,
    session,
    trajectory,
    final_screen: screen,
    validator: { kind: verdictKind, passed: verdict.passed, detail: verdict.detail },
    stopped,
    ...(error !== undefined ? { error } : {}),
    ...(refused ? { refused } : {}),
    run_id: runId,
    recorded: success ? recorded : 0,
  };
}
