// The session replay as an MCP App (issue 13 item 3): replay_session names the ui:// resource in its
// _meta, resources/read returns the page with the MCP Apps HTML profile, and the page, run in
// Chromium inside a minimal host (an iframe speaking the extension's postMessage JSON-RPC, its
// resources/read answered by the real server over stdio), plays the session's recording.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { RESOURCE_MIME_TYPE, RESOURCE_URI_META_KEY } from "@modelcontextprotocol/ext-apps";
import type { CallToolResult, ReadResourceResult } from "@modelcontextprotocol/sdk/types.js";
import { APP_MIME_TYPE, REPLAY_APP_URI } from "../src/viewer/app.js";
import { spawnClient } from "./spawn.js";
import { tempHome } from "./temp.js";
import { textOf } from "./helpers.js";
import { launchChromium } from "./viewer-browser.js";

// The host's side, in the page that holds the app's iframe: initialize, hand over the tool's result,
// and pass the app's resources/read to the test (exposed as window.readResource).
const HOST_JS = `
const frame = document.getElementById("app");
window.addEventListener("message", async (ev) => {
  const m = ev.data;
  if (!m || m.jsonrpc !== "2.0" || m.id === undefined) return;
  const reply = (result) => frame.contentWindow.postMessage({ jsonrpc: "2.0", id: m.id, result }, "*");
  if (m.method === "ui/initialize") {
    window.initialized = m.params;
    reply({ protocolVersion: m.params.protocolVersion, hostInfo: { name: "test-host", version: "1" }, hostCapabilities: {}, hostContext: {} });
    setTimeout(() => frame.contentWindow.postMessage({ jsonrpc: "2.0", method: "ui/notifications/tool-result", params: window.toolResult }, "*"), 50);
  } else if (m.method === "resources/read") reply(JSON.parse(await window.readResource(m.params.uri)));
});`;

test("replay_session points to the replay app; resources/read returns it as an MCP App; in a host it plays the recording", async () => {
  const { home, cleanup } = tempHome("xmcp-app-");
  const { client, transport } = await spawnClient(home);
  const chromium = await launchChromium();
  try {
    // Our constants are the extension's.
    assert.equal(APP_MIME_TYPE, RESOURCE_MIME_TYPE);
    const tools = (await client.listTools()).tools;
    const replay = tools.find((t) => t.name === "replay_session");
    assert.ok(replay, "replay_session is listed");
    assert.deepEqual((replay._meta as { ui?: unknown }).ui, { resourceUri: REPLAY_APP_URI });
    assert.equal((replay._meta as Record<string, unknown>)[RESOURCE_URI_META_KEY], REPLAY_APP_URI);
    assert.ok(!tools.some((t) => t.name !== "replay_session" && t._meta), "only replay_session carries an app");

    const read = (await client.readResource({ uri: REPLAY_APP_URI })) as ReadResourceResult;
    const page = read.contents[0] as { mimeType: string; text: string };
    assert.equal(page.mimeType, RESOURCE_MIME_TYPE);
    assert.match(page.text, /^<!doctype html>/);
    assert.match(page.text, /AsciinemaPlayer/);
    assert.doesNotMatch(page.text, /<script[^>]+src=/, "nothing is loaded from elsewhere");

    const missing = (await client.callTool({ name: "replay_session", arguments: { session: "nothing" } })) as CallToolResult;
    assert.ok(missing.isError);
    assert.match(textOf(missing), /has no recording/);

    await client.callTool({ name: "tmux_session", arguments: { action: "create", session: "appdemo", width: 80, height: 12 } });
    await client.callTool({ name: "send_text", arguments: { session: "appdemo", text: "echo app-$((20+22))", enter: true } });
    const result = (await client.callTool({ name: "replay_session", arguments: { session: "appdemo" } })) as CallToolResult;
    assert.ok(!result.isError, textOf(result));
    assert.equal((result.structuredContent as { cast_uri: string }).cast_uri, "experience://session/appdemo/cast");

    const host = await chromium.browser.newPage();
    host.on("pageerror", (err) => assert.fail(`the host page threw: ${err.message}`));
    await host.exposeFunction("readResource", async (uri: string) => JSON.stringify(await client.readResource({ uri })));
    await host.setContent(`<iframe id="app" style="width:900px;height:400px" sandbox="allow-scripts"></iframe>`);
    await host.evaluate(`window.toolResult = ${JSON.stringify(result)};\n${HOST_JS}\ndocument.getElementById("app").srcdoc = ${JSON.stringify(page.text)};`);
    const app = host.frameLocator("#app");
    await app.locator("#status", { hasText: "appdemo: " }).waitFor({ timeout: 10_000 });
    await app.locator("#player", { hasText: "app-42" }).waitFor({ timeout: 15_000 });
    assert.equal(((await host.evaluate("window.initialized")) as { protocolVersion: string }).protocolVersion.length > 0, true);
    await host.close();
  } finally {
    await chromium.close();
    await transport.close();
    try {
      execFileSync("tmux", ["-L", `xmcp-spawn-${process.pid}`, "kill-server"], { stdio: "ignore" });
    } catch {
      // no server left
    }
    cleanup();
  }
});
