// The viewer in a real browser (issue 13 item 4): the built CLI's `ui` command, Debian's Chromium
// driven headless, and the real MCP server over stdio registering fixes and typing into tmux.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { openDatabase } from "../src/storage/db.js";
import { ExperienceStore } from "../src/experience/store.js";
import { CODER, seedModule } from "../src/harness/modules.js";
import { listRequests } from "../src/train/queue.js";
import { newTaskExamples, until } from "./train-helpers.js";
import { copyFileSync, mkdirSync } from "node:fs";
import { request } from "node:http";
import { fileURLToPath } from "node:url";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { Browser, Page } from "playwright-core";
import WebSocket from "ws";
import { spawnClient } from "./spawn.js";
import { tempHome } from "./temp.js";
import { launchChromium, startViewerProcess, type RunningViewer } from "./viewer-browser.js";
import { textOf } from "./helpers.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const SHOTS = `${ROOT}test-artifacts/screenshots`;
const ERROR = "src/app.ts(3,7): error TS2322: Type 'string' is not assignable to type 'number'.";
const FIX = "change the type annotation of total to string";

let home: { home: string; cleanup: () => void };
let client: Client;
let closeClient: () => Promise<void>;
let viewer: RunningViewer;
let chromium: { browser: Browser; close(): Promise<void> };
let signature = "";

async function call(name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  const r = (await client.callTool({ name, arguments: args })) as CallToolResult;
  assert.ok(!r.isError, `${name}: ${textOf(r)}`);
  return r;
}

async function shot(page: Page, name: string, docs?: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  const file = `${SHOTS}/${name}.png`;
  await page.screenshot({ path: file, fullPage: false });
  // UPDATE_DOCS_IMG=1 refreshes the README's pictures from this run.
  if (docs && process.env.UPDATE_DOCS_IMG === "1") copyFileSync(file, `${ROOT}docs/img/${docs}`);
}

async function openPage(hash: string): Promise<Page> {
  const page = await chromium.browser.newPage({ viewport: { width: 1200, height: 760 } });
  page.on("pageerror", (err) => assert.fail(`the page threw: ${err.message}`));
  await page.goto(`${viewer.url}${hash}`);
  return page;
}

before(async () => {
  home = tempHome("xmcp-viewer-");
  // The coder module's seed rows (version 1 of its tensors), as a first run_harness leaves them.
  const db = openDatabase(home.home);
  seedModule(new ExperienceStore(db), CODER);
  db.close();
  const spawned = await spawnClient(home.home);
  client = spawned.client;
  closeClient = () => spawned.transport.close();
  const registered = await call("register_fix", { error: ERROR, fix: FIX, context: "tsc" });
  signature = /[0-9a-f]{16}/.exec(JSON.stringify(registered.structuredContent ?? textOf(registered)))![0];
  // A few others, so the page looks as it does after some use (and the README's picture too).
  const others: Array<[string, string, string, boolean | undefined]> = [
    ["Traceback (most recent call last):\n  File \"app.py\", line 1, in <module>\nModuleNotFoundError: No module named 'yaml'", "pip install pyyaml", "python", true],
    ["npm ERR! code ERESOLVE\nnpm ERR! ERESOLVE unable to resolve dependency tree", "npm install --legacy-peer-deps", "npm", false],
    ["fatal: refusing to merge unrelated histories", "git pull --allow-unrelated-histories", "git", undefined],
    ["psql: error: connection to server on socket \"/var/run/postgresql/.s.PGSQL.5432\" failed: No such file or directory", "sudo service postgresql start", "psql", true],
  ];
  for (const [error, fix, context, worked] of others) {
    const r = await call("register_fix", { error, fix, context });
    const sig = /[0-9a-f]{16}/.exec(JSON.stringify(r.structuredContent))![0];
    if (worked !== undefined) await call("report_outcome", { signature: sig, success: worked, ...(worked ? {} : { error }) });
  }
  await call("remember", { tensor: "notes", key: "deploy the docs", value: "npm run docs:deploy" });
  viewer = await startViewerProcess(home.home);
  chromium = await launchChromium();
});

