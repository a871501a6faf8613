import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

/** The built CLI (npm test builds it first): tests that spawn exercise exactly what ships. */
export const CLI = fileURLToPath(new URL("../../dist/cli.js", import.meta.url));

export function serverEnv(home: string, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  // A developer's own LLM settings must not reach the servers and workers the tests start (no
  // network, deterministic results): a test that wants an LLM passes its loopback one in `extra`.
  const llmVar = /^(OPENAI_|LLM_)|^EXPERIENCE_MCP_MODEL$/;
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !llmVar.test(k)) env[k] = v;
  return { ...env, EXPERIENCE_MCP_HOME: home, EXPERIENCE_MCP_TMUX_SOCKET: `xmcp-spawn-${process.pid}`, ...extra };
}

/** Spawn `experience-mcp` and connect the SDK's stdio Client to it. */
export async function spawnClient(
  home: string,
  args: string[] = [],
  extraEnv: Record<string, string> = {},
): Promise<{ client: Client; transport: StdioClientTransport; stderr: () => string }> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [CLI, ...args], env: serverEnv(home, extraEnv), stderr: "pipe" });
  let err = "";
  transport.stderr?.on("data", (d: Buffer) => (err += d.toString()));
  const client = new Client({ name: "spawn-test", version: "1.0.0" });
  await client.connect(transport);
  return { client, transport, stderr: () => err };
}

export interface RpcMessage {
  jsonrpc: "2.0";
  id?: string | number | null;
  result?: Record<string, unknown>;
  error?: { code: number; message: string };
  method?: string;
}

/**
 * A raw newline-delimited JSON-RPC peer over the server's real stdin/stdout, for tests that send
 * what no SDK client would (broken frames, kill -9 mid-stream). Every stdout line must be JSON.
 */
export class RawServer {
  readonly child: ChildProcessWithoutNullStreams;
  readonly messages: RpcMessage[] = [];
  /** stdout lines that were not JSON-RPC: must stay empty. */
  readonly junk: string[] = [];
  stderr = "";
  private pending = "";
  private waiters: Array<() => void> = [];

  constructor(home: string, args: string[] = []) {
    this.child = spawn(process.execPath, [CLI, ...args], { env: serverEnv(home), stdio: ["pipe", "pipe", "pipe"] });
    this.child.stdout.on("data", (d: Buffer) => {
      this.pending += d.toString("utf8");
      let nl: number;
      while ((nl = this.pending.indexOf("\n")) !== -1) {
        const line = this.pending.slice(0, nl);
        this.pending = this.pending.slice(nl + 1);
        try {
          const msg = JSON.parse(line) as RpcMessage;
          if (msg.jsonrpc !== "2.0") this.junk.push(line);
          else this.messages.push(msg);
        } catch {
          this.junk.push(line);
        }
      }
      for (const w of this.waiters.splice(0)) w();
    });
    this.child.stderr.on("data", (d: Buffer) => (this.stderr += d.toString()));
    this.child.stdin.on("error", () => {}); // the process may be killed under us
  }

  /** Resolves once the frame is handed to the pipe, or at once if the server is gone. */
  write(raw: string | Buffer): Promise<void> {
    return new Promise((resolve) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null || this.child.stdin.destroyed) return resolve();
      if (this.child.stdin.write(raw)) return resolve();
      const done = () => {
        this.child.stdin.off("drain", done);
        this.child.off("exit", done);
        resolve();
      };
      this.child.stdin.once("drain", done);
      this.child.once("exit", done);
    });
  }

  send(msg: Record<string, unknown>): Promise<void> {
    return this.write(`${JSON.stringify({ jsonrpc: "2.0", ...msg })}\n`);
  }

  /** Resolve when `predicate` holds over the messages received so far. */
  async until(predicate: (messages: RpcMessage[]) => boolean, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.messages)) {
      if (this.child.exitCode !== null || this.child.signalCode !== null) throw new Error(`server exited (${this.child.exitCode ?? this.child.signalCode}); stderr: ${this.stderr.slice(-2000)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting; got ${this.messages.length} messages; stderr: ${this.stderr.slice(-2000)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 1000));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  response(id: string | number): RpcMessage | undefined {
    return this.messages.find((m) => m.id === id && (m.result !== undefined || m.error !== undefined));
  }

  async initialize(): Promise<void> {
    await this.send({ id: "init", method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } } });
    await this.until(() => this.response("init") !== undefined);
    await this.send({ method: "notifications/initialized" });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.stdin.end();
    const t = setTimeout(() => this.child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(t);
  }
}

/** Run `command` through `sh -c` (as Claude Code runs a hook) with `input` on stdin; collect both outputs. */
export function runShell(command: string, env: Record<string, string>, input: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("sh", ["-c", command], { env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}
