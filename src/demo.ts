/**
 * `experience-mcp demo`: the coder module, offline, solves a task in a fresh recorded tmux
 * session, and the steps, the verdict, the trail's scores and how to watch it again are printed.
 * The session is killed when the demo ends (Ctrl-C and SIGTERM included), unless --keep is given:
 * a demo should leave nothing running. Its trail is kept either way, so the replay still works.
 */
import { parseArgs } from "node:util";
import { loadConfig, trailsDir } from "./config.js";
import { Services } from "./services.js";
import { isStopping, onShutdown } from "./shutdown.js";
import { trailGitDir } from "./trail/read.js";
import { validateTrail } from "./trail/validators.js";
import { runHarness } from "./harness/loop.js";
import { CODER } from "./harness/modules.js";
import type { ValidatorSpec } from "./harness/modules.js";

export const DEMO_USAGE = `usage: experience-mcp demo [--task TEXT] [--pattern REGEX] [--home DIR] [--keep]
  runs the built-in coder module offline (no LLM) on TASK (default "print hello world") in a new
  tmux session; --pattern sets the regex the screen must show (default ^hello world$ for the default task);
  the session is killed at the end unless --keep is given (then it prints how to attach to it)
`;

export async function demoCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { task: { type: "string" }, pattern: { type: "string" }, home: { type: "string" }, keep: { type: "boolean" }, help: { type: "boolean", short: "h" } },
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
  const session = `demo-${new Date().toISOString().replace(/\D/g, "").slice(0, 14)}`;
  let started = false;
  /** Kill the demo's session (unless --keep), then close the database and detach from tmux. */
  const end = async () => {
    if (started && !values.keep) await services.terminal.killSession(session).catch(() => false);
    await services.close();
  };
  // A signal, or `demo | head -2` closing our stdout, ends the demo the same way.
  const unregister = onShutdown(end);
  // Once stdout's reader is gone (EPIPE) or a signal came, write nothing more: the process is on its
  // way out, and a run cut short by killing its session has no verdict worth printing.
  const out = (line: string) => void (!isStopping() && process.stdout.writable && !process.stdout.destroyed && process.stdout.write(`${line}\n`));
  try {
    out(`task:      ${task}`);
    out(`module:    coder (offline: the best stored row answers, no LLM)`);
    out(`validator: ${validator.kind}${validator.pattern ? ` /${validator.pattern}/m` : ""}`);
    out(`session:   ${session} (tmux socket ${config.tmuxSocket}, data in ${config.home})`);
    out("");
    started = true;
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
    if (values.keep) out(`attach:    tmux -L ${config.tmuxSocket} attach -t ${r.session}`);
    out(`replay:    npx experience-mcp trail cast ${r.session} > ${r.session}.cast && asciinema play ${r.session}.cast`);
    const trails = trailsDir(config.home);
    out(`history:   git --git-dir=${trailGitDir(trails)} --work-tree=${trails} log --oneline -- .captures/${r.session}`);
    if (values.keep) out(`end it:    tmux -L ${config.tmuxSocket} kill-session -t ${r.session}`);
    else out(`session:   ${r.session} killed (pass --keep to keep it and attach to it)`);
    return r.success ? 0 : 1;
  } finally {
    unregister();
    await end();
  }
}