after(async () => {
  await chromium?.close();
  await viewer?.stop();
  await closeClient?.();
  try {
    execFileSync("tmux", ["-L", `xmcp-spawn-${process.pid}`, "kill-server"], { stdio: "ignore" });
  } catch {
    // no server left
  }
  home?.cleanup();
});

test("a request without the token, with a wrong token or a foreign Host is refused; so is a WebSocket without the token", async () => {
  const status = (path: string, headers: Record<string, string> = {}) =>
    new Promise<number>((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port: viewer.port, path, headers }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      req.end();
    });
  assert.equal(await status("/"), 401);
  assert.equal(await status("/api/fixes"), 401);
  assert.equal(await status("/assets/xterm.js"), 401);
  assert.equal(await status(`/api/fixes?token=${"x".repeat(viewer.token.length)}`), 401);
  assert.equal(await status(`/?token=${viewer.token}`), 200);
  // DNS rebinding: a page on evil.example resolved to 127.0.0.1 sends its own Host.
  assert.equal(await status(`/?token=${viewer.token}`, { Host: `evil.example:${viewer.port}` }), 421);
  const refusedWs = (url: string) =>
    new Promise<number>((resolve) => {
      const ws = new WebSocket(url);
      ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
      ws.on("open", () => {
        ws.close();
        resolve(101);
      });
      ws.on("error", () => resolve(-1));
    });
  assert.equal(await refusedWs(`ws://127.0.0.1:${viewer.port}/live?session=x`), 401);
  assert.equal(await refusedWs(`ws://127.0.0.1:${viewer.port}/live?session=x&token=${viewer.token}x`), 401);
  // The browser too: the page without the token shows nothing but the refusal.
  const page = await chromium.browser.newPage();
  const res = await page.goto(`${viewer.origin}/`);
  assert.equal(res?.status(), 401);
  await page.close();
});

test("the fixes page lists a registered fix; the fix page shows the error it answers; the tensors page shows a remembered tensor", async () => {
  const page = await openPage("#fixes");
  const row = page.locator(`tr[data-signature="${signature}"]`);
  await row.waitFor({ timeout: 10_000 });
  assert.match(await row.innerText(), /TS2322/);
  assert.match(await row.innerText(), /change the type annotation/);
  await shot(page, "fixes", "viewer-fixes.png");
  // Search narrows the list: a word of the fix finds it, another word does not.
  await page.fill("#fix-search", "zzz-not-there");
  await page.locator("#fix-rows", { hasText: "No fixes match" }).waitFor({ timeout: 5000 });
  await page.fill("#fix-search", "annotation");
  await row.waitFor({ timeout: 5000 });
  await page.click(`tr[data-signature="${signature}"] a`);
  await page.locator("#fix-text").waitFor();
  assert.equal(await page.inputValue("#fix-text"), FIX);
  assert.match(await page.locator("main").innerText(), /TS2322/);
  await shot(page, "fix");
  await page.goto(`${viewer.url}#tensors`);
  await page.locator("main a", { hasText: "notes" }).click();
  await page.locator("main", { hasText: "deploy the docs" }).waitFor({ timeout: 5000 });
  await shot(page, "tensor");
  await page.close();
});

