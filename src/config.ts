import { createHash } from "node:crypto";
import { realpathSync } from "node:fs";
import { homedir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";

export const TOOLSETS = ["memory", "terminal", "harness", "train"] as const;
export type Toolset = (typeof TOOLSETS)[number];

export interface LlmConfig {
  baseURL: string;
  apiKey: string;
  model: string;
}

export interface Config {
  /** Data directory: experience.db, trails/, training/. Created with mode 0700. */
  home: string;
  /**
   * tmux socket name (`tmux -L`), so the server never touches the user's own sessions; by default
   * derived from the data directory, so servers on different data directories never share sessions.
   */
  tmuxSocket: string;
  /** The tmux binary (default: `tmux` on PATH). */
  tmuxBin: string;
  toolsets: ReadonlySet<Toolset>;
  readOnly: boolean;
  /** Undefined when no endpoint is configured: nothing then leaves the machine. */
  llm?: LlmConfig;
  limits: {
    /** Largest `text`/`error`/`value` accepted by a tool, in characters. */
    maxTextChars: number;
    /** Default size of a rendered result. */
    maxResultChars: number;
  };
}

export interface ConfigOverrides {
  home?: string;
  tmuxSocket?: string;
  tmuxBin?: string;
  toolsets?: readonly string[];
  readOnly?: boolean;
}

export function parseToolsets(list: readonly string[] | undefined): Set<Toolset> {
  if (!list || list.length === 0 || (list.length === 1 && list[0] === "all")) return new Set(TOOLSETS);
  const out = new Set<Toolset>();
  for (const raw of list) {
    const name = raw.trim();
    if (!name) continue;
    if (name === "all") return new Set(TOOLSETS);
    if (!(TOOLSETS as readonly string[]).includes(name)) {
      throw new Error(`Unknown toolset "${name}": choose from ${TOOLSETS.join(", ")} (or "all")`);
    }
    out.add(name as Toolset);
  }
  return out;
}

function llmFromEnv(env: NodeJS.ProcessEnv): LlmConfig | undefined {
  // The standard OPENAI_* names win; the seed's LLM_* names keep old setups working.
  const baseURL = env.OPENAI_BASE_URL || env.LLM_BASE_URL;
  const apiKey = env.OPENAI_API_KEY || env.LLM_API_KEY;
  const model = env.EXPERIENCE_MCP_MODEL || env.LLM_MODEL || env.OPENAI_MODEL;
  if (!baseURL && !apiKey) return undefined;
  return {
    baseURL: baseURL || "https://api.openai.com/v1",
    apiKey: apiKey || "not-needed",
    model: model || "gpt-4o-mini",
  };
}

/**
 * `experience-mcp-<10 hex>`: a short hash of the data directory's real path. A directory not
 * created yet is resolved through its nearest existing parent, so the name stays the same once it is.
 */
export function socketForHome(home: string): string {
  let real = resolve(home);
  for (let dir = real, rest = ""; ; ) {
    try {
      real = join(realpathSync(dir), rest);
      break;
    } catch {
      const parent = dirname(dir);
      if (parent === dir) break;
      rest = join(basename(dir), rest);
      dir = parent;
    }
  }
  return `experience-mcp-${createHash("sha256").update(real).digest("hex").slice(0, 10)}`;
}

export function loadConfig(overrides: ConfigOverrides = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const home = resolve(overrides.home ?? env.EXPERIENCE_MCP_HOME ?? join(homedir(), ".experience-mcp"));
  const toolsetList = overrides.toolsets ?? (env.EXPERIENCE_MCP_TOOLSETS ? env.EXPERIENCE_MCP_TOOLSETS.split(",") : undefined);
  return {
    home,
    tmuxSocket: overrides.tmuxSocket ?? (env.EXPERIENCE_MCP_TMUX_SOCKET || socketForHome(home)),
    tmuxBin: overrides.tmuxBin ?? (env.EXPERIENCE_MCP_TMUX || "tmux"),
    toolsets: parseToolsets(toolsetList),
    readOnly: overrides.readOnly ?? env.EXPERIENCE_MCP_READ_ONLY === "1",
    llm: llmFromEnv(env),
    limits: {
      maxTextChars: 100_000,
      maxResultChars: 20_000,
    },
  };
}
