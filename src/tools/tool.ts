import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { RequestHandlerExtra } from "@modelcontextprotocol/sdk/shared/protocol.js";
import type { CallToolResult, ServerNotification, ServerRequest, ToolAnnotations } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import type { Config, Toolset } from "../config.js";
import { log } from "../log.js";
import type { Services } from "../services.js";

/**
 * What a tool does to the world. The MCP annotations are derived from this one field so they
 * cannot drift from each other; `--read-only` keeps only the "read" tools.
 *  - read:        looks, changes nothing
 *  - write:       adds or reinforces data, never removes any
 *  - destructive: removes or overwrites data
 *  - terminal:    drives processes in tmux: effects outside our own data, not undoable
 */
export type ToolKind = "read" | "write" | "destructive" | "terminal";

export function annotationsFor(kind: ToolKind, title: string): ToolAnnotations {
  switch (kind) {
    case "read":
      return { title, readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };
    case "write":
      return { title, readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false };
    case "destructive":
      return { title, readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false };
    case "terminal":
      return { title, readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true };
  }
}

/** An error the caller can fix; its message says how. Anything else is logged as a bug. */
export class UserError extends Error {
  override name = "UserError";
}

export type ToolExtra = RequestHandlerExtra<ServerRequest, ServerNotification>;

export interface ToolContext {
  config: Config;
  services: Services;
  extra: ToolExtra;
}

export interface ToolResult<O> {
  structured: O;
  /** Short human rendering; defaults to the JSON of `structured`. */
  text?: string;
}

export interface ToolDefinition<I extends z.ZodRawShape, O extends z.ZodRawShape> {
  name: string;
  title: string;
  description: string;
  toolset: Toolset;
  kind: ToolKind;
  inputSchema: I;
  outputSchema: O;
  handle(args: z.infer<z.ZodObject<I>>, ctx: ToolContext): Promise<ToolResult<z.infer<z.ZodObject<O>>>> | ToolResult<z.infer<z.ZodObject<O>>>;
}

// The registry holds tools of different shapes; each one's types are checked at its definition.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyTool = ToolDefinition<any, any>;

export function defineTool<I extends z.ZodRawShape, O extends z.ZodRawShape>(def: ToolDefinition<I, O>): ToolDefinition<I, O> {
  return def;
}

export function errorResult(message: string): CallToolResult {
  return { content: [{ type: "text", text: message }], isError: true };
}

export function registerTool(server: McpServer, tool: AnyTool, config: Config, services: Services): void {
  server.registerTool(
    tool.name,
    {
      title: tool.title,
      description: tool.description,
      inputSchema: tool.inputSchema,
      outputSchema: tool.outputSchema,
      annotations: annotationsFor(tool.kind, tool.title),
    },
    async (args: Record<string, unknown>, extra: ToolExtra): Promise<CallToolResult> => {
      const started = performance.now();
      const took = () => `${(performance.now() - started).toFixed(1)} ms`;
      try {
        const result = await tool.handle(args, { config, services, extra });
        const text = result.text ?? JSON.stringify(result.structured, null, 2);
        log("debug", `${tool.name}: ok in ${took()}`);
        return { content: [{ type: "text", text }], structuredContent: result.structured as Record<string, unknown> };
      } catch (err) {
        if (err instanceof UserError) {
          log("info", `${tool.name}: refused in ${took()}: ${err.message}`);
          return errorResult(err.message);
        }
        log("error", `tool ${tool.name} failed`, err);
        return errorResult(`${tool.name} failed: ${(err as Error).message ?? String(err)}`);
      }
    },
  );
}