test("editing a fix from the page changes what recall answers; forgetting it removes it from recall", async () => {
  const page = await openPage(`#fix/${signature}`);
  await page.locator("#fix-text").waitFor({ timeout: 10_000 });
  await page.fill("#fix-text", "declare total as a string");
  await page.click("#fix-save");
  await page.locator("#fix-status", { hasText: "saved" }).waitFor({ timeout: 5000 });
  const recalled = textOf(await call("recall", { query: ERROR, kinds: ["fix"] }));
  assert.match(recalled, /declare total as a string/);
  await page.click("#fix-forget");
  await page.click("#fix-forget"); // the second click confirms
  await page.waitForURL(/#fixes$/, { timeout: 5000 });
  await page.locator("#fix-rows tr", { hasText: "pip install pyyaml" }).waitFor({ timeout: 5000 });
  assert.equal(await page.locator(`tr[data-signature="${signature}"]`).count(), 0);
  const after = textOf(await call("recall", { query: ERROR, kinds: ["fix"] }));
  assert.doesNotMatch(after, /declare total as a string/);
  assert.doesNotMatch(after, new RegExp(signature));
  await page.close();
});

test("a session's live view shows text typed by send_text within 1 s; its replay plays the recording; the timeline shows each step's screen", async () => {
  await call("tmux_session", { action: "create", session: "watched", width: 100, height: 20 });
  await call("send_text", { session: "watched", text: "echo replayed-$((6*7))", enter: true });
  const page = await openPage("#session/watched");
  await page.locator("#live-state", { hasText: "watching" }).waitFor({ timeout: 10_000 });
  // The typed text, then the shell's answer, appear in the page's terminal while send_text runs.
  const rows = page.locator("#live .xterm-rows");
  const t0 = Date.now();
  const typed = call("send_text", { session: "watched", text: "echo live-$((40+2))", enter: true });
  await rows.filter({ hasText: "echo live-$((40+2))" }).waitFor({ timeout: 5000 });
  const shownMs = Date.now() - t0;
  await typed;
  // The shell's answer on a row of its own.
  await page.locator("#live .xterm-rows > div", { hasText: /^\s*live-42\s*$/ }).waitFor({ timeout: 5000 });
  assert.ok(shownMs < 1000, `the typed text took ${shownMs} ms to show`);
  // Nothing the page types reaches the session: its input is never written to the terminal.
  await page.locator("#live .xterm").click();
  await page.keyboard.type("echo typed-in-page\n");
  await new Promise((r) => setTimeout(r, 300));
  const screen = textOf(await call("capture_pane", { session: "watched" }));
  assert.doesNotMatch(screen, /typed-in-page/);
  await page.evaluate("window.scrollTo(0, 0)");
  await shot(page, "session-live", "viewer-live.png");
  // The replay: asciinema-player fetches the recording and plays it in the page.
  await page.locator("#replay", { hasText: "replayed-42" }).waitFor({ timeout: 15_000 });
  await page.locator("#replay").scrollIntoViewIfNeeded();
  await shot(page, "session-replay");
  // The timeline: the steps, newest first, each with the screen captured after it.
  // (Loaded with the page, before the live step: the first send_text's text and Enter.)
  await page.locator("#steps .step", { hasText: "echo replayed-$((6*7))" }).first().waitFor({ timeout: 5000 });
  await page.locator("#steps .step pre", { hasText: /\nreplayed-42/ }).first().waitFor({ timeout: 5000 });
  await page.locator("#steps").scrollIntoViewIfNeeded();
  await shot(page, "session-timeline");
  await page.goto(`${viewer.url}#sessions`);
  await page.locator('tr[data-session="watched"]', { hasText: "live" }).waitFor({ timeout: 5000 });
  await shot(page, "sessions");
  await page.close();
});

test("a tensor's page shows its versions and the training request with its gates and metrics; rolling back from the page makes the previous version active", async () => {
  // A real training round: train_model queues, the worker it starts trains and deploys version 2.
  await call("train_model", { tensor: CODER.command_tensor, examples: newTaskExamples(4) });
  const db = openDatabase(home.home);
  try {
    const done = await until("the training request to finish", () => listRequests(db, { tensor: CODER.command_tensor }).find((r) => r.finished_at !== null));
    assert.equal(done.status, "deployed", JSON.stringify(done));
  } finally {
    db.close();
  }
  const page = await openPage(`#tensor/${encodeURIComponent(CODER.command_tensor)}`);
  const main = page.locator("main");
  await main.locator("tr", { hasText: "deployed" }).waitFor({ timeout: 10_000 });
  assert.match(await main.innerText(), /"max_edit_distance"/); // the gates
  assert.match(await main.innerText(), /"new_train"/); // the metrics
  const activeRow = () => main.locator("tr", { has: page.locator(".badge") }).first().innerText();
  assert.match(await activeRow(), /^\s*2\s*active/);
  await shot(page, "tensor-trained");
  await page.click("#tensor-rollback");
  await main.locator("tr", { has: page.locator(".badge") }).filter({ hasText: /^\s*1\s*active/ }).waitFor({ timeout: 5000 });
  const after = openDatabase(home.home);
  try {
    assert.equal(new ExperienceStore(after).activeVersion(CODER.command_tensor), 1);
  } finally {
    after.close();
  }
  await page.close();
});
