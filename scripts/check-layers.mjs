#!/usr/bin/env node
// The house as drawn: each folder of src/ sits on a floor and may import only from its own folder
// and from floors below. `node scripts/check-layers.mjs` prints every import that runs up or
// sideways, and every import cycle between folders or between the files of one folder; it exits 1
// when there is any. test/layers.test.ts runs it, so the layers stay as written here, once.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Lowest floor first. A name is a folder of src/, or a top-level file without its extension. */
export const FLOORS = [
  ["version", "names", "limits"],
  ["config"],
  // The database, its migrations, redaction, strength/decay and the repository scope: they import
  // nothing of ours, so the log can redact its lines and everything above can store.
  ["storage"],
  ["log"],
  ["faults", "shutdown"],
  ["experience", "registry", "trail"],
  ["tmux"],
  ["llm"],
  // The LLM client and experts sit on the floor below: train/ must not reach into harness/.
  ["harness", "train", "hooks"],
  ["harvest"],
  // Seeing and correcting what is stored (list/show/forget/edit): reads every store below.
  ["inspect"],
  // Team sync (issue 12): the op queue over the store, the PostgreSQL hub; the CLI drives it.
  ["sync"],
  ["services"],
  // The local viewer (`experience-mcp ui`, issue 13): the same reads and corrections over HTTP;
  // its session replay is also an MCP App, which the resources serve and replay_session points to.
  ["viewer"],
  // What is stored, as MCP resources (templates, paged list, subscriptions); tools link to them.
  ["resources"],
  ["tools", "doctor"],
  ["server", "transport", "demo"],
  ["cli"],
];

const SRC = resolve(fileURLToPath(new URL("../src", import.meta.url)));

function unitOf(src, file) {
  const rel = relative(src, file).split("/");
  return rel.length > 1 ? rel[0] : rel[0].replace(/\.ts$/, "");
}

function floorOf(unit) {
  const i = FLOORS.findIndex((f) => f.includes(unit));
  return i < 0 ? undefined : i;
}

function* sources(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* sources(p);
    else if (p.endsWith(".ts")) yield p;
  }
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+"(\.[^"]+)"|import\(\s*"(\.[^"]+)"\s*\)/g;

/** The circles of a directed graph (name → names it imports), each once, as found by a depth-first walk. */
function cycles(edges) {
  const found = [];
  const state = new Map();
  const stack = [];
  const visit = (u) => {
    state.set(u, 1);
    stack.push(u);
    for (const v of edges.get(u) ?? []) {
      if (state.get(v) === 1) found.push([...stack.slice(stack.indexOf(v)), v]);
      else if (!state.has(v)) visit(v);
    }
    stack.pop();
    state.set(u, 2);
  };
  for (const u of edges.keys()) if (!state.has(u)) visit(u);
  return found;
}

/** Every problem found under `src` (the repository's src/ unless a test gives another tree). */
export function check(src = SRC) {
  const problems = [];
  const edges = new Map();
  const fileEdges = new Map();
  for (const file of sources(src)) {
    const from = unitOf(src, file);
    const fromFloor = floorOf(from);
    if (fromFloor === undefined) problems.push(`${relative(src, file)}: ${from} has no floor in scripts/check-layers.mjs`);
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(IMPORT)) {
      const target = resolve(dirname(file), (m[1] ?? m[2]).replace(/\.js$/, ".ts"));
      const to = unitOf(src, target);
      if (to === from) {
        const [a, b] = [relative(src, file), relative(src, target)];
        if (!fileEdges.has(a)) fileEdges.set(a, new Set());
        fileEdges.get(a).add(b);
        continue;
      }
      if (!edges.has(from)) edges.set(from, new Set());
      edges.get(from).add(to);
      const toFloor = floorOf(to);
      if (fromFloor !== undefined && toFloor !== undefined && toFloor >= fromFloor) {
        problems.push(`${relative(src, file)} imports ${to} (${toFloor === fromFloor ? "same floor" : "a floor above"})`);
      }
    }
  }
  // Cycles between folders, independent of the floors, then between the files of one folder.
  problems.push(...cycles(edges).map((c) => `cycle: ${c.join(" → ")}`));
  problems.push(...cycles(fileEdges).map((c) => `file cycle: ${c.join(" → ")}`));
  return problems;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const problems = check();
  for (const p of problems) process.stdout.write(`${p}\n`);
  process.stdout.write(problems.length ? `${problems.length} layering problems\n` : "layers ok\n");
  process.exitCode = problems.length ? 1 : 0;
}
