import { z } from "zod";
import { nameSchema } from "../names.js";
import { OpenAiLlm } from "../llm/llm.js";
import { runHarness } from "../harness/loop.js";
import { loadModule, validatorSpecSchema } from "../harness/modules.js";
import { defineTool } from "./tool.js";

export const MAX_TIME_LIMIT_S = 600;

export const runHarnessTool = defineTool({
  name: "run_harness",
  title: "Let experience drive a terminal until a task is done",
  description:
    "Run a task in a recorded tmux session with a module's two experts: each step reads the screen, the decision " +
    "expert picks text:<hint> (type) or ctrl:<hint> (press keys), the command expert picks the command or keys, and " +
    "the effect is checked on the output of the command run last (your validator, or checks derived from the task: a file it " +
    "names must exist, text it says to print must be printed). outcome: verified (success), unverified (ran, nothing could " +
    "check it), failed, no_experience (nothing stored or in the machine's manual fits: teach it), refused (the command would delete or overwrite what the " +
    "task did not ask for; allow_destructive opts in), stuck (no other command to try), time_limit. The experts retrieve rows " +
    "and ask the configured OpenAI-compatible LLM with them as examples; with no LLM (or llm=off) a row drives a command only " +
    "when it fits the task well, else the installed commands' --help/whatis entries that fit it are tried, each once and " +
    "checked. File names, paths, numbers and quoted words in the task are parameters. Verified runs are " +
    "recorded as training examples.",
  toolset: "harness",
  kind: "terminal",
  inputSchema: {
    task: z.string().min(1).max(2000).describe('What to do, in plain words; quoted words are parameters, e.g. create an empty file named "notes.txt"'),
    module: nameSchema.default("coder").describe('Module: "coder" (built in) or one in $EXPERIENCE_MCP_HOME/modules/<name>.json|.yaml'),
    session: nameSchema.optional().describe("Session to work in (created if missing); default: a new session harness-<id>"),
    max_steps: z.number().int().min(1).max(200).default(30).describe("Most steps (one typed command or key press each)"),
    validator: validatorSpecSchema.optional().describe("When the task counts as done; default: the module's (coder: idle, the command finished)"),
    llm: z.enum(["auto", "off"]).default("auto").describe("auto: use the configured LLM if any; off: stored experience only"),
    time_limit_s: z.number().int().min(1).max(MAX_TIME_LIMIT_S).default(120).describe("Hard wall-clock cap on the whole run, in seconds"),
    allow_destructive: z
      .boolean()
      .default(false)
      .describe("Let commands that delete, overwrite, truncate, kill or rewrite history run even when the task does not ask for that (default false: such a run stops with outcome refused)"),
  },
  outputSchema: {
    success: z.boolean().describe("outcome is verified: the task's effect was checked"),
    outcome: z
      .enum(["verified", "unverified", "failed", "no_experience", "refused", "stuck", "time_limit"])
      .describe("verified | unverified (ran, unchecked) | failed | no_experience | refused | stuck | time_limit"),
    steps: z.number().int().describe("Steps taken"),
    session: z.string().describe("The session used; its keystrokes are in the git trail"),
    trajectory: z
      .array(
        z.object({
          step: z.number().int(),
          decision: z.string().describe("text:<hint> or ctrl:<hint>"),
          command: z.string().describe("What was typed, or the keys pressed"),
          commits: z.array(z.string()).describe("Trail commits of this step"),
          sources: z.object({ decision: z.enum(["llm", "experience"]), command: z.enum(["llm", "experience", "manual"]) }).describe("Who answered: the LLM, a stored row, or the machine's manual (--help, whatis)"),
          passed: z.boolean().describe("The validator passed after this step"),
          detail: z.string().describe("The check's reason"),
          exit_code: z.number().int().nullable().optional().describe("Exit status of the command this step ran, when the shell reported it"),
        }),
      )
      .describe("Every step, in order"),
    final_screen: z.string().describe("The screen after the last step"),
    validator: z
      .object({ kind: z.enum(["idle", "regex", "command", "derived", "none"]), passed: z.boolean(), detail: z.string() })
      .describe("The last verdict; kind derived: checks from the task's words; none: nothing could check the effect"),
    stopped: z
      .string()
      .describe("validator | unverified | max_steps | time_limit | session_ended | llm_error | no_experience | bad_answer | terminal_error | refused | stuck"),
    error: z.string().optional().describe("Why the run stopped early, when it did"),
    refused: z.object({ command: z.string(), reason: z.string() }).optional().describe("outcome refused: the command not typed and what it would destroy"),
    run_id: z.string().describe("Id of this run (its recorded training examples carry it)"),
    recorded: z.number().int().describe("Training examples recorded (verified runs only)"),
  },
  async handle(args, { config, services, extra }) {
    const module = loadModule(config.home, args.module);
    const llm = args.llm === "off" || !config.llm ? undefined : new OpenAiLlm(config.llm);
    const progressToken = extra._meta?.progressToken;
    const r = await runHarness(
      { store: services.store, terminal: services.terminal, db: services.db },
      {
        task: args.task,
        module,
        session: args.session,
        maxSteps: args.max_steps,
        validator: args.validator,
        llm,
        timeLimitMs: args.time_limit_s * 1000,
        allowDestructive: args.allow_destructive,
        signal: extra.signal,
        onStep:
          progressToken === undefined
            ? undefined
            : (s, total) =>
                extra
                  .sendNotification({ method: "notifications/progress", params: { progressToken, progress: s.step, total, message: `${s.decision} → ${s.command}` } })
                  .catch(() => undefined),
      },
    );
    const lines = r.trajectory.map((s) => `${s.step}. ${s.decision} → ${JSON.stringify(s.command)}${s.passed ? " ✓" : ""}`);
    const n = `${r.steps} step${r.steps === 1 ? "" : "s"}`;
    const head = r.success
      ? `Verified in ${n} (${r.validator.kind}: ${r.validator.detail}).`
      : r.outcome === "unverified"
        ? `Ran in ${n}, unverified: ${r.validator.detail}.`
        : `Outcome ${r.outcome} after ${n}${r.error ? `: ${r.error}` : ""}; last verdict: ${r.validator.detail}.`;
    return { structured: r, text: `${head}\nsession ${r.session}\n${lines.join("\n")}\n--- screen ---\n${r.final_screen.split("\n").slice(-10).join("\n")}` };
  },
});
