/**
 * What the server stores, as MCP resources: fixes, tensors (versions and rows), sessions (trail steps
 * and the last screen; the asciicast recording) and training requests. `resources/list` is paged
 * with a cursor; `resources/subscribe` on a session (or its recording) sends
 * `notifications/resources/updated` when it gets new steps (or output), whoever made them.
 * The read code is imported when first used, so registering costs the server's start-up nothing.
 * One file: listing, reading and subscribing share the page cursor, the URI parsing and the
 * subscription set, and the SDK wants them registered on the server together.
 */
import { ResourceTemplate, type McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import {
  ErrorCode,
  ListResourcesRequestSchema,
  McpError,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
  type ReadResourceResult,
  type Resource,
} from "@modelcontextprotocol/sdk/types.js";
import { log } from "../log.js";
import type { Services } from "../services.js";
import { APP_MIME_TYPE, REPLAY_APP_URI } from "../viewer/app.js";
import { RESOURCE_TEMPLATES, resourceUri, type ResourceKind } from "./uris.js";

/** Resources per `resources/list` page. */
export const PAGE_SIZE = 100;
/** Rows of a tensor's active version in its resource; `rows_total` says how many there are. */
export const TENSOR_ROWS = 200;
/** A recording longer than this is served as its header and its last lines. */
export const MAX_CAST_CHARS = 4 * 1024 * 1024;
/** How often subscribed sessions are checked for steps made by other processes. */
export const POLL_MS = 1000;

const NOT_FOUND = -32002; // MCP's "resource not found"
const JSON_TYPE = "application/json";
const LISTED: readonly ResourceKind[] = ["fix", "tensor", "session", "request"];

const DESCRIPTIONS: Record<ResourceKind, string> = {
  fix: "A registered fix: the error it answers, its strength and outcomes, every fix given for it",
  tensor: "An experience tensor: its versions (which is active) and the rows of the active version",
  session: "A terminal session: its trail of keystroke steps and the screen after the last one",
  cast: "A terminal session's asciicast v2 recording",
  request: "A training request: status, gates, metrics and gate results",
};

interface Cursor {
  k: number;
  o: number;
}

function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString("base64url");
}

function decodeCursor(text: string | undefined): Cursor {
  if (text === undefined) return { k: 0, o: 0 };
  try {
    const c = JSON.parse(Buffer.from(text, "base64url").toString("utf8")) as Cursor;
    if (Number.isInteger(c.k) && Number.isInteger(c.o) && c.k >= 0 && c.k < LISTED.length && c.o >= 0) return c;
  } catch {
    // answered below
  }
  throw new McpError(ErrorCode.InvalidParams, "invalid cursor: pass the nextCursor of the previous resources/list answer, or none for the first page");
}

function json(uri: URL, value: unknown): ReadResourceResult {
  return { contents: [{ uri: uri.href, mimeType: JSON_TYPE, text: JSON.stringify(value, null, 2) }] };
}

function notFound(what: string): never {
  // Not an McpError: its message would carry "MCP error -32002:", which the client adds again.
  throw Object.assign(new Error(`no ${what}: resources/list shows what there is`), { code: NOT_FOUND });
}

