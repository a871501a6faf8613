import process from "node:process";
import type { Readable, Writable } from "node:stream";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { JSONRPCMessageSchema, type JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";

/** Frames larger than this are dropped (and answered with an error), never buffered whole. */
export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024 * 1024;

const PARSE_ERROR = -32700;
const INVALID_REQUEST = -32600;

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
      if (this.closed) return resolve();
      if (this.stdout.write(text)) resolve();
      else this.stdout.once("drain", resolve);
    });
  }

  async start(): Promise<void> {
    if (this.started) throw new Error("transport already started");
    this.started = true;
    this.stdin.on("data", this.onData);
    this.stdin.on("error", this.onStreamError);
    this.stdin.on("end", this.onEnd);
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
