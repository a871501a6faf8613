import { createRequire } from "node:module";
import { realpathSync } from "node:fs";
import { homedir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { MAX_TEXT_CHARS } from "./limits.js";

/**
 * Every EXPERIENCE_MCP_* variable is read here and nowhere else. This module stays free of zod on
 * purpose: the Claude Code hook loads it once per tool call and must start in a few milliseconds,
 * so each value is checked by a small typed parser that names the variable in its error.
 */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Settings {
  logLevel: LogLevel;
  /** Whether train_model may start a detached worker (EXPERIENCE_MCP_TRAIN_WORKER=off: no). */
  trainWorker: boolean;
  /** Whether the experience backend asks the LLM to propose rows. */
  trainLlm: boolean;
  trainPollMs: number;
  trainTimeoutS: number;
  trainCommand?: string;
  trainCommandTimeoutS: number;
  /** Test knob: a worker holds its claim this long before training (kill -9 tests). */
  trainHoldMs: number;
  bootstrapTokens: number;
  /** The team hub, a postgres:// URL (issue 12); with team, turns sync on. */
  hubUrl?: string;
  /** The team whose ops this machine pushes and pulls. */
  team?: string;
  /** The server's fallback pull when no NOTIFY came (s). */
  syncIntervalS: number;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

type Parse<T> = (raw: string, name: string) => T;
const onOff: Parse<boolean> = (raw, name) => {
  const v = raw.trim().toLowerCase();
  if (["on", "1", "true", "yes"].includes(v)) return true;
  if (["off", "0", "false", "no"].includes(v)) return false;
  throw new ConfigError(`${name} must be on or off, not ${JSON.stringify(raw.slice(0, 40))}`);
};
const count =
  (min: number): Parse<number> =>
  (raw, name) => {
    const n = Number(raw.trim());
    if (!Number.isInteger(n) || n < min) throw new ConfigError(`${name} must be a whole number ≥ ${min}, not ${JSON.stringify(raw.slice(0, 40))}`);
    return n;
  };
const level: Parse<LogLevel> = (raw, name) => {
  const v = raw.trim().toLowerCase();
  if ((LOG_LEVELS as readonly string[]).includes(v)) return v as LogLevel;
  throw new ConfigError(`${name} must be one of ${LOG_LEVELS.join(", ")}, not ${JSON.stringify(raw.slice(0, 40))}`);
};
const text: Parse<string> = (raw) => raw;
// Never echoes the value: it may hold the hub's password.
const hubUrl: Parse<string> = (raw, name) => {
  const v = raw.trim();
  if (!/^postgres(ql)?:\/\/\S+$/.test(v)) throw new ConfigError(`${name} must be a postgres:// URL (postgres://user:password@host:5432/database)`);
  return v;
};
/** A team name becomes part of a PostgreSQL role name: lowercase letters, digits and _. */
export const TEAM_NAME = /^[a-z][a-z0-9_]{0,39}$/;
const team: Parse<string> = (raw, name) => {
  const v = raw.trim();
  if (!TEAM_NAME.test(v)) throw new ConfigError(`${name} must be 1-40 lowercase letters, digits or _, starting with a letter, not ${JSON.stringify(raw.slice(0, 40))}`);
  return v;
};

interface EnvVar<K extends keyof Settings> {
  name: string;
  key: K;
  parse: Parse<NonNullable<Settings[K]>>;
  fallback: Settings[K];
  meaning: string;
}
const v = <K extends keyof Settings>(name: string, key: K, parse: Parse<NonNullable<Settings[K]>>, fallback: Settings[K], meaning: string): EnvVar<K> => ({
  name,
  key,
  parse,
  fallback,
  meaning,
});

/** The table behind `--help` and the README's configuration section. */
export const SETTINGS_ENV = [
  v("EXPERIENCE_MCP_LOG", "logLevel", level, "warn", "stderr log level: debug, info, warn or error"),
  v("EXPERIENCE_MCP_TRAIN_WORKER", "trainWorker", onOff, true, "off: train_model does not start a worker (run train-worker yourself)"),
  v("EXPERIENCE_MCP_TRAIN_LLM", "trainLlm", onOff, true, "off: training does not ask the LLM to propose rows"),
  v("EXPERIENCE_MCP_TRAIN_POLL_MS", "trainPollMs", count(1), 15_000, "how often the openai backend polls its job (ms)"),
  v("EXPERIENCE_MCP_TRAIN_TIMEOUT_S", "trainTimeoutS", count(1), 6 * 3600, "when the openai backend gives up on its job (s)"),
  v("EXPERIENCE_MCP_TRAIN_COMMAND", "trainCommand", text, undefined, "the command backend's training program"),
  v("EXPERIENCE_MCP_TRAIN_COMMAND_TIMEOUT_S", "trainCommandTimeoutS", count(1), 3600, "when the command backend's program is stopped (s)"),
  v("EXPERIENCE_MCP_TRAIN_HOLD_MS", "trainHoldMs", count(0), 0, "testing only: a worker waits this long after claiming a request"),
  v("EXPERIENCE_MCP_BOOTSTRAP_TOKENS", "bootstrapTokens", count(0), 2000, "the hook's session-start budget in tokens (0 = off)"),
  v("EXPERIENCE_MCP_HUB", "hubUrl", hubUrl, undefined, "the team hub, a postgres:// URL; with EXPERIENCE_MCP_TEAM, the server and `experience-mcp sync` share fixes (docs/team.md)"),
  v("EXPERIENCE_MCP_TEAM", "team", team, undefined, "the team this machine syncs with on the hub"),
  v("EXPERIENCE_MCP_SYNC_INTERVAL_S", "syncIntervalS", count(1), 30, "with a hub: how often the server pulls when no notification came (s)"),
] as const;

/** The log level, never throwing: a bad value falls back to warn (loadConfig reports it). */
export function logLevelOf(env: NodeJS.ProcessEnv): LogLevel {
  const raw = (env.EXPERIENCE_MCP_LOG ?? "").trim().toLowerCase();
  return (LOG_LEVELS as readonly string[]).includes(raw) ? (raw as LogLevel) : "warn";
}

/** Read and check every setting; a bad value is a ConfigError naming the variable. */
export function readSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const out: Record<string, unknown> = {};
  for (const s of SETTINGS_ENV) {
    const raw = env[s.name];
    out[s.key] = raw === undefined || raw.trim() === "" ? s.fallback : (s.parse as Parse<unknown>)(raw, s.name);
  }
  return out as unknown as Settings;
}

/** Where a data directory keeps its terminal trail (a git repository): the one definition. */
export function trailsDir(home: string): string {
  return join(home, "trails");
}

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
  settings: Settings;
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

/**
 * The LLM is on only when the user named it for us: an endpoint (OPENAI_BASE_URL / LLM_BASE_URL),
 * or a model (EXPERIENCE_MCP_MODEL / LLM_MODEL) with a key. An OPENAI_API_KEY exported for other
 * programs alone does not turn it on: terminal screens and tasks would start leaving the machine
 * without anyone asking for it.
 */
export function llmFromEnv(env: NodeJS.ProcessEnv): LlmConfig | undefined {
  // The standard OPENAI_* names win; the seed's LLM_* names keep old setups working.
  const baseURL = env.OPENAI_BASE_URL || env.LLM_BASE_URL;
  const apiKey = env.OPENAI_API_KEY || env.LLM_API_KEY;
  const namedModel = env.EXPERIENCE_MCP_MODEL || env.LLM_MODEL;
  if (!baseURL && !(apiKey && namedModel)) return undefined;
  return {
    baseURL: baseURL || "https://api.openai.com/v1",
    apiKey: apiKey || "not-needed",
    model: namedModel || env.OPENAI_MODEL || "gpt-4o-mini",
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
  // Required here, not imported: the hook loads this module on every tool call and needs no socket.
  const { createHash } = createRequire(import.meta.url)("node:crypto") as typeof import("node:crypto");
  return `experience-mcp-${createHash("sha256").update(real).digest("hex").slice(0, 10)}`;
}

export function loadConfig(overrides: ConfigOverrides = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const home = resolve(overrides.home ?? env.EXPERIENCE_MCP_HOME ?? join(homedir(), ".experience-mcp"));
  let socket: string | undefined;
  const toolsetList = overrides.toolsets ?? (env.EXPERIENCE_MCP_TOOLSETS ? env.EXPERIENCE_MCP_TOOLSETS.split(",") : undefined);
  return {
    home,
    // Computed on first use (realpath + a hash): the hook process never needs it.
    get tmuxSocket(): string {
      socket ??= overrides.tmuxSocket ?? (env.EXPERIENCE_MCP_TMUX_SOCKET || socketForHome(home));
      return socket;
    },
    tmuxBin: overrides.tmuxBin ?? (env.EXPERIENCE_MCP_TMUX || "tmux"),
    toolsets: parseToolsets(toolsetList),
    readOnly: overrides.readOnly ?? env.EXPERIENCE_MCP_READ_ONLY === "1",
    llm: llmFromEnv(env),
    settings: readSettings(env),
    limits: {
      maxTextChars: MAX_TEXT_CHARS,
      maxResultChars: 20_000,
    },
  };
}
