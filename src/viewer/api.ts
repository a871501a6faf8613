/**
 * The viewer's JSON API: paged reads of fixes, tensors and sessions, and the corrections people
 * make from the page (edit or forget a fix, roll a tensor back). Reads and writes go through the
 * same functions as the `list`/`show`/`forget`/`edit`/`rollback` commands and the MCP resources.
 */
import { RollbackError } from "../experience/store.js";
import { NAME_PATTERN, TENSOR_PATTERN } from "../names.js";
import { getFix, listFixes } from "../registry/browse.js";
import { FixInputError } from "../registry/registry.js";
import { SIGNATURE_RE } from "../registry/signature.js";
import type { Services } from "../services.js";
import { TerminalError } from "../tmux/errors.js";
import { TmuxCli } from "../tmux/tmux.js";
import { trailsDir } from "../config.js";
import { readCastText } from "../trail/cast.js";
import { listSessions, readSession } from "../trail/browse.js";
import { readCaptures, trailTip } from "../trail/read.js";
import { listRequests } from "../train/queue.js";

/** Items per page unless the page asks for fewer. */
export const PAGE = 50;
/** Steps per page of a session's timeline (each carries its screen). */
export const STEPS_PAGE = 20;
/** The longest recording sent to the page's player; a longer one is cut to its last events. */
export const MAX_CAST_CHARS = 8 * 1024 * 1024;

export interface Answer {
  status: number;
  /** JSON-serialisable, or a string sent as text (a recording). */
  body: unknown;
  type?: string;
}

export interface Call {
  method: string;
  /** Path segments after /api/, percent-decoded. */
  parts: string[];
  query: URLSearchParams;
  body: unknown;
}

/** An answer sent as text rather than JSON (a recording). */
class Text {
  constructor(
    readonly text: string,
    readonly type: string,
  ) {}
}

class Refused extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function pageOf(query: URLSearchParams, max: number): { offset: number; limit: number } {
  const number = (name: string, fallback: number, top: number) => {
    const raw = query.get(name);
    if (raw === null) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0 || n > top) throw new Refused(400, `${name} must be a whole number from 0 to ${top}`);
    return n;
  };
  return { offset: number("offset", 0, 1e9), limit: Math.max(1, number("limit", max, max)) };
}

/** One page of `items` read with one extra: `next` is the offset of the following page, or null. */
function paged<T>(items: T[], offset: number, limit: number): { items: T[]; next: number | null } {
  return { items: items.slice(0, limit), next: items.length > limit ? offset + limit : null };
}

function textField(body: unknown, name: string, max: number): string {
  const value = (body as Record<string, unknown> | null)?.[name];
  if (typeof value !== "string" || value.length > max) throw new Refused(400, `send {"${name}": "text"} of at most ${max} characters`);
  return value;
}

export class ViewerApi {
  private readonly tmux: TmuxCli;

  constructor(private readonly services: Services) {
    this.tmux = new TmuxCli({ socket: services.config.tmuxSocket, bin: services.config.tmuxBin });
  }

  async answer(call: Call): Promise<Answer> {
    try {
      const body = await this.route(call);
      return body instanceof Text ? { status: 200, body: body.text, type: body.type } : { status: 200, body };
    } catch (err) {
      if (err instanceof Refused) return { status: err.status, body: { error: err.message } };
      if (err instanceof FixInputError) return { status: 400, body: { error: err.message } };
      throw err;
    }
  }

  private async route({ method, parts, query, body }: Call): Promise<unknown> {
    const [kind, name, action] = parts;
    const get = method === "GET" && action === undefined;
    if (kind === "fixes" && name === undefined && method === "GET") return this.fixes(query);
    if (kind === "fixes" && name !== undefined && SIGNATURE_RE.test(name)) {
      if (get) return this.fix(name);
      if (method === "POST" && action === "edit") return this.editFix(name, textField(body, "fix", 20_000));
      if (method === "POST" && action === "forget") return { removed: this.services.registry.remove(name) };
    }
    if (kind === "tensors" && name === undefined && method === "GET") return this.tensors();
    if (kind === "tensors" && name !== undefined && TENSOR_PATTERN.test(name)) {
      if (get) return this.tensor(name, query);
      if (method === "POST" && action === "rollback") return this.rollback(name);
    }
    if (kind === "sessions" && name === undefined && method === "GET") return this.sessions();
    if (kind === "sessions" && name !== undefined && NAME_PATTERN.test(name) && method === "GET") {
      if (action === undefined) return this.session(name);
      if (action === "steps") return this.steps(name, query);
      if (action === "cast") return this.cast(name);
    }
    throw new Refused(404, "no such API call: the page uses /api/fixes, /api/tensors and /api/sessions");
  }

