/**
 * The session replay as an MCP App (the MCP Apps extension, @modelcontextprotocol/ext-apps): a
 * `ui://` HTML resource that a client which displays apps shows inline when `replay_session`
 * answers. The page is self-contained (asciinema-player inlined: the host's sandbox loads nothing
 * else) and speaks the extension's JSON-RPC over postMessage with its host: `ui/initialize`, then
 * the tool's result arrives as `ui/notifications/tool-result`, and the recording is read with
 * `resources/read` through the host.
 */
import { asset } from "./assets.js";

/** Where the replay app lives; `replay_session`'s `_meta.ui.resourceUri` points here. */
export const REPLAY_APP_URI = "ui://experience-mcp/session-replay.html";
/** The MCP Apps HTML profile (ext-apps' RESOURCE_MIME_TYPE; test/viewer-app.test.ts checks they agree). */
export const APP_MIME_TYPE = "text/html;profile=mcp-app";
/** The extension's protocol version this page speaks (ext-apps 2.x). */
const APPS_PROTOCOL_VERSION = "2026-01-26";

// Plain JavaScript for the host's iframe, kept free of backticks and dollar-brace.
const APP_JS = String.raw`
(function () {
  "use strict";
  var nextId = 1, pending = {}, status = document.getElementById("status");
  function post(msg) { window.parent.postMessage(Object.assign({ jsonrpc: "2.0" }, msg), "*"); }
  function request(method, params) {
    var id = nextId++;
    post({ id: id, method: method, params: params });
    return new Promise(function (resolve, reject) { pending[id] = { resolve: resolve, reject: reject }; });
  }
  function play(result) {
    var s = result && result.structuredContent;
    if (!s || !s.cast_uri) { status.textContent = "no recording in the tool's result"; return; }
    status.textContent = "session " + s.session + ": " + s.steps + " steps";
    request("resources/read", { uri: s.cast_uri }).then(function (r) {
      var text = r.contents && r.contents[0] && r.contents[0].text;
      window.AsciinemaPlayer.create({ data: text }, document.getElementById("player"), { autoPlay: true, idleTimeLimit: 0.5, fit: "width" });
    }).catch(function (e) { status.textContent = "cannot read the recording: " + (e && e.message || e); });
  }
  window.addEventListener("message", function (ev) {
    var m = ev.data;
    if (!m || m.jsonrpc !== "2.0") return;
    if (m.id !== undefined && pending[m.id] && !m.method) {
      var p = pending[m.id]; delete pending[m.id];
      if (m.error) p.reject(new Error(m.error.message)); else p.resolve(m.result);
    } else if (m.method === "ui/notifications/tool-result") play(m.params);
    else if (m.method === "ui/resource-teardown" && m.id !== undefined) post({ id: m.id, result: {} });
  });
  request("ui/initialize", { appInfo: { name: "experience-mcp session replay", version: "1" }, appCapabilities: {}, protocolVersion: PROTOCOL })
    .then(function () { post({ method: "ui/notifications/initialized", params: {} }); })
    .catch(function (e) { status.textContent = "the host did not initialize the app: " + e.message; });
})();
`;

/** The app's HTML: the player's script and stylesheet inlined, then the page's own script. */
export function replayAppHtml(): string {
  const js = asset("/assets/asciinema-player.js")!.body.toString("utf8");
  const css = asset("/assets/asciinema-player.css")!.body.toString("utf8");
  // "</" would end the inline element early: escape it (in JS "<\/" reads the same).
  const inline = (text: string) => text.replace(/<\//g, "<\\/");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Session replay</title>
<style>${css.replace(/<\/style/gi, "<\\/style")}
body { margin: 0; font: 13px system-ui, sans-serif; } #status { padding: 4px 8px; color: #777; }</style>
</head><body>
<div id="status">waiting for the tool's result…</div>
<div id="player"></div>
<script>${inline(js)}</script>
<script>${inline(APP_JS.replace("PROTOCOL", JSON.stringify(APPS_PROTOCOL_VERSION)))}</script>
</body></html>
`;
}
