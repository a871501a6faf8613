#!/usr/bin/env node
import { parseArgs } from "node:util";
import { loadConfig, SETTINGS_ENV, type Config } from "./config.js";
import { faultSentence, firstLine } from "./faults.js";
import { log, writeStderr } from "./log.js";
import { exitCodeOnSignal, installProcessGuards, isOutputGone, isStopping, onShutdown, shutdown } from "./shutdown.js";
import { VERSION } from "./version.js";
import { openDatabase } from "./storage/db.js";
import { ExperienceStore } from "./experience/store.js";
// The MCP SDK and zod are imported only by the commands that use them (serve, export/import,
// trail), so `hook`, which Claude Code starts once per tool call, loads in a few milliseconds.

const USAGE = `experience-mcp ${VERSION}: an MCP stdio server that gives coding agents experience

usage:
  experience-mcp [serve] [--toolsets memory,terminal,harness,train] [--read-only] [--home DIR]
  experience-mcp export --tensor-dir DIR --tensor NAME [--home DIR]
  experience-mcp import --tensor-dir DIR --tensor NAME [--home DIR]
  experience-mcp stats [--home DIR]
  experience-mcp list fixes|tensors|rows|sessions|requests [--tensor NAME] [--repo DIR|.] [--since 7d] [--min-strength X] [--limit N] [--json]
  experience-mcp show SIGNATURE|ROW_ID|REQUEST_ID|SESSION|TENSOR [--json]   one stored thing in full
  experience-mcp forget SIGNATURE|ROW_ID        delete a fix or an experience row
  experience-mcp edit SIGNATURE --fix TEXT | ROW_ID --value TEXT   correct a fix or a row
  experience-mcp ui [--port N] [--home DIR]     the local viewer: fixes, tensors, sessions (live and replayed) in a browser (docs/viewer.md)
  experience-mcp trail cast|validate SESSION [--home DIR]
  experience-mcp train-worker [--once | --watch] [--poll-s N] [--home DIR]   run queued train_model requests
  experience-mcp rollback TENSOR [--home DIR]   make the tensor's previous version active again
  experience-mcp demo [--task TEXT] [--pattern REGEX] [--home DIR] [--keep]   the coder module solves a task offline in tmux
  experience-mcp doctor [--json] [--repair] [--home DIR]   check the store, tmux and git; --repair recovers a damaged database
  experience-mcp hub init [URL] --team NAME   create or migrate the team hub (PostgreSQL) and the team's role
  experience-mcp sync [--status]               push this machine's fixes and shared rows to the hub and pull the team's (docs/team.md)
  experience-mcp sync --share|--unshare TENSOR  send a tensor's rows to the team (private rows excepted), or stop
  experience-mcp hook                                  Claude Code hook: event JSON on stdin, answer on stdout
  experience-mcp install-hooks [--project|--user] [--dry-run]   add the hooks to Claude Code's settings
  experience-mcp uninstall-hooks [--project|--user] [--dry-run] remove them again
  experience-mcp harvest [--dry-run] [--since 7d] [--limit N] [--root DIR] [--sources transcripts,trails] [--trails-home DIR] [--session NAME] [--tensor NAME]
                                                       learn fixes from ~/.claude/projects transcripts and terminal trails

environment:
  EXPERIENCE_MCP_HOME       data directory (default ~/.experience-mcp)
  EXPERIENCE_MCP_TOOLSETS   same as --toolsets
  EXPERIENCE_MCP_READ_ONLY  1 = same as --read-only
  EXPERIENCE_MCP_TMUX_SOCKET tmux socket name for our own tmux server (default experience-mcp-<hash of the data directory>)
  EXPERIENCE_MCP_TMUX       tmux binary (default: tmux on PATH)
  OPENAI_BASE_URL, OPENAI_API_KEY, EXPERIENCE_MCP_MODEL (or LLM_BASE_URL, LLM_API_KEY, LLM_MODEL)
                            an OpenAI-compatible LLM: on when an endpoint, or a model with a key, is set
${SETTINGS_ENV.map((s) => `  ${s.name}\n      ${s.meaning}${s.fallback === undefined ? "" : ` (default ${typeof s.fallback === "boolean" ? (s.fallback ? "on" : "off") : s.fallback})`}`).join("\n")}
`;

type Command = (argv: string[]) => Promise<number>;

function commonConfig(values: { home?: string; toolsets?: string; "read-only"?: boolean }): Config {
  return loadConfig({
    home: values.home,
    toolsets: values.toolsets?.split(","),
    readOnly: values["read-only"] || undefined,
  });
}

async function checkTensorName(name: string): Promise<void> {
  const { TENSOR_PATTERN } = await import("./names.js");
  if (!TENSOR_PATTERN.test(name)) {
    throw new Error(`invalid tensor name ${JSON.stringify(name.slice(0, 80))}: use NAME or NAMESPACE/NAME, each part 1-64 characters from A-Z a-z 0-9 _ -`);
  }
}

