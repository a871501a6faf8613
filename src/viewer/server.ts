/**
 * The viewer's HTTP and WebSocket server. It listens on 127.0.0.1 only and answers nothing without
 * the token it was started with (in the query: `?token=`), so another user of the machine or a web
 * page in the browser cannot read or change the store; a Host other than 127.0.0.1:port or
 * localhost:port is refused too (a DNS-rebinding page would send its own name), and so is a
 * WebSocket or a write from another origin.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { WebSocketServer } from "ws";
import { log } from "../log.js";
import { NAME_PATTERN } from "../names.js";
import type { Services } from "../services.js";
import { TmuxCli } from "../tmux/tmux.js";
import { ViewerApi } from "./api.js";
import { asset } from "./assets.js";
import { streamSession } from "./live.js";
import { pageHtml, PAGE_CSS, PAGE_JS } from "./page.js";

/** The largest request body accepted (an edited fix). */
const MAX_BODY = 64 * 1024;

export interface Viewer {
  /** The address to open, token included. */
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

function equalToken(given: string | null, token: string): boolean {
  if (given === null) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function readBody(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => {
      size += c.length;
      // Past the limit the rest is read and dropped, so the refusal still reaches the client.
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on("end", () => {
      if (size > MAX_BODY) return reject(new Error(`the body is over ${MAX_BODY / 1024} KiB: send a shorter fix`));
      const text = Buffer.concat(chunks).toString("utf8");
      try {
        resolve(text ? JSON.parse(text) : null);
      } catch {
        reject(new Error("the body is not JSON: send {\"fix\": \"text\"}"));
      }
    });
    req.on("error", reject);
  });
}

/** Start the viewer on 127.0.0.1 (port 0: a free one). */
export async function startViewer(services: Services, options: { port?: number; token?: string } = {}): Promise<Viewer> {
  const token = options.token ?? randomBytes(32).toString("base64url");
  const api = new ViewerApi(services);
  const tmux = new TmuxCli({ socket: services.config.tmuxSocket, bin: services.config.tmuxBin });
  const html = pageHtml(token);
  let port = 0;
  const hosts = () => new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  const origins = () => new Set([...hosts()].map((h) => `http://${h}`));

  /** Why the request is refused (status and sentence), or undefined when it may go on. */
  const refusal = (req: IncomingMessage, url: URL): [number, string] | undefined => {
    if (!hosts().has(req.headers.host ?? "")) return [421, "wrong Host: open the viewer at the 127.0.0.1 address it printed"];
    if (!equalToken(url.searchParams.get("token"), token)) return [401, "missing or wrong token: open the URL `experience-mcp ui` printed, token included"];
    const origin = req.headers.origin;
    if (origin !== undefined && !origins().has(origin)) return [403, "requests from other origins are refused"];
    return undefined;
  };

  const send = (res: ServerResponse, status: number, type: string, body: string | Buffer, cache = false) => {
    res.writeHead(status, {
      "Content-Type": type,
      "Cache-Control": cache ? "private, max-age=3600" : "no-store",
      // The token is in the URL: never hand it on in a Referer.
      "Referrer-Policy": "no-referrer",
      "X-Content-Type-Options": "nosniff",
      "X-Frame-Options": "DENY",
      // asciinema-player compiles its terminal emulator from WebAssembly.
      "Content-Security-Policy": `default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self' ws://127.0.0.1:${port} ws://localhost:${port}; frame-ancestors 'none'; base-uri 'none'; form-action 'none'`,
    });
    res.end(body);
  };
  const sendJson = (res: ServerResponse, status: number, value: unknown) => send(res, status, "application/json; charset=utf-8", JSON.stringify(value));

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const refused = refusal(req, url);
    if (refused) return sendJson(res, refused[0], { error: refused[1] });
    const path = url.pathname;
    if (req.method === "GET" && path === "/") return send(res, 200, "text/html; charset=utf-8", html);
    if (req.method === "GET" && path === "/app.js") return send(res, 200, "text/javascript; charset=utf-8", PAGE_JS);
    if (req.method === "GET" && path === "/app.css") return send(res, 200, "text/css; charset=utf-8", PAGE_CSS);
    const file = req.method === "GET" ? asset(path) : undefined;
    if (file) return send(res, 200, file.type, file.body, true);
    if (path.startsWith("/api/")) {
      if (req.method !== "GET" && req.method !== "POST") return sendJson(res, 405, { error: "use GET or POST" });
      // A write must say it is JSON: a plain HTML form from another page cannot.
      if (req.method === "POST" && !(req.headers["content-type"] ?? "").startsWith("application/json")) return sendJson(res, 415, { error: "send JSON (Content-Type: application/json)" });
      let parts: string[];
      try {
        parts = path.slice(5).split("/").map(decodeURIComponent);
      } catch {
        return sendJson(res, 400, { error: "bad percent-encoding in the path" });
      }
      let body: unknown = null;
      if (req.method === "POST") {
        try {
          body = await readBody(req);
        } catch (err) {
          return sendJson(res, 400, { error: (err as Error).message });
        }
      }
      const answer = await api.answer({ method: req.method, parts, query: url.searchParams, body });
      return typeof answer.body === "string" && answer.type
        ? send(res, answer.status, `${answer.type}; charset=utf-8`, answer.body)
        : sendJson(res, answer.status, answer.body);
    }
    return sendJson(res, 404, { error: "not found" });
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      log("warn", "viewer request failed", err);
      if (!res.headersSent) sendJson(res, 500, { error: "the viewer failed to answer; its log says why" });
      else res.destroy();
    });
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 });
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const refused = refusal(req, url) ?? (url.pathname !== "/live" ? [404, "not found"] : undefined);
    const session = url.searchParams.get("session") ?? "";
    const bad = refused ?? (NAME_PATTERN.test(session) ? undefined : ([400, "session must be a session name"] as [number, string]));
    if (bad) {
      socket.end(`HTTP/1.1 ${bad[0]} Refused\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n${bad[1]}\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      streamSession(ws, tmux, session).catch((err) => {
        log("debug", "live view failed", err);
        ws.close(1011, `cannot watch ${session}: ${(err as Error).message}`.slice(0, 120));
      });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        for (const ws of wss.clients) ws.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
