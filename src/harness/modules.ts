/**
 * Harness modules. A module is a small JSON or YAML document:
 *
 *   name: coder
 *   description: …
 *   decision_tensor: coder/decision     # observation + task  ->  "text:<hint>" | "ctrl:<hint>"
 *   command_tensor: coder/command       # "<prefix>: <hint>" + task  ->  a command line | key names
 *   validator: {kind: idle}             # default when run_harness is given none
 *   seed:                               # rows put into the tensors on first use (idempotent)
 *     decision: [{query, key, value}]
 *     command:  [{query, key, value}]
 *
 * The built-in `coder` is defined below; others are read from `$EXPERIENCE_MCP_HOME/modules/<name>.{json,yaml,yml}`.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { NAME_PATTERN, TENSOR_PATTERN } from "../names.js";
import type { ExperienceStore } from "../experience/store.js";

export const validatorSpecSchema = z.object({
  kind: z.enum(["idle", "regex", "command"]).describe("idle: the command finished and the prompt is back; regex: pattern matches the screen; command: a check command exits 0"),
  pattern: z.string().max(2000).optional().describe("regex only: a JavaScript regular expression, matched per line (flag m) against the screen"),
  command: z.string().max(4000).optional().describe("command only: a shell command run with bash -c in the session's working directory; exit 0 = pass"),
  timeout_s: z.number().min(1).max(120).optional().describe("command only: how long the check may run (default 20 s)"),
});
export type ValidatorSpec = z.infer<typeof validatorSpecSchema>;

const seedRowSchema = z.object({
  query: z.string().max(2000).default(""),
  key: z.string().min(1).max(4000),
  value: z.string().min(1).max(4000),
});

export const moduleSchema = z.object({
  name: z.string().regex(NAME_PATTERN, "module name: 1-64 characters from A-Z a-z 0-9 _ -"),
  description: z.string().max(2000).default(""),
  decision_tensor: z.string().regex(TENSOR_PATTERN, "decision_tensor: NAME or NAMESPACE/NAME"),
  command_tensor: z.string().regex(TENSOR_PATTERN, "command_tensor: NAME or NAMESPACE/NAME"),
  validator: validatorSpecSchema.default({ kind: "idle" }),
  seed: z
    .object({
      decision: z.array(seedRowSchema).default([]),
      command: z.array(seedRowSchema).default([]),
    })
    .default({ decision: [], command: [] }),
});
export type HarnessModule = z.infer<typeof moduleSchema>;

/**
 * The observation codes the loop writes into the decision input (`state: <code>`). One token
 * each, so retrieval tells them apart whatever else the screen and task contain.
 */
export const STATES = {
  emptyPrompt: "emptyprompt",
  typedCommand: "typedcommand",
  running: "runningprogram",
  noPrompt: "noprompt",
} as const;

const TEXT_HINT = "type the shell command that does the task";
const text = (task: string, value: string) => ({ query: "", key: `text: ${TEXT_HINT}\ntask: ${task}`, value });

/**
 * The built-in coder: drives a bash prompt. In command rows, `{1}`, `{2}` stand for the task's
 * quoted words in order (see slots.ts `parameterize`): `write "hi" to a file named "a.txt"`
 * is retrieved as `write "{1}" to a file named "{2}"` and `printf '%s\n' {1} > {2}` is filled in.
 */
export const CODER: HarnessModule = moduleSchema.parse({
  name: "coder",
  description: "Types shell commands at a bash prompt and runs them; tasks are plain English, quoted words are parameters.",
  decision_tensor: "coder/decision",
  command_tensor: "coder/command",
  validator: { kind: "idle" },
  seed: {
    decision: [
      { query: "", key: `state: ${STATES.emptyPrompt}`, value: `text:${TEXT_HINT}` },
      { query: "", key: `state: ${STATES.typedCommand}`, value: "ctrl:press Enter to run the typed command" },
      { query: "", key: `state: ${STATES.running}`, value: "ctrl:interrupt the running program" },
      { query: "", key: `state: ${STATES.noPrompt}`, value: "ctrl:interrupt the running program" },
    ],
    command: [
      { query: "", key: "ctrl: press Enter to run the typed command", value: "Enter" },
      { query: "", key: "ctrl: interrupt the running program", value: "C-c" },
      text("print hello world", "echo hello world"),
      text('print the text "{1}"', "echo {1}"),
      text("list the files in the current directory", "ls"),
      text("list all files including hidden ones", "ls -la"),
      text("count the files in the current directory", "ls -1 | wc -l"),
      text('create an empty file named "{1}"', "touch {1}"),
      text('make a directory named "{1}"', "mkdir -p {1}"),
      text('go into the directory "{1}"', "cd -- {1}"),
      text('write "{1}" to a file named "{2}"', "printf '%s\\n' {1} > {2}"),
      text('count the lines in the file "{1}"', "wc -l < {1}"),
      text('show the contents of the file "{1}"', "cat {1}"),
      text('show the first line of the file "{1}"', "head -n 1 {1}"),
      text('search for "{1}" in the file "{2}"', "grep -n -- {1} {2}"),
      text('copy the file "{1}" to "{2}"', "cp -- {1} {2}"),
      text('delete the file "{1}"', "rm -f -- {1}"),
      text("show the current date", "date"),
      text("show the working directory", "pwd"),
      text("print the current user name", "whoami"),
    ],
  },
});

