/**
 * Judge: did the command just run do the task? The caller's validator, or checks derived from the
 * task's own words, on the output the command produced; and, when the run ends, what it achieved
 * and why it stopped.
 */
import { NoExperienceError } from "../llm/expert.js";
import { LlmError } from "../llm/llm.js";
import { TerminalError } from "../tmux/errors.js";
import type { Terminal } from "../tmux/terminal.js";
import { deriveChecks, type DerivedCheck } from "./derive.js";
import type { ValidatorSpec } from "./modules.js";
import type { prepareValidator, Verdict } from "./validators.js";

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

export type JudgeKind = ValidatorSpec["kind"] | "derived" | "none";

export const TEACH_HINT =
  "teach it: run the command yourself in this session (send_text) right after this run, then harvest {source:\"trails\"} turns it into an example; " +
  'or train_model {tensor:"coder/command", examples:[{input:"<the task>", expected:"<the command>"}]}; or configure an LLM endpoint (OPENAI_BASE_URL)';

/** A command that ran: what was typed, what it printed, how it exited (when the shell said). */
export interface Ran {
  command: string;
  output: string;
  exit: number | null | undefined;
}

export type Judgement = Verdict & { conclusive: boolean };

export class Judge {
  /** What decides: the caller's validator, checks derived from the task, or nothing. */
  readonly kind: JudgeKind;
  private readonly checks: DerivedCheck[] = [];

  /** `validate` undefined ("idle" checks no effect): the task's own words decide. */
  constructor(
    private readonly terminal: Terminal,
    private readonly session: string,
    private readonly startCwd: string,
    task: string,
    spec: ValidatorSpec,
    private readonly validate: ReturnType<typeof prepareValidator> | undefined,
  ) {
    if (!validate) {
      // Derived checks that already hold before anything runs prove nothing: dropped.
      const before = { startCwd, cwd: startCwd, output: "" };
      this.checks = deriveChecks(task).filter((c) => !c.test(before));
    }
    this.kind = validate ? spec.kind : this.checks.length > 0 ? "derived" : "none";
  }

  async check(ran: Ran, commandsRun: number, signal: AbortSignal): Promise<Judgement> {
    const { checks, startCwd } = this;
    const cwd = await this.terminal.cwd(this.session);
    const exitNote = typeof ran.exit === "number" && ran.exit !== 0 ? `; the command exited ${ran.exit}` : "";
    if (this.validate) {
      const v = await this.validate({ screen: ran.output, output: ran.output, atEmptyPrompt: true, shellInForeground: true, commandsRun, cwd }, signal);
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
  }
}

/** Why a run that threw stopped; anything that is no terminal, LLM or experience fault is rethrown. */
export function stopFor(err: unknown, o: { timeUp: boolean; timeLimitMs: number; session: string }): { stopped: StopReason; error: string } {
  if (o.timeUp && (err instanceof LlmError || (err instanceof TerminalError && err.code === "timeout"))) {
    // The cap cut a call short: that is the reason, not the call.
    return { stopped: "time_limit", error: `the run's time limit (${Math.round(o.timeLimitMs / 1000)} s) ran out` };
  }
  if (err instanceof TerminalError) {
    return err.code === "no-session"
      ? { stopped: "session_ended", error: `session ${o.session} ended during the run: ${err.message}` }
      : { stopped: "terminal_error", error: err.message };
  }
  if (err instanceof LlmError) return { stopped: "llm_error", error: err.message };
  if (err instanceof NoExperienceError) return { stopped: "no_experience", error: `${err.message}; ${TEACH_HINT}` };
  throw err;
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
