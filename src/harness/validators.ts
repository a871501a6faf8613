/**
 * Did the step reach the goal? Checked after every step of the loop.
 *  - idle:    a command was run (Enter pressed), it finished, and the prompt is back, empty
 *  - regex:   the pattern matches the output of the command run last (flag m: ^ and $ are line
 *             bounds); text that was on the screen before it started does not count
 *  - command: the caller's check command, run with `bash -c` in the session's working
 *             directory in a process of its own (not typed into the session); exit 0 = pass
 */
import { spawn } from "node:child_process";
import type { ValidatorSpec } from "./modules.js";

export interface Verdict {
  passed: boolean;
  detail: string;
}

export interface StepState {
  screen: string;
  /** What the command run last printed: the regex validator reads only this. */
  output?: string;
  /** The prompt line is back and nothing is typed on it. */
  atEmptyPrompt: boolean;
  /** A shell is the foreground process. */
  shellInForeground: boolean;
  /** How many times the run has pressed Enter (or typed a newline). */
  commandsRun: number;
  /** Working directory of the session's pane, for the command check. */
  cwd: string;
}

const MAX_OUTPUT = 2000;

/** Compile and check a validator spec up front, so a bad one fails before anything is typed. */
export function prepareValidator(spec: ValidatorSpec): (state: StepState, signal?: AbortSignal) => Promise<Verdict> {
  switch (spec.kind) {
    case "idle":
      return async (s) => {
        if (s.commandsRun === 0) return { passed: false, detail: "no command has been run yet" };
        if (!s.shellInForeground) return { passed: false, detail: "a program is still running" };
        if (!s.atEmptyPrompt) return { passed: false, detail: "the prompt is not back (or has text on it)" };
        return { passed: true, detail: "the command finished and the prompt is back" };
      };
    case "regex": {
      if (!spec.pattern) throw new Error('validator kind "regex" needs pattern, e.g. {"kind":"regex","pattern":"^hello world$"}');
      let re: RegExp;
      try {
        re = new RegExp(spec.pattern, "m");
      } catch (err) {
        throw new Error(`validator pattern is not a valid regular expression: ${(err as Error).message}`);
      }
      return async (s) => {
        const m = re.exec(s.output ?? s.screen);
        return m ? { passed: true, detail: `matched ${JSON.stringify(m[0].slice(0, 200))}` } : { passed: false, detail: `/${spec.pattern}/m does not match the command's output` };
      };
    }
    case "command": {
      const command = spec.command;
      if (!command) throw new Error('validator kind "command" needs command, e.g. {"kind":"command","command":"test -f out.txt"}');
      const timeoutMs = (spec.timeout_s ?? 20) * 1000;
      return (s, signal) => runCheck(command, s.cwd, timeoutMs, signal);
    }
  }
}

/** Run the user's check command (their own shell text, hence `bash -c`), with a time limit. */
function runCheck(command: string, cwd: string, timeoutMs: number, signal?: AbortSignal): Promise<Verdict> {
  return new Promise((resolve) => {
    // detached: its own process group, so a timeout ends the check's children too.
    const child = spawn("bash", ["-c", command], { cwd, stdio: ["ignore", "pipe", "pipe"], detached: true });
    let output = "";
    const keep = (d: Buffer) => {
      if (output.length < MAX_OUTPUT) output += d.toString("utf8");
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    let why = "";
    const kill = (reason: string) => {
      why = reason;
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => kill(`timed out after ${timeoutMs} ms`), timeoutMs);
    const onAbort = () => kill("cancelled");
    signal?.addEventListener("abort", onAbort, { once: true });
    const finish = (v: Verdict) => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      resolve(v);
    };
    child.on("error", (err) => finish({ passed: false, detail: `check command could not start: ${err.message}` }));
    // On exit, not on close: a child it left behind (`sleep 40 &`) would hold the pipes open.
    // Whatever it left in its process group is ended with it.
    child.on("exit", (code) => {
      setImmediate(() => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
        } catch {
          // nothing left in the group
        }
        child.stdout.destroy();
        child.stderr.destroy();
        const out = output.trim().slice(0, MAX_OUTPUT);
        if (why) return finish({ passed: false, detail: `check command ${why}` });
        finish(code === 0 ? { passed: true, detail: "check command exited 0" } : { passed: false, detail: `check command exited ${code ?? "by signal"}${out ? `: ${out}` : ""}` });
      });
    });
  });
}
