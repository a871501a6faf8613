// The viewer's HTTP API in-process (issue 13 item 3): paging, search, edit/forget/rollback through
// the registry and store, and the refusals — bad input, writes that are not JSON, other origins,
// a foreign Host — each with one sentence and never a stack trace.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:http";
import WebSocket from "ws";
import { loadConfig } from "../src/config.js";
import { Services } from "../src/services.js";
import { startViewer, type Viewer } from "../src/viewer/server.js";
import { tempHome } from "./temp.js";

let home: { home: string; cleanup: () => void };
let services: Services;
let viewer: Viewer;
const signatures: string[] = [];

interface Reply {
  status: number;
  body: { error?: string; [k: string]: unknown };
  headers: Record<string, string | string[] | undefined>;
}

function call(method: string, path: string, options: { body?: string; headers?: Record<string, string>; token?: boolean } = {}): Promise<Reply> {
  const sep = path.includes("?") ? "&" : "?";
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port: viewer.port, method, path: options.token === false ? path : `${path}${sep}token=${viewer.token}`, headers: { "Content-Type": "application/json", ...options.headers } },
      (res) => {
        let text = "";
        res.on("data", (d: Buffer) => (text += d.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text.startsWith("{") ? JSON.parse(text) : { text }, headers: res.headers }));
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

before(async () => {
  home = tempHome("xmcp-viewer-api-");
  services = new Services(loadConfig({ home: home.home, tmuxSocket: `xmcp-viewer-api-${process.pid}` }));
  for (let i = 0; i < 120; i++) {
    signatures.push(services.registry.register({ signatureFields: { severity: "major", error_type: `E${i}`, context: "api", categories: [`c${i}`] }, fix: `fix ${i}${i === 7 ? " with a needle" : ""}` }).signature);
  }
  services.store.remember("notes", { query: "", key: "deploy the docs", value: "npm run docs:deploy" });
  const staging = services.store.createStaging("notes", "second version");
  services.store.activate("notes", staging, 1);
  viewer = await startViewer(services);
});

after(async () => {
  await viewer.close();
  await services.close();
  home.cleanup();
});

test("fixes are paged (50 a page, next offset), searched, shown with their history", async () => {
  const first = await call("GET", "/api/fixes");
  assert.equal(first.status, 200);
  assert.equal((first.body.items as unknown[]).length, 50);
  assert.equal(first.body.next, 50);
  const last = await call("GET", "/api/fixes?offset=100");
  assert.equal((last.body.items as unknown[]).length, 20);
  assert.equal(last.body.next, null);
  const found = await call("GET", "/api/fixes?q=NEEDLE");
  assert.deepEqual((found.body.items as Array<{ signature: string }>).map((f) => f.signature), [signatures[7]]);
  services.registry.reportOutcome(signatures[7]!, true);
  services.registry.reportOutcome(signatures[7]!, false, "Error: connect ECONNREFUSED 127.0.0.1:5432");
  const one = await call("GET", `/api/fixes/${signatures[7]}`);
  assert.equal(one.body.fix, "fix 7 with a needle");
  assert.equal((one.body.history as unknown[]).length, 1);
  assert.deepEqual([one.body.successes, one.body.failures], [1, 1]);
  assert.match(JSON.stringify(one.body.failed_on), /ECONNREFUSED/);
  assert.equal(first.headers["cache-control"], "no-store");
  assert.equal(first.headers["referrer-policy"], "no-referrer");
});

test("edit and forget go through the registry: the edit is redacted and kept in the history; forget removes it", async () => {
  const sig = signatures[3]!;
  const edited = await call("POST", `/api/fixes/${sig}/edit`, { body: JSON.stringify({ fix: "export TOKEN=ghp_abcdefghijklmnopqrstuvwxyz0123456789 then retry" }) });
  assert.equal(edited.status, 200);
  assert.doesNotMatch(String(edited.body.fix), /ghp_abcdef/);
  assert.equal(services.registry.lookupSignature(sig)?.fix, edited.body.fix);
  assert.equal(services.registry.history(sig).length, 2);
  const empty = await call("POST", `/api/fixes/${sig}/edit`, { body: JSON.stringify({ fix: "   " }) });
  assert.equal(empty.status, 400);
  assert.match(String(empty.body.error), /empty/);
  const forgot = await call("POST", `/api/fixes/${sig}/forget`, { body: "{}" });
  assert.deepEqual(forgot.body, { removed: 1 });
  assert.equal(services.registry.lookupSignature(sig), undefined);
  assert.equal((await call("GET", `/api/fixes/${sig}`)).status, 404);
  assert.equal((await call("POST", `/api/fixes/${sig}/edit`, { body: JSON.stringify({ fix: "x" }) })).status, 404);
});

