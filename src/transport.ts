import process from "node:process";
import type { Readable, Writable } from "node:stream";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import {
  CallToolRequestSchema,
  InitializeRequestSchema,
  JSONRPCMessageSchema,
  ListToolsRequestSchema,
  PingRequestSchema,
  SetLevelRequestSchema,
  type JSONRPCMessage,
} from "@modelcontextprotocol/sdk/types.js";

/** Frames larger than this are dropped (and answered with an error), never buffered whole. */
export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024 * 1024;

const PARSE_ERROR = -32700;
const INVALID_REQUEST = -32600;
const INVALID_PARAMS = -32602;
/** Tool names are short; a longer one is refused before the SDK quotes it back ("Tool … not found"). */
const MAX_TOOL_NAME_CHARS = 128;

/**
 * Newline-delimited JSON-RPC over stdin/stdout that survives bad input. The SDK's own stdio
 * transport closes itself when a frame passes 10 MB and says nothing about unparseable lines;
 * a client then waits forever. Here every bad frame gets a JSON-RPC error answer, an oversized
 * frame is skipped to its newline without being kept in memory, and the connection stays up.
 */
export class ResilientStdioTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  private chunks: Buffer[] = [];
  private buffered = 0;
  /** True while skipping the rest of an oversized frame. */
  private discarding = false;
  private started = false;
  private closed = false;

  constructor(
    private readonly stdin: Readable = process.stdin,
    private readonly stdout: Writable = process.stdout,
    private readonly maxFrameBytes = DEFAULT_MAX_FRAME_BYTES,
  ) {}

  private readonly onData = (chunk: Buffer) => {
    let rest = chunk;
    for (;;) {
      const nl = rest.indexOf(0x0a);
      if (nl === -1) {
        this.keep(rest);
        return;
      }
      this.keep(rest.subarray(0, nl));
      rest = rest.subarray(nl + 1);
      this.endFrame();
    }
  };

  private readonly onStreamError = (error: Error) => this.onerror?.(error);
  /** A broken stdout (EPIPE: the client is gone) ends the connection instead of failing every write. */
  private readonly onStdoutError = (error: Error) => {
    this.onerror?.(error);
    void this.close();
  };
  private readonly onEnd = () => void this.close();

  private keep(part: Buffer): void {
    if (this.discarding || part.length === 0) return;
    if (this.buffered + part.length > this.maxFrameBytes) {
      this.chunks = [];
      this.buffered = 0;
      this.discarding = true;
      return;
    }
    this.chunks.push(part);
    this.buffered += part.length;
  }

  private endFrame(): void {
    if (this.discarding) {
      this.discarding = false;
      this.answerError(null, INVALID_REQUEST, `Frame larger than ${this.maxFrameBytes} bytes was dropped; send smaller messages`);
      return;
    }
    const line = Buffer.concat(this.chunks, this.buffered).toString("utf8").replace(/\r$/, "");
    this.chunks = [];
    this.buffered = 0;
    if (line.trim() === "") return;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (err) {
      this.answerError(null, PARSE_ERROR, `Parse error: ${(err as Error).message}`);
      return;
    }
    const parsed = JSONRPCMessageSchema.safeParse(json);
    if (!parsed.success) {
      // Answer with the id when one can be read (JSON-RPC says null otherwise); a malformed
      // *response* from the client is only logged, since answering it could start a loop.
      if (isObject(json) && ("result" in json || "error" in json) && !("method" in json)) {
        this.onerror?.(new Error("ignored a malformed JSON-RPC response from the client"));
        return;
      }
      this.answerError(idOf(json) ?? null, INVALID_REQUEST, "Invalid Request: expected a JSON-RPC 2.0 request ({jsonrpc:\"2.0\", id, method, params})");
      return;
    }
    const problem = paramsProblem(parsed.data);
    if (problem !== undefined) {
      // The SDK would answer these with -32603 and a zod dump; a client needs -32602 and what to send.
      this.answerError(idOf(parsed.data) ?? null, INVALID_PARAMS, problem);
      return;
    }
    try {
      this.onmessage?.(parsed.data);
    } catch (err) {
      this.onerror?.(err as Error);
    }
  }

  private answerError(id: string | number | null, code: number, message: string): void {
    this.write(`${JSON.stringify({ jsonrpc: "2.0", id, error: { code, message } })}\n`).catch(() => {});
  }

  private write(text: string): Promise<void> {
    return new Promise((resolve) => {
      if (this.closed || this.stdout.destroyed || !this.stdout.writable) return resolve();
      if (this.stdout.write(text)) resolve();
      else {
        // A pipe that broke while full never drains: settle on close too.
        const done = () => {
          this.stdout.off("drain", done);
          this.stdout.off("close", done);
          resolve();
        };
        this.stdout.once("drain", done);
        this.stdout.once("close", done);
      }
    });
  }

  async start(): Promise<void> {
    if (this.started) throw new Error("transport already started");
    this.started = true;
    this.stdin.on("data", this.onData);
    this.stdin.on("error", this.onStreamError);
    this.stdin.on("end", this.onEnd);
    this.stdout.on("error", this.onStdoutError);
  }

  send(message: JSONRPCMessage): Promise<void> {
    return this.write(`${JSON.stringify(message)}\n`);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stdin.off("data", this.onData);
    this.stdin.off("error", this.onStreamError);
    this.stdin.off("end", this.onEnd);
    // Keep a listener: a late EPIPE must not become an uncaught exception.
    this.stdout.off("error", this.onStdoutError);
    this.stdout.on("error", () => undefined);
    this.chunks = [];
    this.onclose?.();
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function idOf(v: unknown): string | number | undefined {
  if (!isObject(v)) return undefined;
  const id = v.id;
  return typeof id === "string" || typeof id === "number" ? id : undefined;
}

/** The request schemas of the methods this server answers, which the SDK checks after parsing. */
const PARAM_SCHEMAS: Record<string, { safeParse(v: unknown): { success: boolean; error?: { issues: ReadonlyArray<{ path: PropertyKey[]; message: string }> } } }> = {
  initialize: InitializeRequestSchema,
  ping: PingRequestSchema,
  "tools/list": ListToolsRequestSchema,
  "tools/call": CallToolRequestSchema,
  "logging/setLevel": SetLevelRequestSchema,
};

function kindOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return typeof v === "object" ? "an object" : `a ${typeof v}`;
}

