/**
 * How our processes end: SIGTERM, SIGINT or SIGHUP, or a stdout whose reader has gone (EPIPE, as in
 * `experience-mcp demo | head -2`). Every registered closer runs (the database, the tmux control
 * clients), for at most GRACE_MS together, then the process exits: within 2 s of the signal in all.
 * A second signal exits at once. It imports only log.ts, so the hook bundle can use it too.
 */
import { log, stderrBroken, watchStderr } from "./log.js";

export const GRACE_MS = 1500;
const SIGNALS = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const;

type Closer = () => unknown;
const closers = new Set<Closer>();
let stopping = false;
let installed = false;
let signalExitCode: number | undefined;

/**
 * What a signal exits with: by default 128 + its number, as shells report a process killed by it;
 * 0 for the processes whose normal end is a stop request (the server, the watching train worker).
 */
export function exitCodeOnSignal(code: number): void {
  signalExitCode = code;
}

/** Run `close` when the process is told to stop; returns the function that unregisters it. */
export function onShutdown(close: Closer): () => void {
  closers.add(close);
  return () => closers.delete(close);
}

export function isStopping(): boolean {
  return stopping;
}

/** Run the closers (at most GRACE_MS), then exit with `code`. Later calls do nothing. */
export async function shutdown(code: number, why: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log("info", `stopping (${why})`);
  const hardStop = setTimeout(() => process.exit(code), GRACE_MS);
  await Promise.allSettled([...closers].map(async (close) => close()));
  clearTimeout(hardStop);
  process.exit(code);
}

function isBrokenPipe(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException)?.code;
  return code === "EPIPE" || code === "ERR_STREAM_DESTROYED" || code === "ECONNRESET";
}

/**
 * Install the signal handlers and the broken-pipe guard once. `signals: false` keeps the default
 * action (the kernel ends the process at once): the hook's only wait is a read of stdin on a
 * thread-pool thread, which would keep a JavaScript handler's process.exit() from ever returning.
 */
export function installProcessGuards(options: { signals?: boolean } = {}): void {
  if (installed) return;
  installed = true;
  watchStderr();
  if (options.signals !== false) installSignalHandlers();
  // Without a listener, an EPIPE on stdout is thrown as an uncaught exception; logging that to a
  // stderr on the same broken pipe threw again, forever, at 100% CPU. Stop writing and exit.
  process.stdout.on("error", (err) => {
    if (isBrokenPipe(err)) void shutdown(0, "stdout closed");
  });
}

function installSignalHandlers(): void {
  for (const [name, number] of Object.entries(SIGNALS)) {
    process.on(name, () => {
      if (stopping) process.exit(signalExitCode ?? 128 + number);
      void shutdown(signalExitCode ?? 128 + number, name);
    });
  }
}

/** True for the errors that only say our output has no reader any more. */
export function isOutputGone(err: unknown): boolean {
  return isBrokenPipe(err) && (process.stdout.destroyed || stderrBroken());
}
