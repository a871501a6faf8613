// The viewer (`experience-mcp ui`, issue 13 item 6), real processes and Debian's Chromium:
//  - first load with 10k fixes: the page, its script and stylesheet and the first API page over
//    HTTP, and in Chromium from navigation to the first 50 rows on screen (a new browser context
//    each time: nothing cached); baseline in the same run: the whole list read unpaged, in-process;
//  - live view latency: send_text (the real server over stdio) → the text visible in the page's
//    xterm.js, against `tmux capture-pane` polled every 10 ms from the same send (what a viewer
//    without the pty would do at best).
// Run: `npm run bench -- viewer` (or `node dist-test/bench/viewer.js`). Needs /usr/bin/chromium.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import WebSocket from "ws";
import { openDatabase } from "../src/storage/db.js";
import { FixRegistry } from "../src/registry/registry.js";
import { listFixes } from "../src/registry/browse.js";
import { spawnClient } from "../test/spawn.js";
import { tempHome } from "../test/temp.js";
import { launchChromium, startViewerProcess } from "../test/viewer-browser.js";
import { emit, measure, percentile } from "./lib.js";

const run = promisify(execFile);
const FIXES = Number(process.env.BENCH_VIEWER_FIXES ?? 10_000);
const LOADS = Number(process.env.BENCH_VIEWER_LOADS ?? 20);
const ROUNDS = Number(process.env.BENCH_VIEWER_ROUNDS ?? 30);
const home = tempHome("xmcp-bench-viewer-");

// 10k distinct fixes, through the registry as register_fix stores them: raw errors for the first
// hundred, then structured signatures (a raw error's names and numbers are normalized away, so
// generated look-alikes would collapse into a few fixes).
const db = openDatabase(home.home);
const registry = new FixRegistry(db, { oneShot: true });
const fill = db.transaction(() => {
  for (let i = 0; i < FIXES; i++) {
    if (i < 100) registry.register({ error: `src/app.ts(${i},7): error TS${2300 + i}: Type 'string' is not assignable to type 'number'.`, fix: `annotate it as a string (${i})`, context: "tsc" });
    else registry.register({ signatureFields: { severity: "major", error_type: `E${i}`, context: "bench", categories: [`c${i}`] }, fix: `fix number ${i}: run the migration again` });
  }
});
fill();
const stored = db.prepare("SELECT count(*) FROM fixes").pluck().get() as number;
if (stored < FIXES * 0.99) throw new Error(`only ${stored} distinct fixes were stored`);
emit({
  ...(await measure("viewer.baseline_list_all_fixes", 10, () => listFixes(db), { unit: "ms", warmup: 2, extra: { fixes: FIXES, what: "listFixes(db) unpaged, in-process: what a page without paging would read" } })),
});
db.close();