test("a tensor shows its versions, requests and rows; rollback goes through the store and says why when it cannot", async () => {
  const t = await call("GET", "/api/tensors/notes");
  assert.equal(t.status, 200);
  assert.equal(t.body.active_version, 2);
  assert.deepEqual((t.body.versions as Array<{ version: number }>).map((v) => v.version).sort(), [1, 2]);
  const rolled = await call("POST", "/api/tensors/notes/rollback", { body: "{}" });
  assert.deepEqual(rolled.body, { from: 2, to: 1 });
  const again = await call("POST", "/api/tensors/notes/rollback", { body: "{}" });
  assert.equal(again.status, 409);
  assert.match(String(again.body.error), /no older version/);
  const rows = (await call("GET", "/api/tensors/notes")).body.rows as { items: Array<{ key: string }> };
  assert.equal(rows.items[0]?.key, "deploy the docs");
  assert.equal((await call("GET", "/api/tensors/nothing")).status, 404);
});

test("bad input is refused with one sentence: paging, names, bodies, methods, content types", async () => {
  for (const [method, path, status, body] of [
    ["GET", "/api/fixes?offset=-1", 400, undefined],
    ["GET", "/api/fixes?limit=5000", 400, undefined],
    ["GET", "/api/fixes/not-a-signature", 404, undefined],
    ["GET", "/api/sessions/bad%2Fname", 404, undefined],
    ["GET", "/api/sessions/%E0%A4%A", 400, undefined],
    ["GET", "/api/nothing", 404, undefined],
    ["DELETE", "/api/fixes", 405, undefined],
    ["POST", `/api/fixes/${signatures[5]}/edit`, 400, "{not json"],
    ["POST", `/api/fixes/${signatures[5]}/edit`, 400, JSON.stringify({ fix: "x".repeat(20_001) })],
    ["POST", `/api/fixes/${signatures[5]}/edit`, 400, JSON.stringify({ fix: "y".repeat(70_000) })],
  ] as const) {
    const r = await call(method, path, { body });
    assert.equal(r.status, status, `${method} ${path}: ${JSON.stringify(r.body)}`);
    assert.ok(typeof r.body.error === "string" && r.body.error.length < 200 && !/\n\s+at /.test(r.body.error), `${method} ${path}: ${r.body.error}`);
  }
  // A form post from another page cannot say it is JSON, and a page elsewhere is another origin.
  assert.equal((await call("POST", `/api/fixes/${signatures[5]}/forget`, { headers: { "Content-Type": "text/plain" }, body: "{}" })).status, 415);
  assert.equal((await call("POST", `/api/fixes/${signatures[5]}/forget`, { headers: { Origin: "http://evil.example" }, body: "{}" })).status, 403);
  assert.equal((await call("GET", "/api/fixes", { headers: { Host: `localhost:${viewer.port}` } })).status, 200);
  assert.equal((await call("GET", "/api/fixes", { headers: { Host: `127.0.0.1:${viewer.port + 1}` } })).status, 421);
  assert.equal((await call("GET", "/api/fixes", { token: false })).status, 401);
  assert.ok(services.registry.lookupSignature(signatures[5]!), "nothing refused was done");
});

test("a WebSocket from another origin is refused; one for a session that is not running is closed with the reason", async () => {
  const base = `ws://127.0.0.1:${viewer.port}/live?token=${viewer.token}`;
  const status = await new Promise<number>((resolve) => {
    const ws = new WebSocket(`${base}&session=x`, { headers: { Origin: "http://evil.example" } });
    ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
    ws.on("open", () => resolve(101));
  });
  assert.equal(status, 403);
  const bad = await new Promise<number>((resolve) => {
    const ws = new WebSocket(`${base}&session=${encodeURIComponent("a b")}`);
    ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
    ws.on("open", () => resolve(101));
  });
  assert.equal(bad, 400);
  const closed = await new Promise<{ code: number; reason: string }>((resolve) => {
    const ws = new WebSocket(`${base}&session=nothing-runs`);
    ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() }));
  });
  assert.equal(closed.code, 1011);
  assert.match(closed.reason, /cannot watch nothing-runs/);
});

test("without tmux the sessions page still answers: nothing runs", async () => {
  const bare = new Services(loadConfig({ home: home.home, tmuxBin: "/nonexistent/tmux", tmuxSocket: "xmcp-none" }));
  const other = await startViewer(bare);
  try {
    const r = await fetch(`http://127.0.0.1:${other.port}/api/sessions?token=${other.token}`);
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { items: [] });
  } finally {
    await other.close();
    await bare.close();
  }
});

test("the page and the browser libraries are served from the installed packages, with the token", async () => {
  const page = await call("GET", "/");
  assert.match(String(page.body.text), new RegExp(`app\\.js\\?token=${viewer.token}`));
  assert.match(String(page.headers["content-security-policy"]), /default-src 'none'/);
  for (const path of ["/app.js", "/app.css", "/assets/xterm.js", "/assets/xterm.css", "/assets/asciinema-player.js", "/assets/asciinema-player.css"]) {
    const r = await call("GET", path);
    assert.equal(r.status, 200, path);
    assert.ok(String(r.body.text).length > 100, path);
  }
  assert.equal((await call("GET", "/assets/../package.json")).status, 404);
});