function firstLine(text: string, max = 80): string {
  const line = text.split("\n", 1)[0] ?? "";
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

export class Resources {
  private readonly subscribed = new Set<string>();
  private timer?: NodeJS.Timeout;
  private lastTip: string | null | undefined;
  private castSeen = new Map<string, string>();
  private running: Promise<void> = Promise.resolve();
  private queued?: Promise<void>;

  constructor(
    private readonly server: McpServer,
    private readonly services: Services,
  ) {}

  register(): void {
    const read = (kind: ResourceKind, handler: (uri: URL, name: string) => Promise<ReadResourceResult>) =>
      this.server.registerResource(
        kind,
        new ResourceTemplate(RESOURCE_TEMPLATES[kind], { list: undefined }),
        { description: DESCRIPTIONS[kind], mimeType: kind === "cast" ? "application/x-asciicast" : JSON_TYPE },
        (uri, variables) => {
          const raw = String([variables[Object.keys(variables)[0]!]].flat()[0]);
          let name: string;
          try {
            name = decodeURIComponent(raw);
          } catch {
            return notFound(`${kind} named ${JSON.stringify(raw.slice(0, 80))} (a bad percent-encoding)`);
          }
          return handler(uri, name);
        },
      );
    read("fix", (uri, signature) => this.readFix(uri, signature));
    read("tensor", (uri, name) => this.readTensor(uri, name));
    read("cast", (uri, name) => this.readCast(uri, name));
    read("session", (uri, name) => this.readSession(uri, name));
    read("request", (uri, id) => this.readRequest(uri, id));
    // The session replay as an MCP App, which replay_session's `_meta.ui.resourceUri` names.
    this.server.registerResource(
      "session-replay-app",
      REPLAY_APP_URI,
      { description: "MCP App: replays a session's recording inline (the result of replay_session)", mimeType: APP_MIME_TYPE },
      async (uri) => {
        const { replayAppHtml } = await import("../viewer/app.js");
        return { contents: [{ uri: uri.href, mimeType: APP_MIME_TYPE, text: replayAppHtml(), _meta: { ui: { prefersBorder: true } } }] };
      },
    );
    const s = this.server.server;
    s.registerCapabilities({ resources: { subscribe: true } });
    // Replaces McpServer's list handler, which has no paging.
    s.setRequestHandler(ListResourcesRequestSchema, (request) => this.list(request.params?.cursor));
    s.setRequestHandler(SubscribeRequestSchema, async (request) => {
      this.subscribed.add(new URL(request.params.uri).href);
      this.schedule();
      // What the session looks like now is the baseline: answer once it is taken.
      await this.poll();
      return {};
    });
    s.setRequestHandler(UnsubscribeRequestSchema, (request) => {
      this.subscribed.delete(new URL(request.params.uri).href);
      this.schedule();
      return {};
    });
    this.services.onTouched((uri) => {
      // A session (and its recording) is checked now rather than at the next tick; the check says
      // whether it changed. Fixes, tensors and requests change only through tools: say so at once.
      if (uri.startsWith("experience://session/")) {
        if (this.timer) void this.poll();
      } else if (this.subscribed.has(uri)) this.notify(uri);
    });
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.subscribed.clear();
  }

  // ---- listing ---------------------------------------------------------------------------------

  private async list(cursorText: string | undefined): Promise<{ resources: Resource[]; nextCursor?: string }> {
    let { k, o } = decodeCursor(cursorText);
    const resources: Resource[] = [];
    while (k < LISTED.length) {
      const want = PAGE_SIZE - resources.length;
      // One more than fits tells whether this kind goes on past the page.
      const page = await this.listKind(LISTED[k]!, o, want + 1);
      resources.push(...page.slice(0, want));
      if (page.length > want) return { resources, nextCursor: encodeCursor({ k, o: o + want }) };
      k++;
      o = 0;
      if (resources.length === PAGE_SIZE) return k < LISTED.length ? { resources, nextCursor: encodeCursor({ k, o }) } : { resources };
    }
    return { resources };
  }

  private async listKind(kind: ResourceKind, offset: number, limit: number): Promise<Resource[]> {
    const { db, store, config } = this.services;
    const entry = (k: ResourceKind, name: string, title: string, description?: string): Resource => ({
      uri: resourceUri(k, name),
      name: `${k} ${name}`,
      title,
      mimeType: k === "cast" ? "application/x-asciicast" : JSON_TYPE,
      ...(description ? { description } : {}),
    });
    if (kind === "fix") {
      const { listFixes } = await import("../registry/browse.js");
      return listFixes(db, { offset, limit }).map((f) => entry("fix", f.signature, `${f.error_type}: ${firstLine(f.fix)}`, `strength ${f.strength.toFixed(2)}, ${f.successes} worked, ${f.failures} failed`));
    }
    if (kind === "tensor") {
      return store
        .listTensors()
        .slice(offset, offset + limit)
        .map((t) => entry("tensor", t.name, t.name, `${t.rows} rows in active version ${t.active_version}`));
    }
    if (kind === "request") {
      const { listRequests } = await import("../train/queue.js");
      return listRequests(db, { offset, limit }).map((r) => entry("request", r.id, `${r.tensor}: ${r.status}`));
    }
    const { listSessions } = await import("../trail/browse.js");
    return (await listSessions(config.home))
      .flatMap((s) => [
        entry("session", s.name, s.name, `${s.steps} steps`),
        ...(s.cast_bytes === null ? [] : [entry("cast", s.name, `${s.name} recording`, `${s.cast_bytes} bytes`)]),
      ])
      .slice(offset, offset + limit);
  }

  // ---- reading ---------------------------------------------------------------------------------

  private async readFix(uri: URL, signature: string): Promise<ReadResourceResult> {
    const { getFix } = await import("../registry/browse.js");
    const fix = getFix(this.services.db, signature) ?? notFound(`fix ${signature}`);
    return json(uri, { ...fix, history: this.services.registry.history(signature) });
  }

  private async readTensor(uri: URL, name: string): Promise<ReadResourceResult> {
    const store = this.services.store;
    const versions = store.versions(name);
    if (versions.length === 0) notFound(`tensor ${name}`);
    const rows = store.rows(name);
    return json(uri, { name, active_version: store.activeVersion(name), versions, rows_total: rows.length, rows: rows.slice(0, TENSOR_ROWS) });
  }

  private async readSession(uri: URL, name: string): Promise<ReadResourceResult> {
    const { readSession } = await import("../trail/browse.js");
    const session = (await readSession(this.services.config.home, name)) ?? notFound(`session ${name}`);
    const { cast, ...rest } = session;
    return json(uri, { ...rest, cast: cast ? { uri: resourceUri("cast", name), width: cast.width, height: cast.height, timestamp: cast.timestamp } : null });
  }

  private async readCast(uri: URL, name: string): Promise<ReadResourceResult> {
    const { readCastText } = await import("../trail/cast.js");
    const { NAME_PATTERN } = await import("../names.js");
    const text = (NAME_PATTERN.test(name) ? readCastText(this.services.config.home, name, MAX_CAST_CHARS) : undefined) ?? notFound(`recording of session ${name}`);
    return { contents: [{ uri: uri.href, mimeType: "application/x-asciicast", text }] };
  }

  private async readRequest(uri: URL, id: string): Promise<ReadResourceResult> {
    const { getRequest } = await import("../train/queue.js");
    const r = getRequest(this.services.db, id) ?? notFound(`training request ${id}`);
    const parse = (t: string | null) => (t === null ? null : (JSON.parse(t) as unknown));
    return json(uri, { ...r, gates: parse(r.gates), metrics: parse(r.metrics), gate_results: parse(r.gate_results) });
  }

  // ---- subscriptions ---------------------------------------------------------------------------

  private notify(uri: string): void {
    if (!this.server.isConnected()) return;
    this.server.server.sendResourceUpdated({ uri }).catch((err) => log("debug", "resource update not sent", err));
  }

  /** Polls while a session or a recording is subscribed: other processes may type into it. */
  private schedule(): void {
    const watching = [...this.subscribed].some((u) => u.startsWith("experience://session/"));
    if (watching && !this.timer) {
      this.timer = setInterval(() => void this.poll(), POLL_MS);
      this.timer.unref();
    } else if (!watching && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
      this.lastTip = undefined;
      this.castSeen.clear();
    }
  }

  /**
   * One check at a time, in order; asking while one waits to start joins that one. Resolves once
   * a check that started after the call has run.
   */
  private poll(): Promise<void> {
    if (this.queued) return this.queued;
    const next = this.running
      .then(() => {
        this.queued = undefined;
        return this.check();
      })
      .catch((err) => log("debug", "resource poll failed", err));
    this.queued = next;
    this.running = next;
    return next;
  }

  private async check(): Promise<void> {
    const sessions = [...this.subscribed].map((u) => /^experience:\/\/session\/([^/]+)(\/cast)?$/.exec(u)).filter((m): m is RegExpExecArray => m !== null);
    if (sessions.length === 0) return;
    const home = this.services.config.home;
    const { trailsDir } = await import("../config.js");
    const { readSessionCommits, trailTip } = await import("../trail/read.js");
    const { castPath } = await import("../trail/cast.js");
    const { statSync } = await import("node:fs");
    const root = trailsDir(home);
    const tip = await trailTip(root);
    const first = this.lastTip === undefined;
    for (const m of sessions) {
      const name = decodeURIComponent(m[1]!);
      if (m[2]) {
        let seen = "";
        try {
          const st = statSync(castPath(home, name));
          seen = `${st.size}:${st.mtimeMs}`;
        } catch {
          // no recording yet
        }
        const before = this.castSeen.get(name);
        this.castSeen.set(name, seen);
        if (before !== undefined && before !== seen) this.notify(m[0]);
      } else if (!first && tip && tip !== this.lastTip && (await readSessionCommits(root, tip, name, this.lastTip ?? "")).length > 0) {
        this.notify(m[0]);
      }
    }
    this.lastTip = tip;
  }
}
