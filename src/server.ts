import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { SetLevelRequestSchema, type LoggingLevel } from "@modelcontextprotocol/sdk/types.js";
import type { Config } from "./config.js";
import { MAX_ARGUMENT_ELEMENTS } from "./limits.js";
import { addLogSink, type Level } from "./log.js";
import { Resources } from "./resources/resources.js";
import { Services } from "./services.js";
import { ALL_TOOLS } from "./tools/index.js";
import { registerTool, type AnyTool } from "./tools/tool.js";
import { VERSION } from "./version.js";

export interface ExperienceServer {
  server: McpServer;
  services: Services;
  /** The tools this server exposes after --toolsets and --read-only. */
  tools: readonly AnyTool[];
  close(): Promise<void>;
}

export function selectTools(config: Config): AnyTool[] {
  return ALL_TOOLS.filter((t) => config.toolsets.has(t.toolset) && (!config.readOnly || t.kind === "read"));
}

/** Build the MCP server with every selected tool registered. Does no I/O until a tool is called. */
export function createServer(config: Config): ExperienceServer {
  const server = new McpServer(
    { name: "experience-mcp", version: VERSION },
    {
      capabilities: { logging: {} },
      // Bounds the work any call's arguments can cause before zod sees them (docs/troubleshooting.md).
      maxToolInputElements: MAX_ARGUMENT_ELEMENTS,
      instructions:
        "experience-mcp remembers what worked. Call `recall` with an error output, a task or a screen before solving something " +
        "that may have been solved before; `register_fix` once an error is fixed; `report_outcome` after trying a recalled fix.",
    },
  );
  const services = new Services(config);
  const tools = selectTools(config);
  for (const tool of tools) registerTool(server, tool, config, services);
  const resources = new Resources(server, services);
  resources.register();
  const removeSink = forwardLogs(server);
  return {
    server,
    services,
    tools,
    async close() {
      removeSink();
      resources.close();
      await server.close();
      await services.close();
    },
  };
}

/** MCP's eight levels, least severe first. */
const MCP_LEVELS: readonly LoggingLevel[] = ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"];
const AS_MCP: Record<Level, LoggingLevel> = { debug: "debug", info: "info", warn: "warning", error: "error" };

/**
 * Log lines become `notifications/message` for a client that chose a level with logging/setLevel.
 * A client that never asked gets none: an unsolicited stream of notifications is noise to most.
 */
function forwardLogs(server: McpServer): () => void {
  let minimum: number | undefined;
  server.server.setRequestHandler(SetLevelRequestSchema, (request) => {
    minimum = MCP_LEVELS.indexOf(request.params.level);
    return {};
  });
  return addLogSink((level, message, detail) => {
    const mcpLevel = AS_MCP[level];
    if (minimum === undefined || MCP_LEVELS.indexOf(mcpLevel) < minimum || !server.isConnected()) return;
    server.server.sendLoggingMessage({ level: mcpLevel, logger: "experience-mcp", data: detail ? `${message} ${detail}` : message }).catch(() => undefined);
  });
}