const serve: Command = async (argv) => {
  const { values } = parseArgs({
    args: argv,
    options: {
      toolsets: { type: "string" },
      "read-only": { type: "boolean" },
      home: { type: "string" },
    },
    strict: true,
  });
  const config = commonConfig(values);
  const { createServer } = await import("./server.js");
  const { ResilientStdioTransport } = await import("./transport.js");
  const app = createServer(config);
  const transport = new ResilientStdioTransport();
  // A client stops its server by closing stdin or by a signal: both are a normal end.
  exitCodeOnSignal(0);
  let teamSync: { stop(): Promise<void> } | undefined;
  // The background sync stops first: it must not write to a database the server has closed.
  onShutdown(async () => {
    await teamSync?.stop();
    await app.close().catch((err) => log("warn", "close failed", err));
  });
  transport.onclose = () => void shutdown(0, "stdin closed");
  await app.server.connect(transport);
  log("info", `serving ${app.tools.length} tools from ${config.home}`);
  const { hubUrl, team } = config.settings;
  if (hubUrl && team && !config.readOnly) {
    // Once the handshake is done (or after 1 s, for a client that never says so), loaded on demand
    // (pg at its first connection): loading it and opening the store must not delay `initialize`.
    let started = false;
    const start = async (): Promise<void> => {
      if (started || isStopping()) return;
      started = true;
      const { startTeamSync } = await import("./sync/background.js");
      if (!isStopping()) teamSync = startTeamSync(config.home, (l) => app.services.onWrite(l), hubUrl, team, config.settings.syncIntervalS * 1000);
    };
    app.server.server.oninitialized = () => void start();
    setTimeout(() => void start(), 1000).unref();
  }
  // Started by hand in a terminal: say why nothing happens. A client's pipe is never a TTY.
  if (process.stdin.isTTY) process.stderr.write(`experience-mcp ${VERSION}: waiting for an MCP client on stdin (connect one as the README shows; Ctrl-C quits)\n`);
  return -1; // keep running
};

/** `export` and `import` take the same flags and differ only in the direction of the copy. */
function tensorDirCommand(name: "export" | "import"): Command {
  return async (argv) => {
    const { values } = parseArgs({
      args: argv,
      options: { "tensor-dir": { type: "string" }, tensor: { type: "string" }, home: { type: "string" } },
      strict: true,
    });
    if (!values["tensor-dir"] || !values.tensor) throw new Error(`${name} needs --tensor-dir DIR and --tensor NAME`);
    await checkTensorName(values.tensor);
    const interop = await import("./experience/interop.js");
    const copy = name === "export" ? interop.exportTensor : interop.importTensor;
    const db = openDatabase(commonConfig(values).home);
    try {
      const result = copy(new ExperienceStore(db), values.tensor, values["tensor-dir"]);
      process.stdout.write(`${JSON.stringify(result)}\n`);
    } finally {
      db.close();
    }
    return 0;
  };
}

const stats: Command = async (argv) => {
  const { values } = parseArgs({ args: argv, options: { home: { type: "string" } }, strict: true });
  const config = commonConfig(values);
  const db = openDatabase(config.home);
  try {
    const store = new ExperienceStore(db);
    const fixes = db.prepare("SELECT count(*) AS n FROM fixes").get() as { n: number };
    process.stdout.write(`${JSON.stringify({ home: config.home, tensors: store.listTensors(), fixes: fixes.n })}\n`);
  } finally {
    db.close();
  }
  return 0;
};

const COMMANDS: Record<string, Command> = {
  serve,
  export: tensorDirCommand("export"),
  import: tensorDirCommand("import"),
  stats,
  trail: async (argv) => (await import("./trail/cli.js")).trailCommand(argv),
  hook: async (argv) => (await import("./hooks/hook.js")).hookCommand(argv),
  "install-hooks": async (argv) => (await import("./hooks/install.js")).installHooksCommand(argv),
  "uninstall-hooks": async (argv) => (await import("./hooks/install.js")).uninstallHooksCommand(argv),
  harvest: async (argv) => (await import("./harvest/cli.js")).harvestCommand(argv),
  list: async (argv) => (await import("./inspect/cli.js")).inspectCommand("list", argv),
  show: async (argv) => (await import("./inspect/cli.js")).inspectCommand("show", argv),
  forget: async (argv) => (await import("./inspect/cli.js")).inspectCommand("forget", argv),
  edit: async (argv) => (await import("./inspect/cli.js")).inspectCommand("edit", argv),
  // Loaded when used: serving never needs it.
  ui: async (argv) => (await import("./viewer/ui.js")).uiCommand(argv),
  demo: async (argv) => (await import("./demo.js")).demoCommand(argv),
  doctor: async (argv) => (await import("./doctor.js")).doctorCommand(argv),
  "train-worker": async (argv) => (await import("./train/cli.js")).trainWorkerCommand(argv),
  rollback: async (argv) => (await import("./train/cli.js")).rollbackCommand(argv),
  hub: async (argv) => (await import("./sync/cli.js")).hubCommand(argv),
  sync: async (argv) => (await import("./sync/cli.js")).syncCommand(argv),
};

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const first = argv[0];
  // `experience-mcp install-hooks --help` and the like: every command's usage is in USAGE.
  if (first === "--help" || first === "-h" || first === "help" || argv.includes("--help")) {
    process.stdout.write(USAGE);
    return;
  }
  if (first === "--version" || first === "-v") {
    process.stdout.write(`${VERSION}\n`);
    return;
  }
  const named = first !== undefined && !first.startsWith("-");
  const name = named ? first : "serve";
  // The hook keeps the default signal action (see installProcessGuards).
  installProcessGuards({ signals: name !== "hook" });
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`unknown command "${name}"\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  const code = await command(named ? argv.slice(1) : argv);
  if (code >= 0) process.exitCode = code;
}

process.on("uncaughtException", (err) => {
  // Our reader is gone: nothing to tell anyone, and telling it would fail again.
  if (isOutputGone(err)) return void shutdown(0, "output closed");
  log("error", "uncaught exception", err);
});
process.on("unhandledRejection", (err) => log("error", "unhandled rejection", err));

main().catch((err: unknown) => {
  log("debug", "command failed", err);
  let home = "";
  try {
    home = loadConfig().home;
  } catch {
    // the configuration itself is what failed: its message says so
  }
  writeStderr(`experience-mcp: ${faultSentence(err, home) ?? firstLine(err)}\n`);
  process.exitCode = 1;
});
