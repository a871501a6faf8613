/**
 * What a run of the two-expert loop takes (RunDeps, RunOptions) and gives (RunResult, with one
 * TrajectoryStep per step).
 */
import type { ExperienceStore } from "../experience/store.js";
import type { Llm } from "../llm/llm.js";
import type { Db } from "../storage/db.js";
import type { Terminal } from "../tmux/terminal.js";
import type { JudgeKind, Outcome, StopReason } from "./judge.js";
import type { HarnessModule, ValidatorSpec } from "./modules.js";

export interface TrajectoryStep {
  step: number;
  /** The decision expert's answer, e.g. "text:type the shell command that does the task". */
  decision: string;
  /** What was typed, or the keys pressed (space separated). */
  command: string;
  /** Trail commits made by this step. */
  commits: string[];
  /** Where each answer came from: the LLM, a stored row, or (commands only) the machine's manual. */
  sources: { decision: "llm" | "experience"; command: "llm" | "experience" | "manual" };
  passed: boolean;
  detail: string;
  /** The exit status of the command this step ran, when the shell reported it. */
  exit_code?: number | null;
}

export interface RunResult {
  success: boolean;
  outcome: Outcome;
  steps: number;
  session: string;
  trajectory: TrajectoryStep[];
  final_screen: string;
  validator: { kind: JudgeKind; passed: boolean; detail: string };
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
