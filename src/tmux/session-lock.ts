/**
 * A per-session lock shared by every process on this data directory, so two servers (or a server
 * and a harness run) never interleave their keystrokes in one terminal.
 *
 * A lock file, `<home>/locks/<session>.lock`, created with O_EXCL (atomic on a local filesystem)
 * and holding the owner's pid and host. A file whose owner is gone (same host, pid not alive) is
 * stale and taken over. Why not SQLite: the terminal layer has no database handle and must work
 * while the database is busy or read-only; a file is one syscall to take and to drop.
 */
import { randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import { linkSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeSync, closeSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { TerminalError } from "./errors.js";

/** How long a caller waits for another's lock before "session busy" (default). */
export const DEFAULT_LOCK_WAIT_MS = 10_000;
/** A lock file still empty after this long belongs to a holder that died while writing it. */
const EMPTY_STALE_MS = 5_000;
const RETRY_MS = 15;

interface Owner {
  pid: number;
  host: string;
}

function parseOwner(text: string): Owner | undefined {
  const [pid = "", host = ""] = text.split("\n");
  return /^\d+$/.test(pid) ? { pid: Number(pid), host } : undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

export class SessionLocks {
  private readonly dir: string;
  /** Wakes waiters in this process as soon as one of its own locks is released. */
  private readonly released = new EventEmitter();
  private readonly host = hostname();

  constructor(home: string, private readonly waitMs = DEFAULT_LOCK_WAIT_MS) {
    this.dir = join(home, "locks");
    this.released.setMaxListeners(0);
  }

  path(session: string): string {
    return join(this.dir, `${session}.lock`);
  }

  /** Take the lock, waiting up to waitMs; returns its release. */
  async acquire(session: string): Promise<() => void> {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const file = this.path(session);
    const token = `${process.pid}\n${this.host}\n${randomBytes(8).toString("hex")}\n`;
    const deadline = Date.now() + this.waitMs;
    for (;;) {
      if (this.tryCreate(file, token)) return () => this.release(session, file, token);
      const owner = this.clearIfStale(file);
      if (owner === "cleared") continue;
      if (Date.now() >= deadline) {
        const who = owner ? (owner.pid === process.pid ? "another call in this server" : `process ${owner.pid}`) : "another process";
        throw new TerminalError(
          "busy",
          `session ${session} is busy: ${who} has been typing into it for over ${this.waitMs} ms; try again when it is done, or use another session`,
        );
      }
      await this.nextChance(session, Math.min(RETRY_MS, deadline - Date.now()));
    }
  }

  private tryCreate(file: string, token: string): boolean {
    let fd: number;
    try {
      fd = openSync(file, "wx", 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
      throw err;
    }
    try {
      writeSync(fd, token);
    } finally {
      closeSync(fd);
    }
    return true;
  }

  /** Remove the lock file if its owner is gone; returns "cleared", or the live owner (if known). */
  private clearIfStale(file: string): "cleared" | Owner | undefined {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      return "cleared"; // released meanwhile
    }
    const owner = parseOwner(text);
    if (owner) {
      if (owner.host !== this.host || alive(owner.pid)) return owner;
    } else {
      // Being written right now, or its writer died before writing: only old empty files are stale.
      try {
        if (Date.now() - statSync(file).mtimeMs < EMPTY_STALE_MS) return undefined;
      } catch {
        return "cleared";
      }
    }
    // Move it aside, then check that what we moved is the stale file we read (another waiter may
    // have replaced it with a fresh lock in between); if not, put that one back.
    const aside = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.stale`;
    try {
      renameSync(file, aside);
    } catch {
      return "cleared";
    }
    if (readFileSync(aside, "utf8") !== text) {
      try {
        linkSync(aside, file);
      } catch {
        // A third caller took the lock in that instant: a race that needs a crashed holder and three
        // waiters within microseconds; the moved owner's release then finds no file of its own.
      }
    }
    rmSync(aside, { force: true });
    return "cleared";
  }

  private release(session: string, file: string, token: string): void {
    try {
      if (readFileSync(file, "utf8") === token) unlinkSync(file);
    } catch {
      // already gone
    }
    this.released.emit(session);
  }

  private nextChance(session: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.released.off(session, done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(1, ms));
      this.released.once(session, done);
    });
  }
}
