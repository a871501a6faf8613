import { z } from "zod";
import { nameSchema } from "../names.js";
import { TerminalError } from "../tmux/errors.js";
import { OpenAiLlm } from "../harness/llm.js";
import { HarnessInputError, runHarness } from "../harness/loop.js";
import { loadModule, validatorSpecSchema } from "../harness/modules.js";
import { defineTool, UserError } from "./tool.js";

export const MAX_TIME_LIMIT_S = 600;

export const runHarnessTool = defineTool({
  name: "run_harness",
  title: "Let experience drive a terminal until a task is done",
  description:
    "Run a task in a recorded tmux session with a module's two experts: each step reads the screen, the decision " +
    "expert picks text:<hint> (type) or ctrl:<hint> (press keys), the command expert picks the command or keys, and " +
    "a validator checks the result; it stops at the first pass or after max_steps. The experts retrieve rows from the " +
    "module's tensors and ask the configured OpenAI-compatible LLM with them as examples; with no LLM (or llm=off) the " +
    'best row answers, so the built-in "coder" module works offline. Quoted words in the task are parameters, e.g. ' +
    'write "hi" to a file named "a.txt". Successful runs are recorded as training examples.',
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
  },
  outputSchema: {
    success: z.boolean().describe("The validator passed"),
    steps: z.number().int().describe("Steps taken"),
    session: z.string().describe("The session used; its keystrokes are in the git trail"),
    trajectory: z
      .array(
        z.object({
          step: z.number().int(),
          decision: z.string().describe("text:<hint> or ctrl:<hint>"),
          command: z.string().describe("What was typed, or the keys pressed"),
          commits: z.array(z.string()).describe("Trail commits of this step"),
          sources: z.object({ decision: z.enum(["llm", "experience"]), command: z.enum(["llm", "experience"]) }).describe("Who answered"),
          passed: z.boolean().describe("The validator passed after this step"),
          detail: z.string().describe("The validator's reason"),
        }),
      )
      .describe("Every step, in order"),
    final_screen: z.string().describe("The screen after the last step"),
    validator: z.object({ kind: z.enum(["idle", "regex", "command"]), passed: z.boolean(), detail: z.string() }).describe("The last verdict"),
    stopped: z.string().describe("validator | max_steps | time_limit | session_ended | llm_error | no_experience | bad_answer | terminal_error"),
    error: z.string().optional().describe("Why the run stopped early, when it did"),
    run_id: z.string().describe("Id of this run (its recorded training examples carry it)"),
    recorded: z.number().int().describe("Training examples recorded (successful runs)"),
  },
  async handle(args, { config, services, extra }) {
    let module;
    try {
      module = loadModule(config.home, args.module);
    } catch (err) {
      throw new UserError((err as Error).message);
    }
    const llm = args.llm === "off" || !config.llm ? undefined : new OpenAiLlm(config.llm);
    const progressToken = extra._meta?.progressToken;
    try {
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
      const head = r.success
        ? `Done in ${r.steps} step${r.steps === 1 ? "" : "s"} (${r.validator.kind}: ${r.validator.detail}).`
        : `Not done after ${r.steps} step${r.steps === 1 ? "" : "s"}: stopped by ${r.stopped}${r.error ? ` (${r.error})` : ""}; last verdict: ${r.validator.detail}.`;
      return { structured: r, text: `${head}\nsession ${r.session}\n${lines.join("\n")}\n--- screen ---\n${r.final_screen.split("\n").slice(-10).join("\n")}` };
    } catch (err) {
      if (err instanceof TerminalError || err instanceof HarnessInputError) throw new UserError(err.message);
      throw err;
    }
  },
});
