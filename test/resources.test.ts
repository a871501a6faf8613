import { test } from "node:test";
import assert from "node:assert/strict";
import { ResourceUpdatedNotificationSchema, type CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { openDatabase } from "../src/storage/db.js";
import { ExperienceStore } from "../src/experience/store.js";
import { FixRegistry } from "../src/registry/registry.js";
import { enqueue } from "../src/train/queue.js";
import { PAGE_SIZE } from "../src/resources/resources.js";
import { spawnClient } from "./spawn.js";
import { tempHome } from "./temp.js";

const TENSORS = 105;

function seed(home: string) {
  const db = openDatabase(home);
  try {
    const store = new ExperienceStore(db);
    for (let i = 0; i < TENSORS; i++) store.remember(`ns/t${String(i).padStart(3, "0")}`, { query: "", key: `key ${i}`, value: `value ${i}` });
    const registry = new FixRegistry(db);
    const a = registry.register({ error: "error TS2307: Cannot find module 'express' or its corresponding type declarations.", fix: "npm i -D @types/express", context: "tsc" });
    const b = registry.register({ error: "ModuleNotFoundError: No module named 'requests'", fix: "pip install requests", context: "python" });
    const request = enqueue(db, { tensor: "ns/t000", backend: "experience", gates: { min_accuracy: 0.5 }, examples: [{ input: "a", expected: "b" }] }).request;
    return { fixes: [a.signature, b.signature], request: request.id };
  } finally {
    db.close();
  }
}

function text(r: { contents: Array<Record<string, unknown>> }): string {
  const first = r.contents[0];
  return first && typeof first.text === "string" ? first.text : "";
}

test("resources over stdio: templates, paged list, read, not found (issue 13)", async () => {
  const { home, cleanup } = tempHome();
  const ids = seed(home);
  const { client, transport } = await spawnClient(home);
  try {
    assert.ok(client.getServerCapabilities()?.resources?.subscribe, "the server offers subscriptions");
    const { resourceTemplates } = await client.listResourceTemplates();
    assert.deepEqual(resourceTemplates.map((t) => t.uriTemplate).sort(), [
      "experience://fix/{signature}",
      "experience://request/{id}",
      "experience://session/{name}",
      "experience://session/{name}/cast",
      "experience://tensor/{name}",
    ]);

    const first = await client.listResources();
    assert.equal(first.resources.length, PAGE_SIZE);
    assert.ok(first.nextCursor, "a second page");
    const second = await client.listResources({ cursor: first.nextCursor });
    assert.equal(second.nextCursor, undefined);
    const uris = [...first.resources, ...second.resources].map((r) => r.uri);
    assert.equal(uris.length, 2 + TENSORS + 1);
    assert.equal(new Set(uris).size, uris.length, "no resource on two pages");
    for (const sig of ids.fixes) assert.ok(uris.includes(`experience://fix/${sig}`));
    assert.ok(uris.includes("experience://tensor/ns%2Ft104"));
    assert.ok(uris.includes(`experience://request/${ids.request}`));
    await assert.rejects(client.listResources({ cursor: "not-a-cursor" }), /invalid cursor/);

    const fix = JSON.parse(text(await client.readResource({ uri: `experience://fix/${ids.fixes[1]}` }))) as { fix: string; strength: number; history: Array<{ fix: string }> };
    assert.equal(fix.fix, "pip install requests");
    assert.deepEqual(fix.history.map((h) => h.fix), ["pip install requests"]);
    const tensor = JSON.parse(text(await client.readResource({ uri: "experience://tensor/ns%2Ft007" }))) as { name: string; active_version: number; versions: Array<{ status: string }>; rows: Array<{ key: string }> };
    assert.equal(tensor.name, "ns/t007");
    assert.deepEqual(tensor.versions.map((v) => v.status), ["active"]);
    assert.deepEqual(tensor.rows.map((r) => r.key), ["key 7"]);
    const request = JSON.parse(text(await client.readResource({ uri: `experience://request/${ids.request}` }))) as { status: string; gates: unknown };
    assert.equal(request.status, "queued");
    assert.deepEqual(request.gates, { min_accuracy: 0.5 });
    await assert.rejects(client.readResource({ uri: "experience://fix/0000000000000000" }), (err: Error & { code?: number }) => err.code === -32002 && /no fix 0000000000000000/.test(err.message));

    await assert.rejects(client.readResource({ uri: "experience://tensor/%E0%A4%A" }), (err: Error & { code?: number }) => err.code === -32002);
    await assert.rejects(client.readResource({ uri: "experience://session/no-such-session" }), (err: Error & { code?: number }) => err.code === -32002);

    // A tool result links to what it touched.
    const registered = (await client.callTool({ name: "register_fix", arguments: { error: "fatal: not a git repository (or any of the parent directories): .git", fix: "git init" } })) as CallToolResult;
    const link = registered.content.find((c) => c.type === "resource_link");
    assert.ok(link && link.type === "resource_link" && /^experience:\/\/fix\/[0-9a-f]{16}$/.test(link.uri), JSON.stringify(registered.content));
    assert.equal(JSON.parse(text(await client.readResource({ uri: link.uri }))).fix, "git init");
  } finally {
    await client.close();
    await transport.close();
    cleanup();
  }
});

test("a subscribed session: updated after send_text, from this server and from another process; read steps, screen, cast", async () => {
  const { home, cleanup } = tempHome();
  const a = await spawnClient(home);
  let b: Awaited<ReturnType<typeof spawnClient>> | undefined;
  try {
    const created = (await a.client.callTool({ name: "tmux_session", arguments: { action: "create", session: "res1" } })) as CallToolResult;
    assert.ok(created.content.some((c) => c.type === "resource_link" && c.uri === "experience://session/res1"));
    const updates: string[] = [];
    let wake = () => {};
    a.client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
      updates.push(n.params.uri);
      wake();
    });
    const updated = (uri: string, ms: number) =>
      new Promise<boolean>((resolve) => {
        const started = Date.now();
        const look = () => {
          if (updates.includes(uri)) return resolve(true);
          if (Date.now() - started > ms) return resolve(false);
          setTimeout(look, 20);
        };
        wake = look;
        look();
      });
    await a.client.subscribeResource({ uri: "experience://session/res1" });
    await a.client.subscribeResource({ uri: "experience://session/res1/cast" });
    assert.deepEqual(updates, [], "subscribing sends nothing by itself");

    const sent = (await a.client.callTool({ name: "send_text", arguments: { session: "res1", text: "echo resource-$((40+2))", enter: true } })) as CallToolResult;
    assert.ok(sent.content.some((c) => c.type === "resource_link" && c.uri === "experience://session/res1"));
    assert.ok(await updated("experience://session/res1", 3000), `updated after send_text: ${JSON.stringify(updates)}`);
    assert.ok(await updated("experience://session/res1/cast", 5000), `the recording grew: ${JSON.stringify(updates)}`);

    const session = JSON.parse(text(await a.client.readResource({ uri: "experience://session/res1" }))) as { steps: number; commits: Array<{ kind: string; payload: string }>; screen: string; cast: { uri: string } };
    assert.ok(session.steps >= 2);
    assert.deepEqual(session.commits.at(-1), { ...session.commits.at(-1), kind: "key", payload: "Enter" });
    assert.match(session.screen, /resource-42/);
    assert.equal(session.cast.uri, "experience://session/res1/cast");
    const cast = await a.client.readResource({ uri: "experience://session/res1/cast" });
    assert.equal(cast.contents[0]?.mimeType, "application/x-asciicast");
    assert.equal((JSON.parse(text(cast).split("\n")[0]!) as { version: number }).version, 2);

    // Steps another server process takes are seen by polling the trail.
    updates.length = 0;
    b = await spawnClient(home);
    const other = (await b.client.callTool({ name: "send_keys", arguments: { session: "res1", keys: ["Enter"] } })) as CallToolResult;
    assert.ok(!other.isError, JSON.stringify(other.content));
    assert.ok(await updated("experience://session/res1", 5000), `updated after another process's send_keys: ${JSON.stringify(updates)}`);

    await a.client.unsubscribeResource({ uri: "experience://session/res1" });
    await a.client.unsubscribeResource({ uri: "experience://session/res1/cast" });
    updates.length = 0;
    await a.client.callTool({ name: "send_keys", arguments: { session: "res1", keys: ["Enter"] } });
    assert.equal(await updated("experience://session/res1", 1500), false, "no updates after unsubscribing");
    await a.client.callTool({ name: "tmux_session", arguments: { action: "kill", session: "res1" } });
  } finally {
    await b?.client.close();
    await a.client.close();
    cleanup();
  }
});
