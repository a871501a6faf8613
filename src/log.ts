// stdout is the MCP protocol channel: every diagnostic goes to stderr, and to the MCP clients that
// asked for log notifications (logging/setLevel) through the sinks servers register.
import { redact } from "./experience/redact.js";

export type Level = "debug" | "info" | "warn" | "error";
const order: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Receives every log line, whatever the stderr threshold; a sink decides what it forwards. */
export type LogSink = (level: Level, message: string, detail: string) => void;
const sinks = new Set<LogSink>();

function threshold(): number {
  const env = (process.env.EXPERIENCE_MCP_LOG ?? "warn").toLowerCase() as Level;
  return order[env] ?? order.warn;
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
  if (order[level] >= threshold()) process.stderr.write(`[experience-mcp] ${level}: ${message}${suffix}\n`);
  for (const sink of sinks) {
    try {
      sink(level, message, suffix.trimStart());
    } catch {
      // A sink must never break the caller (and must not log about itself: no recursion).
    }
  }
}