export const BUILT_IN: ReadonlyMap<string, HarnessModule> = new Map([[CODER.name, CODER]]);

/** A module that cannot be loaded; the message says what to do (the caller's to fix). */
export class ModuleError extends Error {
  override name = "ModuleError";
}

/** The module `name`: built-in, or `<home>/modules/<name>.json|.yaml|.yml`. Throws a ModuleError with what to do. */
export function loadModule(home: string, name: string): HarnessModule {
  if (!NAME_PATTERN.test(name)) throw new ModuleError(`invalid module name ${JSON.stringify(name.slice(0, 80))}: use 1-64 characters from A-Z a-z 0-9 _ -`);
  const dir = join(home, "modules");
  for (const ext of ["json", "yaml", "yml"]) {
    const path = join(dir, `${name}.${ext}`);
    if (!existsSync(path)) continue;
    let raw: unknown;
    try {
      const source = readFileSync(path, "utf8");
      raw = ext === "json" ? JSON.parse(source) : parseYaml(source);
    } catch (err) {
      throw new ModuleError(`module file ${path} is not valid ${ext.toUpperCase()}: ${(err as Error).message}`);
    }
    const parsed = moduleSchema.safeParse(raw);
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      throw new ModuleError(`module file ${path} is invalid at ${first?.path.join(".") || "(root)"}: ${first?.message ?? "unknown problem"}`);
    }
    if (parsed.data.name !== name) throw new ModuleError(`module file ${path} names itself "${parsed.data.name}": the name must match the file name "${name}"`);
    return parsed.data;
  }
  const builtIn = BUILT_IN.get(name);
  if (builtIn) return builtIn;
  throw new ModuleError(`unknown module "${name}": use "coder" or put ${name}.json / ${name}.yaml in ${dir}`);
}

/**
 * Put the module's seed rows into its tensors on first use (a tensor that does not exist yet).
 * Later runs leave the tensors alone: what training or `forget` changed is not undone, and seed
 * rows are not reinforced on every run.
 */
export function seedModule(store: ExperienceStore, module: HarnessModule): { decision: number; command: number } {
  const seed = (tensor: string, rows: HarnessModule["seed"]["decision"]) =>
    rows.length > 0 && store.activeVersion(tensor) === undefined ? store.rememberMany(tensor, rows) : 0;
  return { decision: seed(module.decision_tensor, module.seed.decision), command: seed(module.command_tensor, module.seed.command) };
}

/**
 * The tensors harness modules keep for themselves (the built-in coder's and those named by module
 * files in `<home>/modules`): their rows are a module's working memory (key names, command
 * templates), not something a user or agent stored, so `recall` leaves them out unless asked.
 * A module file that cannot be loaded names no tensors here; run_harness reports its fault.
 */
export function moduleTensors(home: string): Set<string> {
  const names = new Set<string>();
  for (const m of BUILT_IN.values()) names.add(m.decision_tensor).add(m.command_tensor);
  let files: string[] = [];
  try {
    files = readdirSync(join(home, "modules"));
  } catch {
    return names; // no modules folder: the built-ins only
  }
  for (const file of files) {
    const name = /^(.+)\.(?:json|ya?ml)$/.exec(file)?.[1];
    if (!name || !NAME_PATTERN.test(name)) continue;
    try {
      const m = loadModule(home, name);
      names.add(m.decision_tensor).add(m.command_tensor);
    } catch {
      // not loadable: see the comment above
    }
  }
  return names;
}
