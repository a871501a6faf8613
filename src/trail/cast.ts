/**
 * asciicast v2 recording of a session's output, so a run can be replayed with any asciinema
 * player: a JSON header line `{"version":2,"width","height","timestamp"}` and then one
 * `[seconds, "o", data]` line per output event. Writes are small synchronous appends: they keep
 * events in order and leave nothing pending that could hold the event loop open.
 *
 * Output is redacted before it is written. A secret can straddle output events (text is typed and
 * echoed in 16-character chunks), so events are held until their line ends (or a private key
 * block its END line) and the line is redacted whole: events are written as they came when it
 * holds no secret, as one event at the time of the last when it does.
 */
import { closeSync, mkdirSync, openSync, readFileSync, existsSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import { redact } from "../storage/redact.js";

/** Output held back waiting for its line's end is written anyway past this many characters. */
const MAX_PENDING_CHARS = 64 * 1024;

export interface CastHeader {
  version: 2;
  width: number;
  height: number;
  /** Unix time in seconds when the recording started. */
  timestamp: number;
  title?: string;
  env?: Record<string, string>;
}

export function castDir(home: string): string {
  return join(home, "casts");
}

export function castPath(home: string, session: string): string {
  return join(castDir(home), `${session}.cast`);
}

/** The header of an existing recording, or undefined when there is none (or it is unreadable). */
export function readCastHeader(path: string): CastHeader | undefined {
  if (!existsSync(path)) return undefined;
  const first = readFileSync(path, "utf8").split("\n", 1)[0];
  if (!first) return undefined;
  try {
    const header = JSON.parse(first) as Partial<CastHeader>;
    return header.version === 2 && typeof header.timestamp === "number" ? (header as CastHeader) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A session's recording as text, at most `maxChars`: a longer one is still a valid recording, its
 * header and then the last whole events that fit. undefined when there is none.
 */
export function readCastText(home: string, session: string, maxChars: number): string | undefined {
  const path = castPath(home, session);
  if (!existsSync(path)) return undefined;
  const text = readFileSync(path, "utf8");
  if (text.length <= maxChars) return text;
  const header = text.slice(0, text.indexOf("\n") + 1);
  const tail = text.slice(text.length - (maxChars - header.length));
  return header + tail.slice(tail.indexOf("\n") + 1);
}

export class CastRecorder {
  private fd: number | undefined;
  /** Milliseconds since the epoch that t=0 of the recording stands for. */
  private readonly startMs: number;

  /**
   * Start a recording at `path`. `fresh` starts a new file (a new session); otherwise an existing
   * recording of the same session is continued (a server restart re-attaching to it), with its
   * times still counted from its own header.
   */
  constructor(
    readonly path: string,
    size: { width: number; height: number; title?: string },
    fresh: boolean,
  ) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const existing = fresh ? undefined : readCastHeader(path);
    if (existing) {
      this.startMs = existing.timestamp * 1000;
      this.fd = openSync(path, "a", 0o600);
    } else {
      this.startMs = Date.now();
      this.fd = openSync(path, "w", 0o600);
      const header: CastHeader = {
        version: 2,
        width: size.width,
        height: size.height,
        timestamp: Math.floor(this.startMs / 1000),
        ...(size.title ? { title: size.title } : {}),
        env: { TERM: "screen" },
      };
      writeSync(this.fd, `${JSON.stringify(header)}\n`);
    }
  }

  /** Output not written yet: [seconds, text]. */
  private pending: Array<[number, string]> = [];
  private pendingChars = 0;

  /** Record terminal output (already decoded text). */
  output(data: string): void {
    if (this.fd === undefined || data.length === 0) return;
    const seconds = Math.max(0, Math.round(Date.now() - this.startMs) / 1000);
    this.pending.push([seconds, data]);
    this.pendingChars += data.length;
    if (data.includes("\n") || this.pendingChars > MAX_PENDING_CHARS) this.flush(this.pendingChars > MAX_PENDING_CHARS);
  }

  /** Write the pending output up to its last complete line (all of it with `all`), redacted. */
  private flush(all: boolean): void {
    if (this.fd === undefined || this.pending.length === 0) return;
    const text = this.pending.map((e) => e[1]).join("");
    let cut = all ? text.length : text.lastIndexOf("\n") + 1;
    if (!all) {
      // Keep a private key block whose END line has not come yet together with it.
      const begin = text.lastIndexOf("-----BEGIN ", cut);
      if (begin >= 0 && /^-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY/.test(text.slice(begin, begin + 64)) && !text.includes("-----END ", begin)) {
        cut = Math.min(cut, text.lastIndexOf("\n", begin) + 1);
      }
    }
    if (cut === 0) return;
    const out: Array<[number, string]> = [];
    const rest: Array<[number, string]> = [];
    let at = 0;
    for (const [t, d] of this.pending) {
      if (at >= cut) rest.push([t, d]);
      else if (at + d.length <= cut) out.push([t, d]);
      else {
        out.push([t, d.slice(0, cut - at)]);
        rest.push([t, d.slice(cut - at)]);
      }
      at += d.length;
    }
    this.pending = rest;
    this.pendingChars = text.length - cut;
    const head = text.slice(0, cut);
    const clean = redact(head);
    const events = clean === head ? out : [[out[out.length - 1]![0], clean] as [number, string]];
    writeSync(this.fd, events.map((e) => `${JSON.stringify([e[0], "o", e[1]])}\n`).join(""));
  }

  close(): void {
    if (this.fd === undefined) return;
    this.flush(true);
    closeSync(this.fd);
    this.fd = undefined;
  }
}
