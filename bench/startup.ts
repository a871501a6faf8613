// Server start → `initialize` answered, over real stdio.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { emit, measure } from "./lib.js";

// The bin (ES module, loads the CommonJS launcher) and the launcher itself (no ESM loader).
const BIN = fileURLToPath(new URL("../../dist/cli.js", import.meta.url));
const CJS = fileURLToPath(new URL("../../dist/cjs/cli.js", import.meta.url));
const home = mkdtempSync(join(tmpdir(), "xmcp-bench-start-"));

function startOnce(cli: string, extraEnv: Record<string, string> = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli], { env: { ...process.env, EXPERIENCE_MCP_HOME: home, ...extraEnv }, stdio: ["pipe", "pipe", "ignore"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("\n")) {
        child.kill();
        resolve();
      }
    });
    child.on("error", reject);
    child.stdin.write(
      `${JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "bench", version: "1" } } })}\n`,
    );
  });
}

// Node's own start on this machine, measured in the same run: the floor the figures above sit on.
function bareNode(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["-e", "0"], { stdio: "ignore" });
    child.on("error", reject);
    child.on("exit", () => resolve());
  });
}

const bare = await measure("node_startup", 20, bareNode, { unit: "ms", warmup: 2, extra: { command: "node -e 0" } });
emit(bare);
for (const [name, cli, command] of [
  ["server_start_to_initialize", BIN, "node dist/cli.js"],
  ["server_start_to_initialize.cjs", CJS, "node dist/cjs/cli.js"],
] as const) {
  emit(await measure(name, 20, () => startOnce(cli), { unit: "ms", warmup: 2, extra: { command, node_startup_p50: bare.p50 } }));
}
// Team sync on (issue 12): the sync module and pg load only after `initialize` is answered. The
// hub is a closed loopback port here: start-up must not wait on it either way.
emit(
  await measure("server_start_to_initialize.with_hub", 20, () => startOnce(CJS, { EXPERIENCE_MCP_HUB: "postgres://u:p@127.0.0.1:1/db", EXPERIENCE_MCP_TEAM: "bench" }), {
    unit: "ms",
    warmup: 2,
    extra: { command: "EXPERIENCE_MCP_HUB=postgres://…@127.0.0.1:1/db EXPERIENCE_MCP_TEAM=bench node dist/cjs/cli.js", node_startup_p50: bare.p50 },
  }),
);
// Another build of the launcher (e.g. the commit before a change, built elsewhere), measured in
// this same run so that the two figures compare: STARTUP_BASELINE=/path/to/dist/cjs/cli.js.
const baseline = process.env.STARTUP_BASELINE;
if (baseline) {
  emit(await measure("server_start_to_initialize.baseline", 20, () => startOnce(baseline), { unit: "ms", warmup: 2, extra: { command: `node ${baseline}`, node_startup_p50: bare.p50 } }));
  emit(await measure("server_start_to_initialize.cjs", 20, () => startOnce(CJS), { unit: "ms", warmup: 2, extra: { command: "node dist/cjs/cli.js (again, after the baseline)", node_startup_p50: bare.p50 } }));
}
rmSync(home, { recursive: true, force: true });
