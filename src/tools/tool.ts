import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { RequestHandlerExtra } from "@modelcontextprotocol/sdk/shared/protocol.js";
import type { CallToolResult, ServerNotification, ServerRequest, ToolAnnotations } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import type { Config, Toolset } from "../config.js";
import { damagedReason, damagedSentence, isCorruption, markDamaged } from "../storage/db.js";
import { faultSentence, firstLine } from "../faults.js";
import { HarnessInputError } from "../harness/loop.js";
import { ModuleError } from "../harness/modules.js";
import { SinceError } from "../harvest/harvest.js";
import { RollbackError } from "../experience/store.js";
import { MAX_ECHO_CHARS } from "../limits.js";
import { log } from "../log.js";
import { FixInputError, FixNotFoundError } from "../registry/registry.js";
import type { Services } from "../services.js";
import { TerminalError } from "../tmux/errors.js";
import { resourceUri, type ResourceLink } from "../resources/uris.js";

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

/**
 * The domain's errors that are the caller's to fix, each with a message that says how: they answer
 * as a UserError does, here once, rather than in a try/catch in every tool.
 */
const CALLER_ERRORS: ReadonlyArray<new (...args: never[]) => Error> = [
  UserError,
  TerminalError,
  HarnessInputError,
  ModuleError,
  RollbackError,
  SinceError,
  FixInputError,
  FixNotFoundError,
];

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
  /** Resources the call touched: the result links to them, and their subscribers hear of it. */
  links?: readonly ResourceLink[];
}

export interface ToolDefinition<I extends z.ZodRawShape, O extends z.ZodRawShape> {
  name: string;
  title: string;
  description: string;
  toolset: Toolset;
  kind: ToolKind;
  inputSchema: I;
  outputSchema: O;
  /** The `ui://` resource of an MCP App that shows this tool's result (the MCP Apps extension). */
  ui?: string;
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
      // MCP Apps: `ui.resourceUri`, and the older flat key that hosts before it read.
      ...(tool.ui ? { _meta: { ui: { resourceUri: tool.ui }, "ui/resourceUri": tool.ui } } : {}),
    },
    async (args: Record<string, unknown>, extra: ToolExtra): Promise<CallToolResult> => {
      const started = performance.now();
      const took = () => `${(performance.now() - started).toFixed(1)} ms`;
      try {
        // A database found damaged (by any process) gets no more writes.
        if ((tool.kind === "write" || tool.kind === "destructive") && !config.readOnly) {
          const damaged = damagedReason(config.home);
          if (damaged !== undefined) throw new UserError(damagedSentence(config.home, `found damaged earlier: ${damaged}`));
        }
        const result = await tool.handle(args, { config, services, extra });
        if (tool.kind === "write" || tool.kind === "destructive") services.wrote();
        const text = result.text ?? JSON.stringify(result.structured, null, 2);
        log("debug", `${tool.name}: ok in ${took()}`);
        const links = (result.links ?? []).map((l) => ({ type: "resource_link" as const, uri: resourceUri(l.kind, l.name), name: `${l.kind} ${l.name}` }));
        for (const l of links) services.touched(l.uri);
        return { content: [{ type: "text", text }, ...links], structuredContent: result.structured as Record<string, unknown> };
      } catch (err) {
        return errorResult(excerptInputs(failureMessage(tool, err, config, services, took), args));
      }
    },
  );
}

/** The one place a tool's failure becomes the caller's sentence (and, for a bug, a log entry). */
function failureMessage(tool: AnyTool, err: unknown, config: Config, services: Services, took: () => string): string {
  if (CALLER_ERRORS.some((c) => err instanceof c)) {
    const message = (err as Error).message;
    log("info", `${tool.name}: refused in ${took()}: ${message}`);
    return message;
  }
  if (isCorruption(err)) markDamaged(config.home, firstLine(err), services.openDb);
  // Already the sentence the user needs (opening the store: a file in the way, a read-only directory).
  if ((err as Error)?.name === "StoreError") return (err as Error).message;
  const fault = faultSentence(err, config.home);
  if (fault) {
    log("warn", `${tool.name}: ${fault}`);
    return fault;
  }
  log("error", `tool ${tool.name} failed`, err);
  return `${tool.name} failed: ${firstLine(err)}`;
}

/** Longest error message returned; the log keeps the whole. */
const MAX_ERROR_CHARS = 2000;

/**
 * Quote at most an excerpt of any input in an error: a 50 MB cwd once came back whole in a
 * "not a directory" message. Each long input string found in the message is cut to its start.
 */
export function excerptInputs(message: string, args: unknown): string {
  const long: string[] = [];
  const visit = (v: unknown, depth: number) => {
    if (long.length >= 1000 || depth > 8) return;
    if (typeof v === "string") {
      if (v.length > MAX_ECHO_CHARS) long.push(v);
    } else if (Array.isArray(v)) {
      for (const x of v) visit(x, depth + 1);
    } else if (v && typeof v === "object") {
      for (const x of Object.values(v)) visit(x, depth + 1);
    }
  };
  visit(args, 0);
  let out = message;
  for (const s of long.sort((a, b) => b.length - a.length)) {
    const cut = `${s.slice(0, MAX_ECHO_CHARS)}… (${s.length} characters)`;
    out = out.split(s).join(cut);
    const escaped = JSON.stringify(s).slice(1, -1);
    if (escaped !== s) out = out.split(escaped).join(JSON.stringify(cut).slice(1, -1));
  }
  return out.length > MAX_ERROR_CHARS ? `${out.slice(0, MAX_ERROR_CHARS)}… (message cut)` : out;
}