  // ---- fixes -----------------------------------------------------------------------------------

  private fixes(query: URLSearchParams) {
    const { offset, limit } = pageOf(query, PAGE);
    const text = (query.get("q") ?? "").slice(0, 200).trim();
    return paged(listFixes(this.services.db, { text: text || undefined, offset, limit: limit + 1 }), offset, limit);
  }

  private fix(signature: string) {
    const fix = getFix(this.services.db, signature);
    if (!fix) throw new Refused(404, `no fix ${signature}: it was forgotten or decayed away`);
    const registry = this.services.registry;
    return { ...fix, history: registry.history(signature), failed_on: registry.failedOn(signature) };
  }

  private editFix(signature: string, text: string) {
    const stored = this.services.registry.edit(signature, text);
    if (stored === undefined) throw new Refused(404, `no fix ${signature}: it was forgotten or decayed away`);
    return { fix: stored };
  }

  // ---- tensors ---------------------------------------------------------------------------------

  private tensors() {
    return { items: this.services.store.listTensors() };
  }

  private tensor(name: string, query: URLSearchParams) {
    const store = this.services.store;
    const versions = store.versions(name);
    if (versions.length === 0) throw new Refused(404, `no tensor ${name}`);
    const { offset, limit } = pageOf(query, PAGE);
    const parse = (t: string | null) => (t === null ? null : (JSON.parse(t) as unknown));
    const requests = listRequests(this.services.db, { tensor: name, limit: PAGE }).map((r) => ({
      ...r,
      gates: parse(r.gates),
      metrics: parse(r.metrics),
      gate_results: parse(r.gate_results),
    }));
    const rows = store.rows(name);
    return { name, active_version: store.activeVersion(name), versions, requests, rows_total: rows.length, rows: paged(rows.slice(offset, offset + limit + 1), offset, limit) };
  }

  private rollback(name: string) {
    try {
      return this.services.store.rollback(name);
    } catch (err) {
      // The store says why (no earlier version, no such tensor) in a sentence.
      if (err instanceof RollbackError) throw new Refused(409, err.message);
      throw err;
    }
  }

  // ---- sessions --------------------------------------------------------------------------------

  private async running(): Promise<Set<string>> {
    try {
      return new Set((await this.tmux.listSessions()).map((s) => s.name));
    } catch (err) {
      // Without tmux nothing runs: the recorded sessions are still worth showing.
      if (err instanceof TerminalError) return new Set();
      throw err;
    }
  }

  private async sessions() {
    const [stored, running] = await Promise.all([listSessions(this.services.config.home), this.running()]);
    const items = stored.map((s) => ({ ...s, running: running.has(s.name) }));
    // A running session with nothing recorded yet can still be watched live.
    for (const name of running) if (!stored.some((s) => s.name === name)) items.push({ name, steps: 0, last_step_at: null, cast_bytes: null, running: true });
    return { items };
  }

  private async session(name: string) {
    const [detail, running] = await Promise.all([readSession(this.services.config.home, name), this.running()]);
    if (!detail && !running.has(name)) throw new Refused(404, `no session ${name}`);
    return { name, running: running.has(name), steps: detail?.steps ?? 0, last_step_at: detail?.last_step_at ?? null, cast: detail?.cast ?? null, screen: detail?.screen ?? null };
  }

  /** A page of the session's steps, newest first, each with the screen captured after it. */
  private async steps(name: string, query: URLSearchParams) {
    const { offset, limit } = pageOf(query, STEPS_PAGE);
    const detail = await readSession(this.services.config.home, name);
    const commits = (detail?.commits ?? []).slice().reverse().slice(offset, offset + limit + 1);
    const page = paged(commits, offset, limit);
    const root = trailsDir(this.services.config.home);
    const tip = await trailTip(root);
    const screens = tip ? await readCaptures(root, tip, name, page.items.map((c) => c.seq)) : new Map<number, string>();
    return { ...page, total: detail?.steps ?? 0, items: page.items.map((c) => ({ ...c, screen: screens.get(c.seq) ?? null })) };
  }

  private cast(name: string): Text {
    const text = readCastText(this.services.config.home, name, MAX_CAST_CHARS);
    if (text === undefined) throw new Refused(404, `session ${name} has no recording`);
    return new Text(text, "application/x-asciicast");
  }
}
