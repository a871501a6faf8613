#!/usr/bin/env node
// Writes docs/tools.md from the tool definitions, as the built server lists them over stdio, so
// the reference cannot drift from the code. `--check` fails instead of writing when the file
// differs (the test suite runs it). Run `npm run build` first.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const OUT = join(ROOT, "docs", "tools.md");
const check = process.argv.includes("--check");

async function listTools() {
  const home = mkdtempSync(join(tmpdir(), "xmcp-tooldocs-"));
  const env = { ...process.env, EXPERIENCE_MCP_HOME: home, EXPERIENCE_MCP_TRAIN_WORKER: "off" };
  const transport = new StdioClientTransport({ command: process.execPath, args: [join(ROOT, "dist", "cli.js")], env, stderr: "ignore" });
  const client = new Client({ name: "gen-tool-docs", version: "1" });
  try {
    await client.connect(transport);
    return (await client.listTools()).tools;
  } finally {
    await client.close();
    rmSync(home, { recursive: true, force: true });
  }
}

/** A JSON schema as a short type: `string (≤ 4096)`, `"a" | "b"`, `array of string (≤ 50)`. */
function typeOf(s) {
  if (!s || typeof s !== "object") return "any";
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(" \\| ");
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.anyOf || s.oneOf) return (s.anyOf ?? s.oneOf).map(typeOf).join(" \\| ");
  const bounds = [];
  if (s.minLength !== undefined && s.minLength > 0) bounds.push(`≥ ${s.minLength} chars`);
  if (s.maxLength !== undefined) bounds.push(`≤ ${s.maxLength} chars`);
  if (s.minimum !== undefined) bounds.push(`≥ ${s.minimum}`);
  if (s.maximum !== undefined) bounds.push(`≤ ${s.maximum}`);
  if (s.minItems !== undefined && s.minItems > 0) bounds.push(`≥ ${s.minItems} items`);
  if (s.maxItems !== undefined) bounds.push(`≤ ${s.maxItems} items`);
  if (s.maxProperties !== undefined) bounds.push(`≤ ${s.maxProperties} keys`);
  const b = bounds.length ? ` (${bounds.join(", ")})` : "";
  if (s.type === "array") return `array of ${typeOf(s.items)}${b}`;
  if (s.type === "object") return `object${b}`;
  return `${Array.isArray(s.type) ? s.type.join(" \\| ") : (s.type ?? "any")}${b}`;
}

const cell = (text) => String(text ?? "").replace(/\|/g, "\\|").replace(/\s*\n\s*/g, " ");

function fieldTable(schema) {
  const props = schema?.properties ?? {};
  const names = Object.keys(props);
  if (!names.length) return "_none_\n";
  const required = new Set(schema.required ?? []);
  const rows = names.map((n) => {
    const p = props[n];
    const dflt = p.default !== undefined ? ` Default \`${JSON.stringify(p.default)}\`.` : "";
    const desc = cell(p.description);
    const stop = dflt && desc && !/[.!?]$/.test(desc) ? "." : "";
    return `| \`${n}\` | ${required.has(n) ? "yes" : ""} | ${typeOf(p)} | ${desc}${stop}${dflt} |`;
  });
  return ["| field | required | type | meaning |", "|---|---|---|---|", ...rows, ""].join("\n");
}

function kindOf(a = {}) {
  if (a.readOnlyHint) return "read";
  if (a.openWorldHint) return "terminal (drives processes)";
  return a.destructiveHint ? "destructive" : "write";
}

function render(tools) {
  const out = [
    "# Tool reference",
    "",
    "Generated from the tool definitions by `npm run docs:tools` (the tests fail when it is stale).",
    "Worked calls with real results are in [examples.md](examples.md).",
    "",
    "| tool | kind | title |",
    "|---|---|---|",
    ...tools.map((t) => `| [\`${t.name}\`](#${t.name}) | ${kindOf(t.annotations)} | ${cell(t.annotations?.title ?? t.title)} |`),
    "",
  ];
  for (const t of tools) {
    out.push(`## ${t.name}`, "", cell(t.description), "", `Kind: ${kindOf(t.annotations)}.`, "", "Input:", "", fieldTable(t.inputSchema));
    if (t.outputSchema) out.push("Output (`structuredContent`):", "", fieldTable(t.outputSchema));
  }
  return `${out.join("\n").trimEnd()}\n`;
}

const text = render(await listTools());
if (check) {
  let current = "";
  try {
    current = readFileSync(OUT, "utf8");
  } catch {
    // missing counts as stale
  }
  if (current !== text) {
    process.stderr.write("docs/tools.md is stale: run `npm run build && npm run docs:tools` and commit it\n");
    process.exit(1);
  }
} else {
  writeFileSync(OUT, text);
  process.stderr.write(`wrote ${OUT}\n`);
}
