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
 *
 * Each step is observe (observe.ts) → decide (decide.ts) → act (act.ts) → judge (judge.ts); the
 * run's end is recorded (record.ts). This file holds the run's state and the order of the steps;
 * run-types.ts what a run takes and gives.
 */
import { randomBytes } from "node:crypto";
import { Expert } from "../llm/expert.js";
import { clearLine, pressKeys, runsCommand, typeCommand } from "./act.js";
import { askKeys, chooseCommand, decisionInput, FIT_FLOOR, iteration, parseDecision, programOf, type Asking, type CommandSource } from "./decide.js";
import { unaskedDangers } from "./guard.js";
import { Judge, outcomeOf, stopFor, type StopReason } from "./judge.js";
import { seedModule, STATES } from "./modules.js";
import { Observer } from "./observe.js";
import { recordOutcome, type Example } from "./record.js";
import type { RunDeps, RunOptions, RunResult, TrajectoryStep } from "./run-types.js";
import { parameterize, templatePair } from "./slots.js";
import { prepareValidator, type Verdict } from "./validators.js";

/** Validator spec errors and the like: the caller's to fix, found before anything is typed. */
export class HarnessInputError extends Error {
  override name = "HarnessInputError";
}

export async function runHarness(deps: RunDeps, o: RunOptions): Promise<RunResult> {
  const { store, terminal } = deps;
  const started = performance.now();
  const deadline = started + o.timeLimitMs;
  const left = () => deadline - performance.now();
  const stepTimeoutMs = () => Math.max(1, Math.ceil(Math.min(o.stepTimeoutMs ?? 30_000, left())));
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
  // Widened on purpose: the step closure below assigns it, which narrowing does not see.
  let stopped = "max_steps" as StopReason;
  let error: string | undefined;
  let refused: RunResult["refused"];
  /** Every command typed in this run: none is typed twice. */
  const typedBefore = new Set<string>();
  /** Programs whose command exited with an error: another flag of the same program would fail alike. */
  const erred = new Set<string>();
  /** Keys pressed, with the screen they were pressed on: the same keys on the same screen would change nothing. */
  const keysBefore = new Map<string, string>();
  /** The command typed and not yet run, with the index of its example. */
  let pending: { command: string; example: number } | undefined;

  // The prompt is what the last line shows while nothing is typed: learnt now, relearnt after a command that changes it.
  const first = await terminal.capture(session);
  const observer = new Observer(terminal, session, first.text);
  let screen = first.text;
  const judge = new Judge(terminal, session, await terminal.cwd(session), o.task, spec, validate);

  try {
    let obs = await observer.observe();
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
      const asking: Asking = { task, context, history, signal };

      // One step holds the session: another process typing into it waits (issue 11, the per-session lock).
      const next = await terminal.withSessionLock(session, async (): Promise<"stop" | "next"> => {
        // Decide what kind of step comes next.
        const input = decisionInput(obs, task);
        const decision = await decisionExpert.ask({ input, context, trajectory: history, task, accept: (a) => parseDecision(a) !== undefined, signal });
        const parsed = parseDecision(decision.output);
        if (!parsed) {
          stopped = "bad_answer";
          error = `decision row of ${o.module.decision_tensor} is not "text:<hint>" or "ctrl:<hint>": ${JSON.stringify(decision.output.slice(0, 200))}`;
          return "stop";
        }

        const commandInput = `${parsed.prefix}: ${parsed.hint}\ntask: ${task}`;
        examples.push({ tensor: o.module.decision_tensor, input, expected: `${parsed.prefix}:${parsed.hint}` });
        let commits: string[];
        let sent: string;
        let commandSource: CommandSource;
        let note = "";
        let entryVerdict: Verdict = { passed: false, detail: "typed, not run yet" };
        let exitCode: number | null | undefined;
        let conclusive = true;

        if (parsed.prefix === "ctrl") {
          const command = await askKeys(commandExpert, commandInput, asking);
          commandSource = command.source;
          if (!command.keys) {
            stopped = "bad_answer";
            error = `command row of ${o.module.command_tensor} for a ctrl: hint is not key names: ${JSON.stringify(command.output.slice(0, 200))}`;
            return "stop";
          }
          const keys = command.keys;
          sent = keys.join(" ");
          if (keysBefore.get(sent) === obs.screen) {
            stopped = "stuck";
            error = `the keys ${sent} were already pressed on this same screen; pressing them again would change nothing`;
            return "stop";
          }
          keysBefore.set(sent, obs.screen);
          // Act: press the keys; Enter runs the pending command, whose output is judged.
          const ran = pending !== undefined && runsCommand(keys) ? pending : undefined;
          const pressed = await pressKeys(terminal, observer, keys, ran?.command, stepTimeoutMs);
          commits = pressed.commits;
          note = pressed.note;
          if (!pressed.waited) entryVerdict = { passed: false, detail: `pressed ${sent}` };
          if (ran && pressed.ran) {
            pending = undefined;
            commandsRun++;
            exitCode = pressed.ran.exit;
            if (typeof exitCode === "number" && exitCode !== 0) erred.add(programOf(ran.command));
            const v = await judge.check(pressed.ran, commandsRun, signal);
            entryVerdict = v;
            conclusive = v.conclusive;
            // A command that failed its check teaches nothing: its example is dropped.
            if (!v.passed && v.conclusive) examples.splice(ran.example, 1);
          }
        } else {
          textInput = commandInput;
          const cwd = await terminal.cwd(session);
          const chosen = await chooseCommand(commandExpert, commandInput, {
            ...asking,
            params,
            floor,
            tensor: o.module.command_tensor,
            typedBefore,
            erred,
            cwd,
            triedAny: commandsRun > 0 || typedBefore.size > 0,
          });
          if ("stopped" in chosen) {
            stopped = chosen.stopped;
            error = chosen.error;
            return "stop";
          }
          commandSource = chosen.source;
          sent = chosen.filled;
          const danger = o.allowDestructive ? [] : unaskedDangers(sent, o.task, cwd);
          if (danger.length > 0) {
            stopped = "refused";
            const reason = danger.map((d) => `${d.effect} (${d.what})`).join(", ");
            refused = { command: sent, reason };
            error = `refused to type ${JSON.stringify(sent)}: it would ${reason}, which the task does not ask for; pass allow_destructive: true if it should`;
            return "stop";
          }
          // Act: type the command alone on the line; a later ctrl:Enter step runs it.
          typedBefore.add(sent);
          commits = await typeCommand(terminal, session, obs, sent);
          examples.push({ tensor: o.module.command_tensor, input: commandInput, expected: templatePair(o.task, sent).command });
          pending = { command: sent, example: examples.length - 1 };
        }

        obs = await observer.observe();
        screen = obs.screen;
        if (parsed.prefix === "ctrl" && entryVerdict.detail !== "typed, not run yet") verdict = entryVerdict;
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
        history += iteration(step, entry.decision, sent, obs.screen, entry.detail);
        return "next";
      });
      if (next === "stop") break;
    }
  } catch (err) {
    ({ stopped, error } = stopFor(err, { timeUp: left() <= 0, timeLimitMs: o.timeLimitMs, session }));
  }
  if ((stopped === "max_steps" || stopped === "unverified" || stopped === "stuck") && left() <= 0) stopped = "time_limit";

  // Never leave a typed command at the prompt: the caller's next keystrokes would append to it.
  if (stopped !== "session_ended") {
    try {
      const end = await observer.observe();
      if (pending || end.state === STATES.typedCommand) {
        await clearLine(terminal, session);
        screen = (await terminal.capture(session, { maxChars: 20_000 })).text;
      } else screen = end.screen;
    } catch {
      // the session may be gone; nothing is left to clear
    }
  }

  const outcome = outcomeOf(stopped, commandsRun);
  const success = outcome === "verified";
  const recorded = deps.db
    ? await recordOutcome(deps.db, terminal, { runId, session, outcome, sessionEnded: stopped === "session_ended", examples, tensor: o.module.command_tensor, textInput, params })
    : 0;
  return {
    success,
    outcome,
    steps: trajectory.length,
    session,
    trajectory,
    final_screen: screen,
    validator: { kind: judge.kind, passed: verdict.passed, detail: verdict.detail },
    stopped,
    ...(error !== undefined ? { error } : {}),
    ...(refused ? { refused } : {}),
    run_id: runId,
    recorded: success ? recorded : 0,
  };
}
