/**
 * `experience-mcp demo`: the coder module, offline, solves a task in a fresh recorded tmux
 * session, and the steps, the verdict, the trail's scores and how to watch it again are printed.
 */
import { parseArgs } from "node:util";
import { loadConfig, trailsDir } from "./config.js";
import { Services } from "./services.js";
import { onShutdown } from "./shutdown.js";
import { validateTrail } from "./trail/validators.js";
import { runHarness } from "./harness/loop.js";
import { CODER } from "./harness/modules.js";
import type { ValidatorSpec } from "./harness/modules.js";

export const DEMO_USAGE = `usage: experience-mcp demo [--task TEXT] [--pattern REGEX] [--home DIR]
  runs the built-in coder module offline (no LLM) on TASK (default "print hello world") in a new
  tmux session; --pattern sets the regex the screen must show (default ^hello world$ for the default task)
`;

export async function demoCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { task: { type: "string" }, pattern: { type: "string" }, home: { type: "string" }, help: { type: "boolean", short: "h" } },
    allowPositionals: true,
    strict: true,
  });
  if (values.help || positionals.length > 0) {
    process.stdout.write(DEMO_USAGE);
    return values.help ? 0 : 2;
  }
  const task = values.task ?? "print hello world";
  const validator: ValidatorSpec = values.pattern
    ? { kind: "regex", pattern: values.pattern }
    : values.task === undefined
      ? { kind: "regex", pattern: "^hello world$" }
      : { kind: "idle" };
  const config = loadConfig({ home: values.home });
  const services = new Services(config);
  // A signal, or `demo | head -2` closing our stdout, closes the database and detaches from tmux.
  const unregister = onShutdown(() => services.close());
  // Once stdout's reader is gone (EPIPE), write nothing more: the process is on its way out.
  const out = (line: string) => void (process.stdout.writable && !process.stdout.destroyed && process.stdout.write(`${line}\n`));
  try {
    const session = `demo-${new Date().toISOString().replace(/\D/g, "").slice(0, 14)}`;
    out(`task:      ${task}`);
    out(`module:    coder (offline: the best stored row answers, no LLM)`);
    out(`validator: ${validator.kind}${validator.pattern ? ` /${validator.pattern}/m` : ""}`);
    out(`session:   ${session} (tmux socket ${config.tmuxSocket}, data in ${config.home})`);
    out("");
    const r = await runHarness(
      { store: services.store, terminal: services.terminal, db: services.db },
      {
        task,
        module: CODER,
        session,
        maxSteps: 10,
        validator,
        timeLimitMs: 60_000,
        onStep: (s) => void out(`step ${s.step}: ${s.decision}\n        → ${s.decision.startsWith("ctrl:") ? `press: ${s.command}` : `type: ${s.command}`}   (${s.commits.length} commit${s.commits.length === 1 ? "" : "s"}; ${s.passed ? "passed" : s.detail})`),
      },
    );
    out("");
    out("screen:");
    for (const line of r.final_screen.split("\n").slice(-8)) out(`  ${line}`);
    out("");
    out(`verdict:   ${r.success ? "SUCCESS" : `NOT DONE (${r.outcome})`} after ${r.steps} step${r.steps === 1 ? "" : "s"} (${r.validator.detail})${r.error ? `: ${r.error}` : ""}`);
    const metrics = await validateTrail(trailsDir(config.home), r.session);
    out(`trail:     ${JSON.stringify(metrics)}`);
    if (r.recorded > 0) out(`learned:   ${r.recorded} training examples recorded (run ${r.run_id})`);
    out("");
    out(`attach:    tmux -L ${config.tmuxSocket} attach -t ${r.session}`);
    out(`replay:    experience-mcp trail cast ${r.session} > ${r.session}.cast && asciinema play ${r.session}.cast`);
    out(`history:   git -C ${trailsDir(config.home)} log --oneline -- ${r.session}`);
    out(`end it:    tmux -L ${config.tmuxSocket} kill-session -t ${r.session}`);
    return r.success ? 0 : 1;
  } finally {
    unregister();
    await services.close();
  }
}