const { client, transport } = await spawnClient(home.home);
const viewer = await startViewerProcess(home.home);
const chromium = await launchChromium();
try {
  const get = async (path: string) => {
    const r = await fetch(`${viewer.origin}${path}${path.includes("?") ? "&" : "?"}token=${viewer.token}`);
    await r.arrayBuffer();
    if (!r.ok) throw new Error(`${path}: ${r.status}`);
  };
  emit(
    await measure(
      "viewer.first_load_http",
      LOADS,
      async () => {
        await get("/");
        await Promise.all([get("/app.js"), get("/app.css"), get("/api/fixes")]);
      },
      { unit: "ms", warmup: 2, extra: { fixes: FIXES, what: "GET / then app.js, app.css and /api/fixes (first 50) in parallel, warm server" } },
    ),
  );
  // In Chromium: the page's own clock from navigation start to the first rows rendered (a mark the
  // page sets), and the whole round as the harness sees it, new browser context included.
  const inPage: number[] = [];
  const browserLine = await measure(
    "viewer.first_load_browser_with_context",
    LOADS,
    async () => {
      const context = await chromium.browser.newContext();
      const page = await context.newPage();
      await page.goto(`${viewer.url}#fixes`);
      await page.locator("#fix-rows tr:nth-child(50)").waitFor();
      inPage.push(Number(await page.evaluate("performance.getEntriesByName('fixes-shown')[0].startTime")));
      await context.close();
    },
    { unit: "ms", warmup: 2, extra: { fixes: FIXES, what: "Chromium headless: new context + page, navigation, first 50 fixes on screen, as the test harness times it (CDP round trips included)" } },
  );
  const loads = inPage.slice(-LOADS).sort((a, b) => a - b);
  emit({ name: "viewer.first_load_browser", n: loads.length, p50: Math.round(percentile(loads, 50) * 10) / 10, p99: Math.round(percentile(loads, 99) * 10) / 10, unit: "ms", fixes: FIXES, what: "Chromium headless, new context each time: navigation start → the first 50 fixes rendered (the page's performance mark)" });
  emit(browserLine);

  // Live view latency.
  const call = async (name: string, args: Record<string, unknown>) => {
    const r = (await client.callTool({ name, arguments: args })) as { isError?: boolean; content: Array<{ text?: string }> };
    if (r.isError) throw new Error(`${name}: ${r.content[0]?.text}`);
  };
  await call("tmux_session", { action: "create", session: "bench", width: 100, height: 30 });
  await call("send_text", { session: "bench", text: "cat > /dev/null", enter: true });
  const page = await chromium.browser.newPage();
  await page.goto(`${viewer.url}#session/bench`);
  await page.locator("#live-state", { hasText: "watching" }).waitFor({ timeout: 10_000 });
  const socket = `xmcp-spawn-${process.pid}`;
  // Armed before the send: it polls the page on every animation frame.
  const shown = (mark: string) =>
    page.waitForFunction((m) => (globalThis as unknown as { document: { querySelector(s: string): { textContent: string } | null } }).document.querySelector("#live .xterm-rows")?.textContent.includes(m), mark, { polling: "raf", timeout: 10_000 });
  // Each round times from the send to the text being seen; the send is then awaited untimed, so
  // the next round starts on a quiet terminal.
  const rounds = async (name: string, prefix: string, seen: (mark: string) => Promise<unknown>, what: string) => {
    const samples: number[] = [];
    for (let i = 0; i < ROUNDS + 3; i++) {
      const mark = `${prefix}${String(i).padStart(4, "0")}x`;
      const t0 = performance.now();
      const sent = call("send_text", { session: "bench", text: mark, enter: true });
      await seen(mark);
      if (i >= 3) samples.push(performance.now() - t0); // 3 warm-up rounds
      await sent;
    }
    samples.sort((a, b) => a - b);
    const round = (x: number) => Math.round(x * 1000) / 1000;
    emit({ name, n: samples.length, p50: round(percentile(samples, 50)), p99: round(percentile(samples, 99)), unit: "ms", what });
  };
  await rounds("viewer.live_latency", "v", shown, "send_text start → the text in the page's xterm.js (read-only tmux client in node-pty, WebSocket, Chromium headless)");
  // The same stream read by a WebSocket client in this process: the server's part without the browser.
  const ws = new WebSocket(`ws://127.0.0.1:${viewer.port}/live?session=bench&token=${viewer.token}`);
  let streamed = "";
  ws.on("message", (d: Buffer) => (streamed += d.toString()));
  await new Promise((resolve, reject) => (ws.once("open", resolve), ws.once("error", reject)));
  await rounds(
    "viewer.live_latency.websocket",
    "w",
    async (mark) => {
      while (!streamed.includes(mark)) await new Promise((r) => setImmediate(r));
    },
    "send_text start → the text in the viewer's WebSocket stream, read in-process (no browser)",
  );
  ws.close();
  await rounds(
    "viewer.live_latency.baseline_capture_poll",
    "b",
    async (mark) => {
      for (;;) {
        const { stdout } = await run("tmux", ["-L", socket, "capture-pane", "-p", "-t", "=bench:"]);
        if (stdout.includes(mark)) return;
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    "send_text start → the text in `tmux capture-pane` output, polled every 10 ms",
  );
} finally {
  await chromium.close();
  await viewer.stop();
  await transport.close();
  await run("tmux", ["-L", `xmcp-spawn-${process.pid}`, "kill-server"]).catch(() => undefined);
  home.cleanup();
}
