import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { loadConfig, type Config, type ConfigOverrides } from "../src/config.js";
import { createServer, type ExperienceServer } from "../src/server.js";

import { tempHome } from "./temp.js";

export { tempHome };

export interface Connected {
  client: Client;
  app: ExperienceServer;
  config: Config;
  home: string;
  /** Call a tool and return its raw result (isError results are returned, not thrown). */
  call(name: string, args?: Record<string, unknown>): Promise<CallToolResult>;
  /** Call a tool that must succeed and return its structuredContent. */
  ok<T = Record<string, unknown>>(name: string, args?: Record<string, unknown>): Promise<T>;
  close(): Promise<void>;
}

/** Start a real server in this process and connect the SDK's Client over an in-memory transport. */
export async function connect(overrides: ConfigOverrides = {}, env: NodeJS.ProcessEnv = {}): Promise<Connected> {
  const ownHome = overrides.home ? undefined : tempHome();
  const home = overrides.home ?? ownHome!.home;
  const config = loadConfig({ tmuxSocket: `xmcp-test-${process.pid}`, ...overrides, home }, env);
  const app = createServer(config);
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: "experience-mcp-test", version: "1.0.0" });
  await Promise.all([app.server.connect(serverSide), client.connect(clientSide)]);
  const call = async (name: string, args: Record<string, unknown> = {}) =>
    (await client.callTool({ name, arguments: args })) as CallToolResult;
  return {
    client,
    app,
    config,
    home,
    call,
    async ok<T>(name: string, args: Record<string, unknown> = {}) {
      const result = await call(name, args);
      if (result.isError) {
        const text = result.content.map((c) => (c.type === "text" ? c.text : "")).join("\n");
        throw new Error(`${name} returned isError: ${text}`);
      }
      return result.structuredContent as T;
    },
    async close() {
      await client.close();
      await app.close();
      ownHome?.cleanup();
    },
  };
}

/** The text of a tool result (for error-message assertions). */
export function textOf(result: CallToolResult): string {
  return result.content.map((c) => (c.type === "text" ? c.text : "")).join("\n");
}

type Row = { key: string; value: string };
const TYPE_THEN_RUN: Row[] = [
  { key: "state: emptyprompt", value: "text:type the shell command that does the task" },
  { key: "state: typedcommand", value: "ctrl:run" },
];

/**
 * A harness module in $EXPERIENCE_MCP_HOME/modules/<name>.json with only the rows given: by default
 * its decisions type a command then run it with Enter ("ctrl: run").
 */
export function writeModule(home: string, name: string, command: Row[], decision: Row[] = TYPE_THEN_RUN): void {
  mkdirSync(join(home, "modules"), { recursive: true });
  const seed = { decision, command: [...command, { key: "ctrl: run", value: "Enter" }] };
  writeFileSync(join(home, "modules", `${name}.json`), JSON.stringify({ name, decision_tensor: `${name}/decision`, command_tensor: `${name}/command`, seed }));
}
