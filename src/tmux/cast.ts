/**
 * asciicast v2 recording of a session's output, so a run can be replayed with any asciinema
 * player: a JSON header line `{"version":2,"width","height","timestamp"}` and then one
 * `[seconds, "o", data]` line per output event. Writes are small synchronous appends: they keep
 * events in order and leave nothing pending that could hold the event loop open.
 */
import { closeSync, mkdirSync, openSync, readFileSync, existsSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";

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

  /** Record terminal output (already decoded text). */
  output(data: string): void {
    if (this.fd === undefined || data.length === 0) return;
    const seconds = Math.max(0, Math.round(Date.now() - this.startMs) / 1000);
    writeSync(this.fd, `${JSON.stringify([seconds, "o", data])}\n`);
  }

  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }
}
