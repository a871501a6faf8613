/**
 * `install-hooks` / `uninstall-hooks`: merge our hook entries into a Claude Code settings file, or
 * take them out again. What is already there is kept as it is; our entries are recognised by their
 * command (`… cli.js hook` or `experience-mcp hook`), so installing twice changes nothing and
 * uninstalling removes only ours.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

type Json = Record<string, unknown>;

interface HookEntry {
  type: "command";
  command: string;
  timeout?: number;
}

interface MatcherGroup {
  matcher?: string;
  hooks: HookEntry[];
}

/** Which events we listen to, and for which tools. */
export const OUR_EVENTS: ReadonlyArray<{ event: string; matcher?: string }> = [
  { event: "PostToolUseFailure", matcher: "Bash" },
  // Successful commands and edits are the steps of a fix; a success of the failed command closes it.
  { event: "PostToolUse", matcher: "Bash|Edit|Write|MultiEdit|NotebookEdit" },
  { event: "SessionStart" },
];

/** Seconds Claude Code waits for us; we answer in milliseconds, this only bounds a stuck disk. */
const TIMEOUT_S = 10;

const OURS = /(?:experience-mcp|cli\.js)['"]?\s+hook\s*$/;
const DEFAULT_HOME = () => resolve(homedir(), ".experience-mcp");

export function isOurCommand(command: unknown): boolean {
  return typeof command === "string" && OURS.test(command.trim());
}

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * V8 flags for the hook process. --no-regexp-tier-up compiles each regular expression to machine
 * code at once instead of interpreting it first: the error normalizer's large expressions cost a
 * one-shot process ~10 ms less. (A flag, not v8.setFlagsFromString: flipping it at run time crashes
 * V8 on an expression already interpreted.) scripts/bundle.mjs makes the hook's code cache under
 * the same flags, since V8 accepts a cache only under the flags it was made with.
 */
export const HOOK_NODE_FLAGS = ["--no-regexp-tier-up"] as const;

/**
 * `node --no-regexp-tier-up /abs/dist/cjs/cli.js hook`, with this node and this build. dist/cjs/cli.js
 * is the CommonJS twin of the bin dist/cli.js: Node starts it without its ESM loader (~10 ms).
 * A data directory other than the default is written in front (`EXPERIENCE_MCP_HOME=… node …`),
 * or the hooks would read and write another store than the server installing them.
 */
export function defaultHookCommand(env: NodeJS.ProcessEnv = process.env): string {
  const cli = fileURLToPath(new URL("../cjs/cli.js", import.meta.url));
  const command = [process.execPath, ...HOOK_NODE_FLAGS, cli, "hook"].map(shellQuote).join(" ");
  const home = env.EXPERIENCE_MCP_HOME ? resolve(env.EXPERIENCE_MCP_HOME) : undefined;
  return home && home !== DEFAULT_HOME() ? `EXPERIENCE_MCP_HOME=${shellQuote(home)} ${command}` : command;
}

function asObject(v: unknown): Json | undefined {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Json) : undefined;
}

/** Remove our entries from one event's groups; drop groups left empty by that (and only those). */
function withoutOurs(groups: unknown[]): unknown[] {
  const out: unknown[] = [];
  for (const g of groups) {
    const group = asObject(g);
    const hooks = group && Array.isArray(group.hooks) ? (group.hooks as unknown[]) : undefined;
    if (!group || !hooks) {
      out.push(g);
      continue;
    }
    const kept = hooks.filter((h) => !isOurCommand(asObject(h)?.command));
    if (kept.length === hooks.length) out.push(g);
    else if (kept.length > 0) out.push({ ...group, hooks: kept });
  }
  return out;
}

export function mergeHooks(settings: Json, command: string): Json {
  const hooks = { ...(asObject(settings.hooks) ?? {}) };
  for (const { event, matcher } of OUR_EVENTS) {
    const groups = Array.isArray(hooks[event]) ? withoutOurs(hooks[event] as unknown[]) : [];
    const ours: MatcherGroup = { ...(matcher ? { matcher } : {}), hooks: [{ type: "command", command, timeout: TIMEOUT_S }] };
    hooks[event] = [...groups, ours];
  }
  return { ...settings, hooks };
}

export function removeHooks(settings: Json): Json {
  const current = asObject(settings.hooks);
  if (!current) return settings;
  const hooks: Json = {};
  for (const [event, groups] of Object.entries(current)) {
    if (!Array.isArray(groups)) {
      hooks[event] = groups;
      continue;
    }
    const kept = withoutOurs(groups);
    if (kept.length > 0 || groups.length === 0) hooks[event] = kept;
  }
  const out = { ...settings };
  if (Object.keys(hooks).length > 0) out.hooks = hooks;
  else delete out.hooks;
  return out;
}

/** A line diff (longest common subsequence), `-`/`+`/` ` prefixed: settings files are small. */
export function lineDiff(before: string, after: string): string {
  const a = before === "" ? [] : before.split("\n");
  const b = after.split("\n");
  const n = a.length;
  const m = b.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      out.push(`  ${a[i]}`);
      i++;
      j++;
    } else if (j < m && (i >= n || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) {
      out.push(`+ ${b[j]}`);
      j++;
    } else {
      out.push(`- ${a[i]}`);
      i++;
    }
  }
  return out.join("\n");
}

function settingsPath(values: { project?: boolean; user?: boolean; settings?: string }): string {
  if (values.settings) return resolve(values.settings);
  if (values.project && values.user) throw new Error("choose one of --project and --user");
  if (values.project) return join(process.cwd(), ".claude", "settings.json");
  return join(homedir(), ".claude", "settings.json");
}

function readSettings(file: string): { text: string; settings: Json } {
  if (!existsSync(file)) return { text: "", settings: {} };
  const text = readFileSync(file, "utf8");
  if (text.trim() === "") return { text, settings: {} };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file} is not valid JSON (${(err as Error).message}); fix it by hand first, nothing was changed`);
  }
  const settings = asObject(parsed);
  if (!settings) throw new Error(`${file} does not hold a JSON object; nothing was changed`);
  return { text, settings };
}

function writeAtomic(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

function settingsCommand(mode: "install" | "uninstall") {
  return async (argv: string[]): Promise<number> => {
    const { values } = parseArgs({
      args: argv,
      options: {
        project: { type: "boolean" },
        user: { type: "boolean" },
        settings: { type: "string" },
        "dry-run": { type: "boolean" },
        command: { type: "string" },
      },
      strict: true,
    });
    const file = settingsPath(values);
    const { text, settings } = readSettings(file);
    const next = mode === "install" ? mergeHooks(settings, values.command ?? defaultHookCommand()) : removeHooks(settings);
    const nextText = `${JSON.stringify(next, null, 2)}\n`;
    const changed = JSON.stringify(next) !== JSON.stringify(settings) || (mode === "install" && text === "");
    if (values["dry-run"]) {
      process.stdout.write(`--- ${file}\n+++ ${file} (after ${mode}-hooks)\n`);
      process.stdout.write(changed ? `${lineDiff(text.trimEnd(), nextText.trimEnd())}\n` : "(no change)\n");
      return 0;
    }
    if (changed) writeAtomic(file, nextText);
    process.stdout.write(`${JSON.stringify({ settings: file, changed, events: OUR_EVENTS.map((e) => e.event) })}\n`);
    return 0;
  };
}

export const installHooksCommand = settingsCommand("install");
export const uninstallHooksCommand = settingsCommand("uninstall");