/**
 * One sentence saying what is wrong with a request's params, or undefined when they are fine (or
 * the method is not one checked here). Notifications and responses are left to the SDK.
 */
export function paramsProblem(message: JSONRPCMessage): string | undefined {
  if (!("method" in message) || !("id" in message)) return undefined;
  const method = message.method;
  const params: unknown = (message as { params?: unknown }).params;
  if (method === "tools/call") {
    const call = 'send params {"name": "<tool>", "arguments": {...}}';
    if (!isObject(params)) return `Invalid params for tools/call: params must be an object, not ${kindOf(params)}; ${call}.`;
    const { name, arguments: args } = params;
    if (typeof name !== "string") return `Invalid params for tools/call: params.name must be a string naming a tool (see tools/list), not ${kindOf(name)}; ${call}.`;
    if (name.length > MAX_TOOL_NAME_CHARS) return `Invalid params for tools/call: params.name is ${name.length} characters, and tool names are at most ${MAX_TOOL_NAME_CHARS} (see tools/list).`;
    if (args !== undefined && !isObject(args)) {
      return `Invalid params for tools/call: params.arguments must be an object of the tool's arguments, not ${kindOf(args)}; send {} (or leave it out) for a tool without arguments.`;
    }
  }
  const schema = PARAM_SCHEMAS[method];
  if (!schema) return undefined;
  const parsed = schema.safeParse(message);
  if (parsed.success) return undefined;
  const issues = parsed.error?.issues ?? [];
  const first = issues[0];
  if (!first) return `Invalid params for ${method}.`;
  const where = first.path.map(String).join(".") || "params";
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? "s" : ""})` : "";
  return `Invalid params for ${method}: ${where}: ${first.message.replace(/^Invalid input: /, "").slice(0, 200)}${more}.`;
}
