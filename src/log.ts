// stdout is the MCP protocol channel: every diagnostic goes to stderr, and to the MCP clients that
// asked for log notifications (logging/setLevel) through the sinks servers register.
import { logLevelOf, type LogLevel } from "./config.js";
import { redact } from "./storage/redact.js";

export type Level = LogLevel;
const order: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Receives every log line, whatever the stderr threshold; a sink decides what it forwards. */
export type LogSink = (level: Level, message: string, detail: string) => void;
const sinks = new Set<LogSink>();

// EXPERIENCE_MCP_LOG is parsed by config.ts (which reports a bad value at start); read per line
// because the CLI and tests may set it after this module loads.
function threshold(): number {
  return order[logLevelOf(process.env)];
}

// stderr may be a pipe whose reader is gone (`2>&1 | head`): then log lines are dropped, never
// retried, and the error it raises is swallowed here rather than thrown (and logged, and thrown...).
let stderrGone = false;
let watchingStderr = false;

export function stderrBroken(): boolean {
  return stderrGone || process.stderr.destroyed;
}

/** Note (instead of throwing) when stderr's reader goes away. Idempotent. */
export function watchStderr(): void {
  if (watchingStderr) return;
  watchingStderr = true;
  process.stderr.on("error", () => {
    stderrGone = true;
  });
}

/** Write to stderr unless its reader is gone. */
export function writeStderr(line: string): void {
  watchStderr();
  if (stderrBroken()) return;
  try {
    process.stderr.write(line);
  } catch {
    stderrGone = true;
  }
}

/** Add a sink; returns the function that removes it. */
export function addLogSink(sink: LogSink): () => void {
  sinks.add(sink);
  return () => sinks.delete(sink);
}

export function log(level: Level, message: string, detail?: unknown): void {
  // Redacted here, the one way to the log files (worker.log is the worker's stderr) and to clients.
  const suffix = detail === undefined ? "" : redact(` ${detail instanceof Error ? (detail.stack ?? detail.message) : JSON.stringify(detail)}`);
  message = redact(message);
  if (order[level] >= threshold()) writeStderr(`[experience-mcp] ${level}: ${message}${suffix}\n`);
  for (const sink of sinks) {
    try {
      sink(level, message, suffix.trimStart());
    } catch {
      // A sink must never break the caller (and must not log about itself: no recursion).
    }
  }
}
