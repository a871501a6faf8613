// stdout is the MCP protocol channel: every diagnostic goes to stderr.
type Level = "debug" | "info" | "warn" | "error";
const order: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

function threshold(): number {
  const env = (process.env.EXPERIENCE_MCP_LOG ?? "warn").toLowerCase() as Level;
  return order[env] ?? order.warn;
}

export function log(level: Level, message: string, detail?: unknown): void {
  if (order[level] < threshold()) return;
  const suffix = detail === undefined ? "" : ` ${detail instanceof Error ? detail.stack ?? detail.message : JSON.stringify(detail)}`;
  process.stderr.write(`[experience-mcp] ${level}: ${message}${suffix}\n`);
}
